"""Fork proofs: two entries that show an author broke the rules of their feed.

A feed is append-only, so an honest author signs exactly one entry per
sequence number, each linking to the entry it signed before. Two entries by
one author prove misbehaviour in one of three forms (``docs/protocol.md``
§4.3):

* ``same-seq``: both signatures valid, same seq, different ids;
* ``backlink``: both signatures valid, ``b.seq == a.seq + 1`` and
  ``b.prev != id(a)`` (``b`` extends some other entry at ``a.seq``);
* ``signed-over``: ``b``'s signature valid, ``a``'s not, ``b.seq == a.seq + 1``
  and ``b.prev == id(a)``: the author signed an entry that commits to an
  entry they never signed (§4.1: ``a`` is still valid, vouched for by ``b``).

The first two prove a fork. The third is what a node can show when a fork
involves an entry only vouched for by a later one (no two entries with valid
signatures may conflict then); it also stands on its own.

A proof is self-contained: anyone can check it with no other data, and it is
at most :data:`MAX_FORK_PROOF_SIZE` bytes (about 128 KiB), nested at most
:data:`MAX_FORK_PROOF_DEPTH` deep. Whatever the bytes, decoding gives a proof
or :class:`BadForkProof`, the size and depth limits included.

**The cut** (:attr:`ForkProof.cut`, ``docs/protocol.md`` §4.4). A same-seq
proof whose two entries link to the same predecessor *pins* the fork: both
histories are the one chain ending at that predecessor (hash links), then
differ at ``a.seq``. Its cut is ``a.seq``: entries of the feed before it are
the common prefix every node holding that far holds. Any other proof shows a
conflict but not where the histories part (they may part anywhere before it),
so its cut is 1: nothing of the feed is known to be common. A node uses the
lowest cut of the proofs it knows.

Wire form: ``dcbor(["samoorg/fork-proof/v1", a, b])``
with ``a`` and ``b`` the raw signed entries, ordered so that ``a.seq <= b.seq``
and, at equal seq, ``a < b`` bytewise. Ordering makes the encoding unique.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from samoorg.protocol import dcbor
from samoorg.protocol.entry import MAX_ENTRY_SIZE, Entry, decode_entry
from samoorg.protocol.errors import BadForkProof, BadSignature, RemoteProtocolError

FORK_PROOF_TAG: Final = "samoorg/fork-proof/v1"
MAX_FORK_PROOF_SIZE: Final = 2 * MAX_ENTRY_SIZE + 64
"""Largest encoded proof (two entries of at most 64 KiB, plus the array and the tag)."""
MAX_FORK_PROOF_DEPTH: Final = 2
"""Nesting of a proof, counted as in :mod:`~samoorg.protocol.dcbor`: the array, then its items.
The entries are byte strings, decoded on their own with the entry limits."""


@dataclass(frozen=True, slots=True)
class ForkProof:
    """Two raw entries that together prove their author forked the feed or signed over an entry
    they never signed (the three forms of the module docstring)."""

    a: bytes
    b: bytes

    @classmethod
    def of(cls, first: Entry, second: Entry) -> ForkProof:
        """Build a proof in canonical order from two entries (not checked: see :meth:`verify`)."""
        x, y = sorted((first, second), key=lambda e: (e.seq, e.raw))
        return cls(x.raw, y.raw)

    def verify(self) -> tuple[Entry, Entry]:
        """Raise :class:`BadForkProof` unless this proves misbehaviour; return both entries."""
        try:
            a = decode_entry(self.a, verify_signature=False)
            b = decode_entry(self.b, verify_signature=False)
        except RemoteProtocolError as exc:
            raise BadForkProof(f"expected two valid entries, found {exc.name}: {exc}") from None
        if a.author != b.author:
            raise BadForkProof("expected two entries by the same author, found two authors")
        if (a.seq, a.raw) > (b.seq, b.raw):
            raise BadForkProof("expected entries in canonical order (seq, then bytes)")
        if b.seq not in (a.seq, a.seq + 1):
            raise BadForkProof(
                f"expected equal or consecutive sequence numbers, found {a.seq} and {b.seq}"
            )
        _check_signature(b, "second")
        if b.seq == a.seq + 1 and b.prev == a.id:
            # signed-over: b links to a, so a must lack a valid signature.
            try:
                a.verify()
            except BadSignature:
                return a, b
            raise BadForkProof(
                f"expected seq {b.seq} to link to another entry than seq {a.seq}, "
                f"or seq {a.seq} to carry an invalid signature, found a valid link"
            )
        _check_signature(a, "first")
        if a.seq == b.seq and a.id == b.id:
            raise BadForkProof(f"expected two different entries at seq {a.seq}, found one twice")
        return a, b

    @property
    def author(self) -> bytes:
        """The forking author's public key (valid only on a verified proof)."""
        return decode_entry(self.a, verify_signature=False).author

    @property
    def cut(self) -> int:
        """The first seq of the author's feed this proof leaves in doubt (see the module docstring).

        ``a.seq`` for a pinned same-seq proof (both entries link to the same
        predecessor), 1 for every other proof. Valid only on a verified proof.
        """
        a = decode_entry(self.a, verify_signature=False)
        b = decode_entry(self.b, verify_signature=False)
        return a.seq if a.seq == b.seq and a.prev == b.prev else 1

    @property
    def anchor(self) -> bytes | None:
        """The id of the last common entry (seq ``cut - 1``) of a pinned proof, else ``None``."""
        if self.cut == 1:
            return None
        return decode_entry(self.a, verify_signature=False).prev

    def to_bytes(self) -> bytes:
        """The canonical wire encoding."""
        return dcbor.encode([FORK_PROOF_TAG, self.a, self.b])

    @classmethod
    def from_bytes(cls, data: bytes) -> ForkProof:
        """Decode and verify a proof; raises :class:`BadForkProof` for anything else.

        Every refusal is ``BadForkProof``, an oversized or too deeply nested
        proof included (§4.3): the name says which object was bad.
        """
        try:
            value = dcbor.decode(data, max_size=MAX_FORK_PROOF_SIZE, max_depth=MAX_FORK_PROOF_DEPTH)
        except RemoteProtocolError as exc:
            raise BadForkProof(f"expected a fork proof, found {exc.name}: {exc}") from None
        if (
            type(value) is not list
            or len(value) != 3
            or value[0] != FORK_PROOF_TAG
            or type(value[1]) is not bytes
            or type(value[2]) is not bytes
        ):
            raise BadForkProof(f'expected ["{FORK_PROOF_TAG}", bytes, bytes], found another shape')
        proof = cls(value[1], value[2])
        proof.verify()
        return proof


def _check_signature(entry: Entry, which: str) -> None:
    try:
        entry.verify()
    except BadSignature as exc:
        raise BadForkProof(
            f"expected a valid signature on the {which} entry, found: {exc}"
        ) from None
