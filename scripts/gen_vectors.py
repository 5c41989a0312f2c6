"""Write the protocol test vectors to ``tests/vectors/*.json`` (``make vectors``).

Everything is deterministic: keys come from fixed seeds, timestamps are fixed,
and Ed25519 signatures are deterministic, so running this twice gives the same
bytes (``tests/test_vectors.py`` checks that the committed files match).

The files are for a second implementation to check itself against; the
conventions are written into each file. Cases that must fail carry the
expected error name from ``docs/protocol.md`` §6.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

from samoorg.protocol import dcbor
from samoorg.protocol.bundle import MAGIC, MAX_RECORD_SIZE, Record, RecordType, encode_bundle
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import (
    MAX_ENTRY_SIZE,
    MAX_SEQ,
    MAX_TIMESTAMP,
    SIGNING_DOMAIN,
    Entry,
    create_entry,
    decode_entry,
)
from samoorg.protocol.errors import ProtocolError
from samoorg.protocol.feed import FeedHead, check_extends
from samoorg.protocol.fork import FORK_PROOF_TAG, ForkProof
from samoorg.protocol.ids import peer_id

OUT = Path(__file__).resolve().parents[1] / "tests" / "vectors"
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z, in milliseconds
ORDER_L = 2**252 + 27742317777372353535851937790883648493  # the Ed25519 group order
IDENTITY_POINT = bytes([1]) + bytes(31)

CONVENTIONS = {
    "bytes": "byte strings are lowercase hex",
    "body": 'JSON form of the body map: a CBOR byte string is {"$bytes": "<hex>"}; '
    "integers are exact and may exceed 2**53",
    "errors": "error names are those of docs/protocol.md section 6",
}


def seed(label: str) -> bytes:
    """The 32-byte Ed25519 seed of a named test key."""
    return hashlib.sha256(b"samoorg-vectors/v1:" + label.encode()).digest()


def key(label: str) -> Signer:
    return Signer(seed(label))


def as_json(value: dcbor.Value) -> Any:
    """The JSON form of a CBOR value (byte strings tagged as $bytes)."""
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


def head(major: int, argument: int, width: int | None = None) -> bytes:
    """A CBOR head; ``width`` forces a (non-shortest) argument size in bytes."""
    if width is None:
        if argument < 24:
            return bytes([major << 5 | argument])
        width = next(w for w in (1, 2, 4, 8) if argument < 1 << (8 * w))
    code = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | code]) + argument.to_bytes(width, "big")


def signed(who: Signer, fields: bytes, count: int = 7) -> bytes:
    """An entry from already-encoded unsigned ``fields`` (without the array head).

    The signature is valid over the signing input a decoder would compute by
    slicing, so these entries fail only for the reason their name gives.
    """
    unsigned_head = head(4, count)
    signature = who.sign(SIGNING_DOMAIN + unsigned_head + fields)
    return head(4, count + 1) + fields + b"\x58\x40" + signature


def enc(*values: dcbor.Value) -> bytes:
    return b"".join(dcbor.encode(v) for v in values)


# -- entries -----------------------------------------------------------------


def valid_entry(name: str, label: str, entry: Entry) -> dict[str, Any]:
    return {
        "name": name,
        "seed": seed(label).hex(),
        "public_key": entry.author.hex(),
        "peer_id": peer_id(entry.author),
        "version": 1,
        "seq": entry.seq,
        "prev": entry.prev.hex() if entry.prev else None,
        "timestamp": entry.timestamp,
        "kind": entry.kind,
        "body": as_json(dict(entry.body)),
        "signing_input": entry.signing_input.hex(),
        "signature": entry.signature.hex(),
        "entry": entry.raw.hex(),
        "id": entry.id.hex(),
    }


def valid_entries() -> tuple[list[dict[str, Any]], dict[str, Entry]]:
    alice = key("alice")
    made: dict[str, Entry] = {}
    every_type: dict[str, dcbor.Value] = {
        "int": [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1],
        "neg": [-1, -24, -25, -256, -257, -(2**64)],
        "bytes": [b"", b"\x00\xff"],
        "text": ["", "ü", "水", "𐅑"],
        "simple": [False, True, None],
        "nested": {"list": [[], [[1]]], "map": {"": {}}},
    }
    key_order: dict[str, dcbor.Value] = {"b": 1, "a": 2, "aa": 3, "é": 4, "": 5, "z": 6, "ab": 7}
    contents: list[tuple[str, dict[str, dcbor.Value]]] = [
        ("post", {}),
        ("post", {"text": "hello, world"}),
        ("test.all-types_1", every_type),
        ("test.key-order", key_order),
    ]
    chain: list[Entry] = []
    for seq, (kind, body) in enumerate(contents, start=1):
        prev = chain[-1].id if chain else None
        stamp = T0 + 1000 * (seq - 1)
        chain.append(create_entry(alice, seq=seq, prev=prev, timestamp=stamp, kind=kind, body=body))
    first, second, all_types, ordered = chain
    bob = key("bob")
    extremes = create_entry(
        bob, seq=MAX_SEQ, prev=bytes(32), timestamp=MAX_TIMESTAMP, kind="a.b-c_d9", body={"x": 1}
    )

    def sized(fill: int) -> Entry:
        return create_entry(
            bob, seq=1, prev=None, timestamp=T0, kind="blob", body={"b": b"\x5a" * fill}
        )

    biggest = sized(MAX_ENTRY_SIZE - len(sized(0).raw) - 2)
    assert len(biggest.raw) == MAX_ENTRY_SIZE
    cases = [
        ("first entry of a feed, empty body", "alice", first),
        ("second entry links to the first", "alice", second),
        ("every value type of the data model", "alice", all_types),
        ("map keys in deterministic order", "alice", ordered),
        ("largest seq and timestamp", "bob", extremes),
        ("exactly 65536 bytes", "bob", biggest),
    ]
    made.update({"first": first, "second": second, "biggest": biggest})
    return [valid_entry(name, label, entry) for name, label, entry in cases], made


def invalid_entries(made: dict[str, Entry]) -> list[dict[str, Any]]:
    alice, mallory = key("alice"), key("mallory")
    first, second = made["first"], made["second"]
    author = alice.public_key
    # The unsigned fields of the first entry, each encoded on its own.
    version, who, seq1, prev1, stamp, kind, body = (
        enc(1),
        enc(author),
        enc(1),
        enc(None),
        enc(T0),
        enc("post"),
        enc({}),
    )
    cases: list[tuple[str, bytes, str]] = []

    def add(name: str, raw: bytes, error: str) -> None:
        cases.append((name, raw, error))

    # Structure and field types.
    add("empty input", b"", "MalformedEntry")
    add("a map, not an array", enc({"version": 1}), "MalformedEntry")
    add("seven elements", enc([1, author, 1, None, T0, "post", {}]), "MalformedEntry")
    add(
        "nine elements",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + body + enc(0), 8),
        "MalformedEntry",
    )
    add(
        "author of 31 bytes",
        signed(alice, version + enc(author[:31]) + seq1 + prev1 + stamp + kind + body),
        "MalformedEntry",
    )
    add(
        "seq 0",
        signed(alice, version + who + enc(0) + prev1 + stamp + kind + body),
        "MalformedEntry",
    )
    add(
        "seq 2**53",
        signed(alice, version + who + enc(2**53) + enc(bytes(32)) + stamp + kind + body),
        "MalformedEntry",
    )
    add(
        "prev present at seq 1",
        signed(alice, version + who + seq1 + enc(bytes(32)) + stamp + kind + body),
        "MalformedEntry",
    )
    add(
        "prev missing at seq 2",
        signed(alice, version + who + enc(2) + prev1 + stamp + kind + body),
        "MalformedEntry",
    )
    add(
        "prev of 31 bytes",
        signed(alice, version + who + enc(2) + enc(bytes(31)) + stamp + kind + body),
        "MalformedEntry",
    )
    add(
        "negative timestamp",
        signed(alice, version + who + seq1 + prev1 + enc(-1) + kind + body),
        "MalformedEntry",
    )
    add(
        "upper-case kind",
        signed(alice, version + who + seq1 + prev1 + stamp + enc("Post") + body),
        "MalformedEntry",
    )
    add(
        "kind of 65 characters",
        signed(alice, version + who + seq1 + prev1 + stamp + enc("k" * 65) + body),
        "MalformedEntry",
    )
    add(
        "body is an array",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + enc([])),
        "MalformedEntry",
    )
    add(
        "signature of 63 bytes",
        enc([1, author, 1, None, T0, "post", {}, bytes(63)]),
        "MalformedEntry",
    )
    add("truncated by one byte", first.raw[:-1], "MalformedEntry")
    # Valid CBOR, but not the deterministic encoding (each validly signed).
    add(
        "seq with a two-byte head",
        signed(alice, version + who + head(0, 1, 1) + prev1 + stamp + kind + body),
        "MalformedEntry",
    )
    add(
        "kind length with a one-byte head",
        signed(alice, version + who + seq1 + prev1 + stamp + head(3, 4, 1) + b"post" + body),
        "MalformedEntry",
    )
    add(
        "body keys out of order",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + b"\xa2" + enc("b", 1, "a", 2)),
        "MalformedEntry",
    )
    add(
        "body keys sorted by text, not encoding",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + b"\xa2" + enc("aa", 1, "b", 2)),
        "MalformedEntry",
    )
    add(
        "duplicate body key",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + b"\xa2" + enc("a", 1, "a", 2)),
        "MalformedEntry",
    )
    add(
        "indefinite-length body map",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + b"\xbf\xff"),
        "MalformedEntry",
    )
    add(
        "indefinite-length kind",
        signed(
            alice, version + who + seq1 + prev1 + stamp + b"\x7f" + enc("post") + b"\xff" + body
        ),
        "MalformedEntry",
    )
    add(
        "tagged author (tag 24)",
        signed(alice, version + b"\xd8\x18" + who + seq1 + prev1 + stamp + kind + body),
        "MalformedEntry",
    )
    add("self-described entry (tag 55799)", b"\xd9\xd9\xf7" + first.raw, "MalformedEntry")
    add(
        "float timestamp",
        signed(
            alice,
            version + who + seq1 + prev1 + b"\xfb" + struct.pack(">d", float(T0)) + kind + body,
        ),
        "MalformedEntry",
    )
    add(
        "integer body key",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + b"\xa1\x01\x01"),
        "MalformedEntry",
    )
    add("trailing byte", first.raw + b"\x00", "MalformedEntry")
    # Versions.
    add(
        "version 2",
        signed(alice, enc(2) + who + seq1 + prev1 + stamp + kind + body),
        "UnsupportedVersion",
    )
    add(
        "version 0",
        signed(alice, enc(0) + who + seq1 + prev1 + stamp + kind + body),
        "UnsupportedVersion",
    )
    add("version 2 with another layout", enc([2, "anything"]), "UnsupportedVersion")
    # Limits.
    add("65537 bytes", made["biggest"].raw + b"\x00", "TooLarge")
    too_deep = b"\xa1" + enc("x") + b"\x81" * 15 + b"\x00"  # lists at levels 3..17
    add(
        "body nested 18 levels deep",
        signed(alice, version + who + seq1 + prev1 + stamp + kind + too_deep),
        "TooLarge",
    )
    # Signatures.
    add("last signature bit flipped", first.raw[:-1] + bytes([first.raw[-1] ^ 1]), "BadSignature")
    add(
        "signed by another key",
        signed(mallory, version + who + seq1 + prev1 + stamp + kind + body),
        "BadSignature",
    )
    unsigned = b"\x87" + version + who + seq1 + prev1 + stamp + kind + body
    add(
        "signed without the domain prefix",
        b"\x88" + unsigned[1:] + b"\x58\x40" + alice.sign(unsigned),
        "BadSignature",
    )
    add("signature of the previous entry", second.raw[:-64] + first.signature, "BadSignature")
    s_value = int.from_bytes(first.signature[32:], "little")
    malleable = first.signature[:32] + (s_value + ORDER_L).to_bytes(32, "little")
    add("S replaced by S + L (malleability)", first.raw[:-64] + malleable, "BadSignature")
    small = IDENTITY_POINT
    add(
        "small-order author, R = identity, S = 0",
        enc([1, small, 1, None, T0, "post", {}, small + bytes(32)]),
        "BadSignature",
    )
    return [{"name": n, "entry": raw.hex(), "error": e} for n, raw, e in cases]


# -- feeds and fork proofs -----------------------------------------------------


def feed_scenarios() -> list[dict[str, Any]]:
    carol = key("carol")
    chain: list[Entry] = []
    prev = None
    for seq in range(1, 4):
        entry = create_entry(
            carol, seq=seq, prev=prev, timestamp=T0 + seq, kind="post", body={"n": seq}
        )
        chain.append(entry)
        prev = entry.id
    e1, e2, e3 = chain
    e2x = create_entry(
        carol, seq=2, prev=e1.id, timestamp=T0 + 99, kind="post", body={"n": "other"}
    )
    e3x = create_entry(carol, seq=3, prev=e2x.id, timestamp=T0 + 100, kind="post", body={})
    e1x = create_entry(carol, seq=1, prev=None, timestamp=T0, kind="post", body={"restart": True})
    scenarios = [
        ("a linear feed, then duplicates", [e1, e2, e3, e2, e1]),
        ("a new feed must start at seq 1", [e2]),
        ("a gap is refused", [e1, e3]),
        ("two entries at seq 2: same-seq fork", [e1, e2, e2x]),
        ("seq 3 extends another seq 2: backlink fork", [e1, e2, e3x]),
        ("two entries at seq 1", [e1, e1x]),
        ("the fork is found below the head", [e1, e2, e3, e2x]),
    ]
    return [{"name": name, "steps": run_feed(entries)} for name, entries in scenarios]


def run_feed(entries: list[Entry]) -> list[dict[str, Any]]:
    """Apply ``entries`` in order to an empty feed, recording what happens at each step."""
    held: list[Entry] = []
    steps: list[dict[str, Any]] = []
    for entry in entries:
        current = FeedHead(held[-1].author, held[-1].seq, held[-1].id) if held else None
        step: dict[str, Any] = {"entry": entry.raw.hex()}
        try:
            placement = check_extends(
                current, entry, lambda s: held[s - 1] if s <= len(held) else None
            )
        except ProtocolError as exc:
            step["expect"] = exc.name
            proof = getattr(exc, "proof", None)
            step["proof"] = proof.to_bytes().hex() if proof is not None else None
        else:
            step["expect"] = placement.value
            if placement.value == "next":
                held.append(entry)
        steps.append(step)
    return steps


def fork_proofs() -> dict[str, list[dict[str, Any]]]:
    dave, erin = key("dave"), key("erin")
    d1 = create_entry(dave, seq=1, prev=None, timestamp=T0, kind="post", body={})
    d2 = create_entry(dave, seq=2, prev=d1.id, timestamp=T0 + 1, kind="post", body={})
    d2x = create_entry(dave, seq=2, prev=d1.id, timestamp=T0 + 2, kind="post", body={"x": 1})
    d3x = create_entry(dave, seq=3, prev=d2x.id, timestamp=T0 + 3, kind="post", body={})
    d4 = create_entry(dave, seq=4, prev=d3x.id, timestamp=T0 + 4, kind="post", body={})
    e1 = create_entry(erin, seq=1, prev=None, timestamp=T0, kind="post", body={})
    same_seq, backlink = ForkProof.of(d2, d2x), ForkProof.of(d2, d3x)
    # Dave signs #3 over a #2 he never signed (a garbage signature): signed-over.
    garbage = bytes([1]) * 64
    u2 = create_entry(dave, seq=2, prev=d1.id, timestamp=T0 + 5, kind="post", body={"u": 1})
    u2 = decode_entry(u2.raw[:-64] + garbage, verify_signature=False)
    u3 = create_entry(dave, seq=3, prev=u2.id, timestamp=T0 + 6, kind="post", body={})
    u3_forged = decode_entry(u3.raw[:-64] + garbage, verify_signature=False)
    signed_over = ForkProof.of(u2, u3)

    def wire(a: bytes, b: bytes, tag: str = FORK_PROOF_TAG) -> str:
        return dcbor.encode([tag, a, b]).hex()

    valid = [
        {
            "name": "same-seq",
            "proof": same_seq.to_bytes().hex(),
            "author": peer_id(dave.public_key),
            "seqs": [2, 2],
        },
        {
            "name": "backlink",
            "proof": backlink.to_bytes().hex(),
            "author": peer_id(dave.public_key),
            "seqs": [2, 3],
        },
        {
            "name": "signed-over",
            "proof": signed_over.to_bytes().hex(),
            "author": peer_id(dave.public_key),
            "seqs": [2, 3],
        },
    ]
    broken_entry = d2x.raw[:-1] + bytes([d2x.raw[-1] ^ 1])
    invalid = [
        ("the same entry twice", wire(d2.raw, d2.raw)),
        ("consecutive entries that link", wire(d1.raw, d2.raw)),
        ("two authors", wire(*sorted([d1.raw, e1.raw]))),
        ("seq distance 2", wire(d2x.raw, d4.raw)),
        ("wrong order", wire(same_seq.b, same_seq.a)),
        ("unknown tag", wire(same_seq.a, same_seq.b, "samoorg/fork-proof/v2")),
        ("two elements", dcbor.encode([FORK_PROOF_TAG, d2.raw]).hex()),
        ("an entry with a bad signature", wire(*sorted([d2.raw, broken_entry]))),
        ("non-canonical array head", "9803" + same_seq.to_bytes()[1:].hex()),
        ("signed-over, but the second signature is invalid too", wire(u2.raw, u3_forged.raw)),
        ("an invalid signature, linked from a seq-distance-2 entry", wire(u2.raw, d4.raw)),
        ("an invalid first signature that the second does not link to", wire(u2.raw, d3x.raw)),
    ]
    return {
        "valid": valid,
        "invalid": [{"name": n, "proof": p, "error": "BadForkProof"} for n, p in invalid],
    }


# -- bundles -------------------------------------------------------------------


def bundles() -> dict[str, list[dict[str, Any]]]:
    frank = key("frank")
    f1 = create_entry(frank, seq=1, prev=None, timestamp=T0, kind="post", body={"hi": True})
    f2 = create_entry(frank, seq=2, prev=f1.id, timestamp=T0 + 1, kind="post", body={})
    records = [Record(RecordType.ENTRY, f1.raw), Record(RecordType.ENTRY, f2.raw)]
    two = encode_bundle(records)

    def framed(body: bytes, count: int) -> bytes:
        return body + b"Z" + struct.pack(">I", count) + hashlib.sha256(body).digest()

    def as_records(items: list[Record]) -> list[dict[str, str]]:
        return [{"type": chr(r.type), "payload": r.payload.hex()} for r in items]

    valid = [
        {"name": "empty bundle", "bundle": encode_bundle([]).hex(), "records": []},
        {"name": "two entries", "bundle": two.hex(), "records": as_records(records)},
    ]
    invalid = [
        ("empty file", b""),
        ("wrong magic", b"SAMOORG-BUNDLE/2\n" + two[len(MAGIC) :]),
        ("truncated in a record", two[: len(MAGIC) + 10]),
        ("truncated in the trailer", two[:-1]),
        ("no trailer", two[: -(1 + 4 + 32)]),
        ("checksum mismatch", two[:-1] + bytes([two[-1] ^ 1])),
        ("record count mismatch", framed(two[: -(1 + 4 + 32)], 3)),
        ("bytes after the trailer", two + b"\n"),
        ("unknown record type", framed(MAGIC + b"X" + struct.pack(">I", 0), 1)),
        ("record longer than the limit", MAGIC + b"E" + struct.pack(">I", MAX_RECORD_SIZE + 1)),
    ]
    return {
        "valid": valid,
        "invalid": [{"name": n, "bundle": b.hex(), "error": "BadBundle"} for n, b in invalid],
    }


# -- closing help requests and initiatives (section 8.5, rule 6) ------------------


class _Feed:
    """One author's feed, written in order with explicit timestamps."""

    def __init__(self, label: str) -> None:
        self.signer = key(label)
        self.entries: list[Entry] = []

    def write(self, at: int, kind: str, body: dict[str, dcbor.Value]) -> Entry:
        last = self.entries[-1] if self.entries else None
        entry = create_entry(
            self.signer,
            seq=len(self.entries) + 1,
            prev=last.id if last else None,
            timestamp=T0 + at,
            kind=kind,
            body=body,
        )
        self.entries.append(entry)
        return entry


