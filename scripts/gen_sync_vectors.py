"""Write ``tests/vectors/sync_frames.json``: replication test vectors (docs/protocol.md §7.11).

Usage: ``.venv/bin/python scripts/gen_sync_vectors.py`` from the repository root.

The output is deterministic (fixed keys and timestamps; Ed25519 signatures are
deterministic), and ``tests/test_sync_vectors.py`` checks that the committed
file equals what this script builds. Messages are written as JSON objects: a
``type`` (the §7.3 message name) plus its fields, byte strings in hex.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from samoorg.protocol import dcbor  # noqa: E402
from samoorg.protocol.errors import ProtocolError  # noqa: E402
from samoorg.protocol.fork import FORK_PROOF_TAG, MAX_FORK_PROOF_SIZE, ForkProof  # noqa: E402
from samoorg.protocol.framing import END, NEED_DATA, FrameDecoder, encode_frame  # noqa: E402
from samoorg.protocol.sync import Closed, Event, SyncSession  # noqa: E402
from samoorg.protocol.sync_messages import (  # noqa: E402
    PROTOCOL_VERSION,
    Ack,
    Batch,
    CaughtUp,
    Entries,
    Fork,
    Head,
    Hello,
    Message,
    Want,
    decode_message,
    encode_message,
)
from tests.sync_fixtures import make_feed, signer  # noqa: E402

OUTPUT = ROOT / "tests" / "vectors" / "sync_frames.json"

# -- messages as JSON --------------------------------------------------------------


def _head_json(head: Head) -> dict[str, Any]:
    return {"author": head.author.hex(), "seq": head.seq, "id": head.id.hex() if head.id else None}


def _head(value: dict[str, Any]) -> Head:
    return Head(
        bytes.fromhex(value["author"]),
        value["seq"],
        bytes.fromhex(value["id"]) if value["id"] is not None else None,
    )


def message_json(message: Message | Event) -> dict[str, Any]:
    """A message (or ``Closed``) as a JSON object."""
    if isinstance(message, Hello):
        return {
            "type": "hello",
            "version": message.version,
            "credit": message.credit,
            "live": message.live,
            "heads": [_head_json(h) for h in message.heads],
            "forks": [a.hex() for a in message.forks],
        }
    if isinstance(message, Entries | Batch):
        return {"type": "entries", "entries": [raw.hex() for raw in message.raws]}
    if isinstance(message, Fork):
        return {"type": "fork", "proof": message.proof.to_bytes().hex()}
    if isinstance(message, Ack):
        return {"type": "ack", "count": message.count}
    if isinstance(message, CaughtUp):
        return {"type": "caught-up"}
    if isinstance(message, Want):
        return {"type": "want", "heads": [_head_json(h) for h in message.heads]}
    assert isinstance(message, Closed)
    return {"type": "closed"}


def message_from_json(value: dict[str, Any]) -> Message:
    """Inverse of :func:`message_json` for messages."""
    kind = value["type"]
    if kind == "hello":
        return Hello(
            value["version"],
            value["credit"],
            value["live"],
            tuple(_head(h) for h in value["heads"]),
            tuple(bytes.fromhex(a) for a in value["forks"]),
        )
    if kind == "entries":
        return Entries(tuple(bytes.fromhex(raw) for raw in value["entries"]))
    if kind == "fork":
        return Fork(ForkProof.from_bytes(bytes.fromhex(value["proof"])))
    if kind == "ack":
        return Ack(value["count"])
    if kind == "caught-up":
        return CaughtUp()
    assert kind == "want", kind
    return Want(tuple(_head(h) for h in value["heads"]))


def run_session(our_hello: Message, data: bytes, *, eof: bool) -> tuple[list[Event], str | None]:
    """What a session that sent ``our_hello`` yields for received ``data``."""
    session = SyncSession()
    session.send(our_hello)
    events: list[Event] = []
    try:
        session.receive_data(data)
        if eof:
            session.receive_data(b"")
        while (event := session.next_event()) is not NEED_DATA:
            assert not isinstance(event, type(NEED_DATA))
            events.append(event)
            if isinstance(event, Closed):
                break
    except ProtocolError as exc:
        return events, exc.name
    return events, None


def decode_frame(data: bytes) -> tuple[Message | None, str | None]:
    """Decode one frame followed by end of stream: the message, or the error name."""
    decoder = FrameDecoder()
    try:
        decoder.receive_data(data)
        decoder.receive_data(b"")
        payload = decoder.next_frame()
        assert payload is not END
        assert isinstance(payload, bytes)
        message = decode_message(payload)
    except ProtocolError as exc:
        return None, exc.name
    return message, None


# -- the vectors -------------------------------------------------------------------


def _frame(*fields: dcbor.Value) -> bytes:
    return encode_frame(dcbor.encode(list(fields)))


def build() -> dict[str, Any]:
    """Every vector, as the JSON document to write."""
    alice, bob, xavier = signer("alice"), signer("bob"), signer("xavier")
    a_feed, b_feed = make_feed(alice, 3), make_feed(bob, 2)
    x_feed = make_feed(xavier, 2)
    x_branch = make_feed(xavier, 1, start=x_feed[0], tag="other")
    proof = ForkProof.of(x_feed[1], x_branch[0])
    first, second = sorted((alice.public_key, bob.public_key))
    both = (Head(first, 0, None), Head(second, 0, None))
    a_head = Head(alice.public_key, 3, a_feed[2].id)

    valid: list[tuple[str, Message]] = [
        ("hello, nothing wanted", Hello(PROTOCOL_VERSION, 8, False, ())),
        (
            "hello, live, heads and forks",
            Hello(
                PROTOCOL_VERSION,
                64,
                True,
                tuple(sorted((a_head, Head(bob.public_key, 0, None)), key=lambda h: h.author)),
                (xavier.public_key,),
            ),
        ),
        ("entries, one run", Entries(tuple(e.raw for e in a_feed))),
        ("entries, two runs", Entries(tuple(e.raw for e in a_feed[:2] + b_feed))),
        ("fork", Fork(proof)),
        ("ack 1", Ack(1)),
        ("ack 300 (two-byte integer)", Ack(300)),
        ("caught-up", CaughtUp()),
        ("want", Want((a_head,))),
    ]

    raw_a = [e.raw for e in a_feed]
    invalid: list[tuple[str, bytes]] = [
        ("length 0", b"\0\0\0\0"),
        ("length above 1 MiB, rejected from the header alone", struct.pack(">I", (1 << 20) + 1)),
        ("stream ends inside a frame", struct.pack(">I", 10) + b"\x81\x63abc"),
        ("stream ends after 1 byte of the length", b"\0"),
        ("stream ends after 3 bytes of the length", b"\0\0\0"),
        ("payload is not CBOR", encode_frame(b"\xff")),
        ("non-canonical integer head", encode_frame(b"\x82\x63ack\x18\x01")),
        ("trailing byte after the message", encode_frame(dcbor.encode(["caught-up"]) + b"\0")),
        ("not an array", encode_frame(dcbor.encode("hello"))),
        ("unknown message name", _frame("bye")),
        ("caught-up with a field", _frame("caught-up", 1)),
        ("hello with version 2", _frame("hello", 2, 8, False, [], [])),
        ("hello with version 2 and another shape", _frame("hello", 2)),
        ("hello with credit 0", _frame("hello", 1, 0, False, [], [])),
        ("hello with credit 65", _frame("hello", 1, 65, False, [], [])),
        (
            "hello with heads out of order",
            _frame("hello", 1, 8, False, [[second, 0, None], [first, 0, None]], []),
        ),
        (
            "hello with a head at seq 0 carrying an id",
            _frame("hello", 1, 8, False, [[first, 0, bytes(32)]], []),
        ),
        (
            "hello with a head at seq 3 without id",
            _frame("hello", 1, 8, False, [[first, 3, None]], []),
        ),
        ("hello nested too deep", _frame("hello", 1, 8, False, [[first, [0], None]], [])),
        ("entries, more than 4096 items", _frame("entries", [b"x"] * 4097)),
        ("entries, empty", _frame("entries", [])),
        ("entries, not a signed entry", _frame("entries", [b"\x88"])),
        ("entries, a gap inside a run", _frame("entries", [raw_a[0], raw_a[2]])),
        ("entries, out of order", _frame("entries", [raw_a[1], raw_a[0]])),
        ("entries, an author's second run", _frame("entries", [raw_a[0], b_feed[0].raw, raw_a[1]])),
        ("fork, not a fork proof", _frame("fork", b"\x80")),
        (
            "fork, two identical entries",
            _frame("fork", dcbor.encode(["samoorg/fork-proof/v1", raw_a[0], raw_a[0]])),
        ),
        (
            "fork, a proof over 131136 bytes",
            _frame(
                "fork",
                dcbor.encode([FORK_PROOF_TAG, proof.a, proof.b + bytes(MAX_FORK_PROOF_SIZE)]),
            ),
        ),
        (
            "fork, a proof nested 3 deep",
            _frame("fork", dcbor.encode([FORK_PROOF_TAG, [proof.a], proof.b])),
        ),
        ("fork, a proof nested 20 deep", _frame("fork", b"\x81" * 19 + proof.to_bytes())),
        ("ack 0", _frame("ack", 0)),
        ("want without heads", _frame("want", [])),
    ]

    def send(message: Message) -> bytes:
        return encode_frame(encode_message(message))

    their_hello = Hello(PROTOCOL_VERSION, 8, False, both)
    live_hello = Hello(PROTOCOL_VERSION, 8, True, both)
    want_alice = Hello(PROTOCOL_VERSION, 2, False, (Head(alice.public_key, 0, None),))
    want_all = Hello(
        PROTOCOL_VERSION,
        2,
        False,
        tuple(sorted((*both, Head(xavier.public_key, 0, None)), key=lambda h: h.author)),
    )
    live_alice = Hello(PROTOCOL_VERSION, 2, True, (Head(alice.public_key, 0, None),))
    a_entries = Entries(tuple(raw_a))
    sessions: list[tuple[str, Message, list[bytes], bool]] = [
        (
            "one-shot catch-up, then end of stream",
            want_all,
            [send(their_hello), send(a_entries), send(Fork(proof)), send(CaughtUp())],
            True,
        ),
        ("the first message is not hello", want_alice, [send(CaughtUp())], False),
        ("a second hello", want_alice, [send(their_hello), send(their_hello)], False),
        (
            "entries beyond the credit of 2",
            want_alice,
            [send(their_hello), send(a_entries), send(a_entries), send(a_entries)],
            False,
        ),
        (
            "entries of an author not wanted",
            want_alice,
            [send(their_hello), send(Entries((b_feed[0].raw,)))],
            False,
        ),
        (
            "a fork proof of an author not wanted",
            want_alice,
            [send(their_hello), send(Fork(proof))],
            False,
        ),
        (
            "entries after caught-up, one-shot",
            want_alice,
            [send(their_hello), send(CaughtUp()), send(a_entries)],
            False,
        ),
        (
            "entries after caught-up, live",
            live_alice,
            [send(live_hello), send(CaughtUp()), send(a_entries)],
            False,
        ),
        (
            "want in a one-shot session",
            want_alice,
            [send(their_hello), send(Want((a_head,)))],
            False,
        ),
        ("want in a live session", live_alice, [send(live_hello), send(Want((a_head,)))], False),
        ("an ack of entries never sent", want_alice, [send(their_hello), send(Ack(1))], False),
        (
            "a second caught-up",
            want_alice,
            [send(their_hello), send(CaughtUp()), send(CaughtUp())],
            False,
        ),
        (
            "a second fork proof of one author",
            want_all,
            [send(their_hello), send(Fork(proof)), send(Fork(proof))],
            False,
        ),
        (
            "end of stream inside a frame",
            want_alice,
            [send(their_hello), send(a_entries)[:-1]],
            True,
        ),
        (
            "end of stream inside the 4-byte length",
            want_alice,
            [send(their_hello), send(a_entries)[:2]],
            True,
        ),
    ]

    # §7.4 "Precedence": frames that break several rules, with the rule that wins.
    out_of_order = send(Entries((raw_a[1], raw_a[0])))
    bob_out_of_order = send(Entries((b_feed[1].raw, b_feed[0].raw)))
    bob_entries = send(Entries((b_feed[0].raw,)))
    credit_used = [send(their_hello), send(a_entries), send(a_entries)]
    caught_up = send(CaughtUp())
    precedence: list[tuple[str, list[bytes], str]] = [
        ("run order over state", [send(their_hello), caught_up, out_of_order], "MalformedFrame"),
        ("run order over flow control", [*credit_used, out_of_order], "MalformedFrame"),
        ("run order over scope", [send(their_hello), bob_out_of_order], "MalformedFrame"),
        (
            "state over flow control",
            [*credit_used, caught_up, send(a_entries)],
            "UnexpectedMessage",
        ),
        ("state over scope", [send(their_hello), caught_up, bob_entries], "UnexpectedMessage"),
        ("flow control over scope", [*credit_used, bob_entries], "FlowControlError"),
        ("all four: run order wins", [*credit_used, caught_up, bob_out_of_order], "MalformedFrame"),
        ("order over flow control: an ack first", [send(Ack(1))], "UnexpectedMessage"),
    ]
    for name, frames, expected in precedence:
        if run_session(want_alice, b"".join(frames), eof=False)[1] != expected:
            raise AssertionError(f"precedence vector {name!r} does not give {expected}")
        sessions.append((f"precedence: {name}", want_alice, frames, False))

    document: dict[str, Any] = {
        "description": (
            "Samoorg replication frames, docs/protocol.md section 7.11. "
            "Generated by scripts/gen_sync_vectors.py; do not edit."
        ),
        "valid": [],
        "invalid": [],
        "sessions": [],
    }
    for name, message in valid:
        frame = send(message)
        decoded, error = decode_frame(frame)
        if error is not None or decoded is None:
            raise AssertionError(f"valid vector {name!r} does not decode: {error}")
        document["valid"].append(
            {"name": name, "frame": frame.hex(), "message": message_json(message)}
        )
    for name, frame in invalid:
        decoded, error = decode_frame(frame)
        assert error is not None, name
        document["invalid"].append({"name": name, "frame": frame.hex(), "error": error})
    for name, ours, frames, eof in sessions:
        data = b"".join(frames)
        events, error = run_session(ours, data, eof=eof)
        document["sessions"].append(
            {
                "name": name,
                "our_hello": message_json(ours),
                "frames": data.hex(),
                "eof": eof,
                "events": [message_json(e) for e in events],
                "error": error,
            }
        )
    return document


def main() -> None:
    """Write the vectors file."""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
