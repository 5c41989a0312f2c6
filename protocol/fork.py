"""Fork proofs: two entries that show an author signed conflicting histories.

A feed is append-only, so an honest author signs exactly one entry per
sequence number. Two valid entries prove a fork when either

* ``same-seq``: they have the same author and seq but different ids, or
* ``backlink``: they have the same author, ``b.seq == a.seq + 1``, and
  ``b.prev != id(a)`` (``b`` extends some other entry at ``a.seq``).

A proof is self-contained: anyone can check it with no other data, and it is
at most about 128 KiB. Wire form: ``dcbor(["samoorg/fork-proof/v1", a, b])``
with ``a`` and ``b`` the raw signed entries, ordered so that ``a.seq <= b.seq``
and, at equal seq, ``a < b`` bytewise. Ordering makes the encoding unique.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from samoorg.protocol import dcbor
from samoorg.protocol.entry import MAX_ENTRY_SIZE, Entry, decode_entry
from samoorg.protocol.errors import BadForkProof, RemoteProtocolError

FORK_PROOF_TAG: Final = "samoorg/fork-proof/v1"
MAX_FORK_PROOF_SIZE: Final = 2 * MAX_ENTRY_SIZE + 64


@dataclass(frozen=True, slots=True)
class ForkProof:
    """Two raw entries that together prove their author forked the feed."""

    a: bytes
    b: bytes

    @classmethod
    def of(cls, first: Entry, second: Entry) -> ForkProof:
        """Build a proof in canonical order from two conflicting entries (not checked)."""
        x, y = sorted((first, second), key=lambda e: (e.seq, e.raw))
        return cls(x.raw, y.raw)

    def verify(self) -> tuple[Entry, Entry]:
        """Raise :class:`BadForkProof` unless this proves a fork; return both entries."""
        try:
            a = decode_entry(self.a)
            b = decode_entry(self.b)
        except RemoteProtocolError as exc:
            raise BadForkProof(f"expected two valid entries, found {exc.name}: {exc}") from None
        if a.author != b.author:
            raise BadForkProof("expected two entries by the same author, found two authors")
        if (a.seq, a.raw) > (b.seq, b.raw):
            raise BadForkProof("expected entries in canonical order (seq, then bytes)")
        if a.seq == b.seq:
            if a.id == b.id:
                raise BadForkProof(
                    f"expected two different entries at seq {a.seq}, found one twice"
                )
        elif b.seq == a.seq + 1:
            if b.prev == a.id:
                raise BadForkProof(
                    f"expected seq {b.seq} to link to another entry than seq {a.seq}, "
                    "found it linked"
                )
        else:
            raise BadForkProof(
                f"expected equal or consecutive sequence numbers, found {a.seq} and {b.seq}"
            )
        return a, b

    @property
    def author(self) -> bytes:
        """The forking author's public key (valid only on a verified proof)."""
        return decode_entry(self.a, verify_signature=False).author

    def to_bytes(self) -> bytes:
        """The canonical wire encoding."""
        return dcbor.encode([FORK_PROOF_TAG, self.a, self.b])

    @classmethod
    def from_bytes(cls, data: bytes) -> ForkProof:
        """Decode and verify a proof; raises only :class:`RemoteProtocolError` subclasses."""
        try:
            value = dcbor.decode(data, max_size=MAX_FORK_PROOF_SIZE)
        except dcbor.MalformedCBOR as exc:
            raise BadForkProof(str(exc)) from None
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