def _closing_case(name: str, entries: list[Entry]) -> dict[str, Any]:
    """What every node holding ``entries`` (in any order) derives about closings."""
    from samoorg.crdt.framework.index import EntryIndex
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.pledges import INITIATIVE, INTEND, REQUEST

    views = Views(EntryIndex(entries))
    pledges = views.pledges
    appeals = [a for kind in (REQUEST, INITIATIVE) for a in pledges.appeals(kind)]
    outcomes = [pledges.pledge(e.id) for e in entries if e.kind == INTEND]
    return {
        "name": name,
        "entries": [e.raw.hex() for e in entries],
        "expected": {
            "closed": {
                a.id.hex(): a.closed.id.hex() if a.closed else None
                for a in sorted(appeals, key=lambda a: a.id)
            },
            "pledges": {o.id.hex(): o.state for o in outcomes if o is not None},
            "void": {k.hex(): v.code.value for k, v in sorted(views.invalid().items())},
            "waiting": [i.hex() for i in pledges.waiting_closings()],
            "digest": views.digests()["pledges"],
        },
    }


def closings() -> dict[str, Any]:
    """Scenarios for ``help.close`` and ``initiative.close``."""
    alice, bob, carol = _Feed("alice"), _Feed("bob"), _Feed("carol")
    eur = {"amount": 5000, "currency": "EUR"}
    request = alice.write(1000, "help.request", {**eur, "reason": "rent", "monthly": False})
    kept = bob.write(2000, "pledge.intend", {**eur, "request": request.id})
    commit = bob.write(3000, "pledge.commit", {"pledge": kept.id})
    loose = carol.write(2500, "pledge.intend", {**eur, "request": request.id})
    close = alice.write(4000, "help.close", {"request": request.id, "note": "solved"})
    released = [request, kept, commit, loose, close]

    dave, erin, fay = _Feed("dave"), _Feed("erin"), _Feed("fay")
    goal = {"goal": 9000, "currency": "EUR", "title": "a well"}
    initiative = dave.write(1000, "initiative.propose", goal)
    early = erin.write(2000, "pledge.intend", {**eur, "initiative": initiative.id})
    foreign = fay.write(2500, "initiative.close", {"initiative": initiative.id})
    ended = dave.write(3000, "initiative.close", {"initiative": initiative.id})
    again = dave.write(3500, "initiative.close", {"initiative": initiative.id})
    late_commit = erin.write(4000, "pledge.commit", {"pledge": early.id})
    late_intend = fay.write(4000, "pledge.intend", {**eur, "initiative": initiative.id})
    rules = [initiative, early, foreign, ended, again, late_commit, late_intend]

    gus = _Feed("gus")
    other = gus.write(1000, "help.request", {**eur, "reason": "food"})
    wrong_kind = gus.write(2000, "initiative.close", {"initiative": other.id})
    unheld = gus.write(3000, "help.close", {"request": bytes(32)})
    malformed = gus.write(4000, "help.close", {"request": b"\x01" * 31})
    broken = gus.write(5000, "help.request", {**eur})
    on_broken = gus.write(6000, "help.close", {"request": broken.id})
    odd = [other, wrong_kind, unheld, malformed, broken, on_broken]
    return {
        "description": "Closing help requests and initiatives (section 8.5 rule 6, section "
        "8.7). Every delivery order of a case's entries must give 'expected': 'closed' maps "
        "each held request or initiative to the entry that closed it (or null), 'pledges' "
        "each intention to its state, 'void' every void entry to its reason, 'waiting' lists "
        "the closings whose target is not held, and 'digest' "
        "is the pledges state digest.",
        "conventions": {
            "bytes": "byte strings are lowercase hex; entries are whole signed entries (§2)",
            "seeds": "keys are derived from labels as in entries.json",
        },
        "cases": [
            _closing_case("a closed request releases intentions, keeps commitments", released),
            _closing_case("only the author's first closing counts", rules),
            _closing_case("wrong kind, not held, malformed, invalid target", odd),
        ],
    }


