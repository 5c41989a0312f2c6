"""The sans-IO replication protocol: framing, messages, and the session state machine."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.protocol import dcbor
from samoorg.protocol.errors import (
    FlowControlError,
    LocalProtocolError,
    MalformedEntry,
    MalformedFrame,
    OutOfScope,
    ProtocolError,
    RemoteProtocolError,
    TooLarge,
    TruncatedFrame,
    UnexpectedMessage,
    UnsupportedVersion,
)
from samoorg.protocol.fork import ForkProof
from samoorg.protocol.framing import END, MAX_BUFFERED, MAX_FRAME_SIZE, FrameDecoder, encode_frame
from samoorg.protocol.sync import NEED_DATA, Closed, Event, State, SyncSession
from samoorg.protocol.sync_messages import (
    MAX_BATCH_ENTRIES,
    MAX_HEADS,
    PROTOCOL_VERSION,
    Ack,
    Batch,
    CaughtUp,
    Entries,
    Fork,
    Head,
    Hello,
    Want,
    decode_message,
    encode_message,
)
from tests.sync_fixtures import make_feed, signer

ALICE, BOB, MALLORY = signer("alice"), signer("bob"), signer("mallory")
FEED = make_feed(ALICE, 6)
BOB_FEED = make_feed(BOB, 3)
FORK = ForkProof.of(FEED[2], make_feed(ALICE, 1, start=FEED[1], tag="other")[0])


def hello(*authors: bytes, credit: int = 4, live: bool = False) -> Hello:
    return Hello(PROTOCOL_VERSION, credit, live, tuple(Head(a, 0, None) for a in sorted(authors)))


# -- framing -------------------------------------------------------------------


def test_frames_are_cut_from_any_chunking() -> None:
    payloads = [b"a", b"bc" * 300, bytes(range(256))]
    stream = b"".join(encode_frame(p) for p in payloads)
    for chunk in (1, 3, 7, len(stream)):
        decoder = FrameDecoder()
        out: list[bytes] = []
        for i in range(0, len(stream), chunk):
            decoder.receive_data(stream[i : i + chunk])
            while isinstance(frame := decoder.next_frame(), bytes):
                out.append(frame)
        decoder.receive_data(b"")
        assert decoder.next_frame() is END
        assert out == payloads


def test_oversized_length_is_refused_before_the_payload() -> None:
    decoder = FrameDecoder()
    decoder.receive_data(struct.pack(">I", MAX_FRAME_SIZE + 1))
    with pytest.raises(TooLarge, match="at most 1048576 bytes"):
        decoder.next_frame()
    with pytest.raises(TooLarge):  # the error state is final
        decoder.receive_data(b"x")


def test_zero_length_and_truncation_are_errors() -> None:
    decoder = FrameDecoder()
    decoder.receive_data(b"\0\0\0\0")
    with pytest.raises(MalformedFrame, match="at least 1"):
        decoder.next_frame()
    truncated = FrameDecoder()
    truncated.receive_data(encode_frame(b"hello")[:-1] + b"")
    assert truncated.next_frame() is NEED_DATA
    truncated.receive_data(b"")
    with pytest.raises(TruncatedFrame, match="truncated"):
        truncated.next_frame()


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_end_of_stream_inside_the_length_is_a_truncated_frame(cut: int) -> None:
    """§7.2: the length prefix is part of the frame, so 1 to 3 bytes of it then EOF truncate."""
    stream = encode_frame(b"a") + encode_frame(b"bc")[:cut]
    decoder = FrameDecoder()
    decoder.receive_data(stream)
    assert decoder.next_frame() == b"a"
    assert decoder.next_frame() is NEED_DATA
    decoder.receive_data(b"")
    with pytest.raises(TruncatedFrame, match=f"after {cut} bytes"):
        decoder.next_frame()
    session = SyncSession()
    session.send(hello())
    their_hello = encode_frame(encode_message(hello()))
    assert feed_bytes(session, their_hello + b"\0\0\0"[:cut]) == [hello()]
    with pytest.raises(TruncatedFrame):
        feed_bytes(session, b"")


def test_local_misuse_of_the_decoder() -> None:
    with pytest.raises(LocalProtocolError):
        encode_frame(b"")
    with pytest.raises(LocalProtocolError):
        encode_frame(b"x" * (MAX_FRAME_SIZE + 1))
    decoder = FrameDecoder()
    with pytest.raises(LocalProtocolError, match="buffered"):
        decoder.receive_data(b"x" * (MAX_BUFFERED + 1))
    ended = FrameDecoder()
    ended.receive_data(b"")
    with pytest.raises(LocalProtocolError, match="after end of stream"):
        ended.receive_data(b"x")


# -- messages ------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        hello(ALICE.public_key, BOB.public_key),
        Hello(
            PROTOCOL_VERSION,
            64,
            True,
            tuple(
                sorted(
                    (Head(ALICE.public_key, 6, FEED[5].id), Head(BOB.public_key, 0, None)),
                    key=lambda h: h.author,
                )
            ),
            (MALLORY.public_key,),
        ),
        Entries(tuple(e.raw for e in FEED[:3] + BOB_FEED)),
        Fork(FORK),
        Ack(3),
        CaughtUp(),
        Want((Head(BOB.public_key, 2, BOB_FEED[1].id),)),
    ],
)
def test_messages_round_trip(message: object) -> None:
    payload = encode_message(message)  # type: ignore[arg-type]
    decoded = decode_message(payload)
    if isinstance(message, Entries):
        assert isinstance(decoded, Batch)
        assert decoded.raws == message.raws
        assert encode_message(decoded) == payload
    else:
        assert decoded == message


def _payload(*fields: dcbor.Value) -> bytes:
    return dcbor.encode(list(fields))


A, B = sorted((ALICE.public_key, BOB.public_key))


@pytest.mark.parametrize(
    ("payload", "error", "text"),
    [
        (b"\xff", MalformedFrame, "well-formed CBOR"),
        (_payload(), MalformedFrame, "message name"),
        (_payload("bye"), MalformedFrame, "found 'bye'"),
        (_payload("hello", 2, 1, True, [], []), UnsupportedVersion, "found 2"),
        (_payload("hello", 1, 0, True, [], []), MalformedFrame, "credit"),
        (_payload("hello", 1, 65, True, [], []), MalformedFrame, "credit"),
        (_payload("hello", 1, 1, 1, [], []), MalformedFrame, "live"),
        (_payload("hello", 1, 1, True, [], []) + b"\x00", MalformedFrame, "deterministic"),
        (
            _payload("hello", 1, 1, True, [[B, 0, None], [A, 0, None]], []),
            MalformedFrame,
            "ascending",
        ),
        (
            _payload("hello", 1, 1, True, [[A, 0, None], [A, 0, None]], []),
            MalformedFrame,
            "ascending",
        ),
        (_payload("hello", 1, 1, True, [[A, 0, b"x" * 32]], []), MalformedFrame, "null id"),
        (_payload("hello", 1, 1, True, [[A, 3, None]], []), MalformedFrame, "32-byte head id"),
        (_payload("hello", 1, 1, True, [[A, -1, None]], []), MalformedFrame, "seq in 0"),
        (_payload("hello", 1, 1, True, [[b"short", 0, None]], []), MalformedFrame, "author keys"),
        (_payload("hello", 1, 1, True, [], [A] * (MAX_HEADS + 1)), TooLarge, "8192"),
        (_payload("hello", 1, 1, True, [[[[1]]]], []), TooLarge, "nesting"),
        (_payload("entries", []), MalformedFrame, "non-empty"),
        (_payload("entries", [b"\x00"]), MalformedEntry, "8-element array"),
        (_payload("entries", [b"x"] * (MAX_BATCH_ENTRIES + 1)), TooLarge, "4096"),
        (_payload("entries", [FEED[0].raw, FEED[2].raw]), MalformedFrame, "follow seq 1"),
        (_payload("entries", [FEED[1].raw, FEED[0].raw]), MalformedFrame, "follow seq 2"),
        (
            _payload("entries", [FEED[0].raw, BOB_FEED[0].raw, FEED[1].raw]),
            MalformedFrame,
            "one run per author",
        ),
        (_payload("fork", b"junk"), RemoteProtocolError, "well-formed CBOR"),
        (_payload("ack", 0), MalformedFrame, "ack count"),
        (_payload("ack", 1, 2), MalformedFrame, "1 field"),
        (_payload("caught-up", 1), MalformedFrame, "0 fields"),
        (_payload("want", []), MalformedFrame, "at least one head"),
    ],
)
def test_bad_messages_raise_precise_remote_errors(
    payload: bytes, error: type[RemoteProtocolError], text: str
) -> None:
    with pytest.raises(error, match=text) as caught:
        decode_message(payload)
    assert isinstance(caught.value, RemoteProtocolError)


def test_encoding_refuses_what_a_peer_would_reject() -> None:
    with pytest.raises(LocalProtocolError, match="ascending"):
        encode_message(Hello(1, 4, False, (Head(B, 0, None), Head(A, 0, None))))
    with pytest.raises(LocalProtocolError, match="credit"):
        encode_message(Hello(1, 0, False, ()))
    with pytest.raises(LocalProtocolError, match="entries per batch"):
        encode_message(Entries(()))
    with pytest.raises(LocalProtocolError, match="ack count"):
        encode_message(Ack(0))
    with pytest.raises(LocalProtocolError, match="at least one head"):
        encode_message(Want(()))


# -- session -------------------------------------------------------------------


def feed_bytes(session: SyncSession, data: bytes) -> list[Event]:
    """Deliver ``data`` and drain events (raises the session's error)."""
    session.receive_data(data)
    events: list[Event] = []
    while (event := session.next_event()) is not NEED_DATA:
        assert not isinstance(event, type(NEED_DATA))
        events.append(event)
        if isinstance(event, Closed):
            break
    return events


def pair(*, live: bool = False, credit: int = 2) -> tuple[SyncSession, SyncSession]:
    """Two sessions that exchanged hellos wanting alice and bob."""
    left, right = SyncSession(), SyncSession()
    authors = (ALICE.public_key, BOB.public_key)
    to_right = left.send(hello(*authors, credit=credit, live=live))
    to_left = right.send(hello(*authors, credit=credit, live=live))
    assert feed_bytes(right, to_right) == [right.their_hello]
    assert feed_bytes(left, to_left) == [left.their_hello]
    return left, right


def test_one_shot_session_runs_to_completion() -> None:
    left, right = pair()
    assert (left.our_state, left.their_state) == (State.SYNCING, State.SYNCING)
    [batch] = feed_bytes(right, left.send(Entries(tuple(e.raw for e in FEED))))
    assert isinstance(batch, Batch)
    assert [e.seq for e in batch.entries] == [1, 2, 3, 4, 5, 6]
    assert left.unacked == 1
    assert right.unanswered == 1
    feed_bytes(right, left.send(CaughtUp()))
    assert not left.complete
    feed_bytes(left, right.send(Ack(1)))
    feed_bytes(left, right.send(CaughtUp()))
    assert left.complete
    assert right.complete
    assert feed_bytes(left, b"") == [Closed()]
    assert left.their_state is State.CLOSED


def test_credit_is_enforced_both_ways() -> None:
    left, right = pair(credit=2)
    one = Entries((FEED[0].raw,))
    frames = [left.send(one), left.send(Entries((FEED[1].raw,)))]
    assert left.send_credit == 0
    with pytest.raises(LocalProtocolError, match="credit"):
        left.send(Entries((FEED[2].raw,)))
    assert left.our_state is State.ERROR
    # A peer that ignores our credit is caught on receipt.
    feed_bytes(right, b"".join(frames))
    extra = encode_frame(encode_message(Entries((FEED[2].raw,))))
    with pytest.raises(FlowControlError, match="at most 2"):
        feed_bytes(right, extra)
    with pytest.raises(FlowControlError):  # and stays failed
        right.next_event()
    with pytest.raises(FlowControlError):
        right.send(Ack(1))


def test_acks_beyond_what_was_sent_are_refused() -> None:
    left, right = pair()
    feed_bytes(right, left.send(Entries((FEED[0].raw,))))
    with pytest.raises(LocalProtocolError, match="at most 1"):
        right.send(Ack(2))
    left2, _ = pair()
    with pytest.raises(FlowControlError, match="at most 0"):
        feed_bytes(left2, encode_frame(encode_message(Ack(1))))


def test_state_rules() -> None:
    session = SyncSession()
    with pytest.raises(UnexpectedMessage, match="Hello as the first"):
        feed_bytes(session, encode_frame(encode_message(CaughtUp())))
    left, right = pair()
    with pytest.raises(UnexpectedMessage, match="second"):
        feed_bytes(right, encode_frame(encode_message(hello())))
    left, right = pair()
    feed_bytes(right, left.send(CaughtUp()))
    with pytest.raises(UnexpectedMessage, match="one CaughtUp"):
        feed_bytes(right, encode_frame(encode_message(CaughtUp())))
    left, right = pair()
    feed_bytes(right, left.send(CaughtUp()))
    with pytest.raises(LocalProtocolError, match="after CaughtUp"):
        left.send(Entries((FEED[0].raw,)))
    with pytest.raises(UnexpectedMessage, match="after CaughtUp"):
        feed_bytes(right, encode_frame(encode_message(Entries((FEED[0].raw,)))))
    left, right = pair(live=False)
    with pytest.raises(LocalProtocolError, match="live"):
        left.send(Want((Head(MALLORY.public_key, 0, None),)))
    with pytest.raises(UnexpectedMessage, match="live"):
        feed_bytes(right, encode_frame(encode_message(Want((Head(MALLORY.public_key, 0, None),)))))
    fresh = SyncSession()
    with pytest.raises(LocalProtocolError, match="Hello first"):
        fresh.send(CaughtUp())


def test_live_session_allows_entries_and_wants_after_catch_up() -> None:
    left, right = pair(live=True)
    assert left.live
    feed_bytes(right, left.send(CaughtUp()))
    [batch] = feed_bytes(right, left.send(Entries((FEED[0].raw,))))
    assert isinstance(batch, Batch)
    want = Want((Head(MALLORY.public_key, 0, None),))
    assert feed_bytes(right, left.send(want)) == [want]
    assert MALLORY.public_key in right.peer_wants
    assert MALLORY.public_key in left.wanted


def test_scope_is_enforced_on_receipt() -> None:
    left, right = SyncSession(), SyncSession()
    to_right = left.send(hello(MALLORY.public_key))
    feed_bytes(left, right.send(hello(ALICE.public_key)))
    feed_bytes(right, to_right)
    # right wants only alice; left sends bob's entries anyway.
    with pytest.raises(OutOfScope, match="asked for"):
        feed_bytes(right, left.send(Entries((BOB_FEED[0].raw,))))


def test_fork_proofs_cross_once_per_author_and_need_interest() -> None:
    left, right = pair()
    [fork] = feed_bytes(right, left.send(Fork(FORK)))
    assert fork == Fork(FORK)
    with pytest.raises(LocalProtocolError, match="one fork proof"):
        left.send(Fork(FORK))
    _, right = pair()
    frame = encode_frame(encode_message(Fork(FORK)))
    feed_bytes(right, frame)
    with pytest.raises(UnexpectedMessage, match="second"):
        feed_bytes(right, frame)
    lonely = SyncSession()
    lonely.send(hello(BOB.public_key))
    feed_bytes(lonely, SyncSession().send(hello(BOB.public_key)))
    with pytest.raises(LocalProtocolError, match="peer wants"):
        lonely.send(Fork(FORK))


# -- fuzzing: any bytes parse or raise our RemoteProtocolError -----------------


def _fresh_receiver() -> SyncSession:
    session = SyncSession()
    session.send(hello(ALICE.public_key, BOB.public_key, credit=4, live=True))
    return session


def _run(data: bytes, *, bytewise: bool) -> tuple[list[Event], str | None]:
    session = _fresh_receiver()
    events: list[Event] = []
    chunks = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    try:
        for chunk in [*chunks, b""]:
            session.receive_data(chunk)
            while (event := session.next_event()) is not NEED_DATA:
                assert not isinstance(event, type(NEED_DATA))
                events.append(event)
                if isinstance(event, Closed):
                    return events, None
    except RemoteProtocolError as exc:
        return events, exc.name
    except ProtocolError as exc:  # pragma: no cover - the invariant under test
        pytest.fail(f"local error from received bytes: {exc!r}")
    return events, None


def _valid_transcript() -> bytes:
    sender = SyncSession()
    first = sender.send(hello(ALICE.public_key, live=True))
    feed_bytes(sender, SyncSession().send(hello(ALICE.public_key, BOB.public_key, live=True)))
    return b"".join(
        [
            first,
            sender.send(Entries(tuple(e.raw for e in FEED[:3]))),
            sender.send(Fork(FORK)),
            sender.send(CaughtUp()),
            sender.send(Entries(tuple(e.raw for e in BOB_FEED))),
            sender.send(Want((Head(MALLORY.public_key, 0, None),))),
        ]
    )


TRANSCRIPT = _valid_transcript()


def test_the_valid_transcript_parses_whole_and_bytewise() -> None:
    whole = _run(TRANSCRIPT, bytewise=False)
    assert whole[1] is None
    assert [type(e).__name__ for e in whole[0]] == [
        "Hello",
        "Batch",
        "Fork",
        "CaughtUp",
        "Batch",
        "Want",
        "Closed",
    ]
    assert _run(TRANSCRIPT, bytewise=True) == whole


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_parse_or_raise_remote_errors(data: bytes) -> None:
    assert _run(data, bytewise=False) == _run(data, bytewise=True)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_mutated_transcripts_parse_or_raise_remote_errors(data: st.DataObject) -> None:
    buffer = bytearray(TRANSCRIPT)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(buffer) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            buffer[where] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del buffer[where : where + data.draw(st.integers(1, 40))]
        else:
            buffer[where:where] = data.draw(st.binary(min_size=1, max_size=8))
        if not buffer:
            break
    mutated = bytes(buffer)
    whole = _run(mutated, bytewise=False)
    assert _run(mutated, bytewise=True) == whole