# -- output ----------------------------------------------------------------------


def build() -> dict[str, Any]:
    """Every vector file's content, by file name."""
    valid, made = valid_entries()
    return {
        "entries.json": {
            "description": "Signed entries (docs/protocol.md sections 2-3, 6).",
            "conventions": CONVENTIONS,
            "valid": valid,
            "invalid": invalid_entries(made),
        },
        "feeds.json": {
            "description": "Feed validation (section 4): apply each scenario's entries in order "
            "to an empty feed. 'next' appends, 'duplicate' changes nothing, an error name "
            "changes nothing; ForkDetected and BrokenBacklink carry the expected fork proof.",
            "conventions": CONVENTIONS,
            "scenarios": feed_scenarios(),
        },
        "fork_proofs.json": {
            "description": "Fork proofs (section 4.3), all three forms, and non-proofs.",
            "conventions": CONVENTIONS,
            **fork_proofs(),
        },
        "bundles.json": {
            "description": "Bundle files (section 5): framing, count and checksum.",
            "conventions": CONVENTIONS,
            **bundles(),
        },
        "pledge_closes.json": closings(),
    }


def render(content: Any) -> str:
    """The exact text written for one file."""
    return json.dumps(content, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, content in build().items():
        (OUT / name).write_text(render(content), encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
