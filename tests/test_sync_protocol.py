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
        (b"\xff", MalformedFrame, "break code"),
        (_payload(), MalformedFrame, "message name"),
        (_payload("bye"), MalformedFrame, "found 'bye'"),
        (_payload("hello", 2, 1, True, [], []), UnsupportedVersion, "found 2"),
        (_payload("hello", 1, 0, True, [], []), MalformedFrame, "credit"),
        (_payload("hello", 1, 65, True, [], []), MalformedFrame, "credit"),
        (_payload("hello", 1, 1, 1, [], []), MalformedFrame, "live"),
        (_payload("hello", 1, 1, True, [], []) + b"\x00", MalformedFrame, "trailing bytes"),
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
        (_payload("fork", b"junk"), RemoteProtocolError, "bytes of text string"),
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


def _frame(message: Entries | Ack | CaughtUp | Fork | Hello | Want) -> bytes:
    """A frame as a peer may send it, whether or not the rules allow it."""
    return encode_frame(encode_message(message))


ONE_EACH = [_frame(Entries((e.raw,))) for e in FEED]


def _ack_each(session: SyncSession, data: bytes) -> bytes:
    """Deliver ``data``, ack every batch at once as the reference driver does; the acks' bytes."""
    session.receive_data(data)
    acks = b""
    while (event := session.next_event()) is not NEED_DATA:
        if isinstance(event, Batch):
            acks += session.send(Ack(1))
    return acks


def test_acks_sent_after_a_frame_arrived_do_not_excuse_it() -> None:
    """§7.5: three frames written at once against a credit of 2 fail, however fast we ack."""
    _, right = pair(credit=2)
    with pytest.raises(FlowControlError, match=r"at most 2 unacknowledged.*found 3"):
        _ack_each(right, b"".join(ONE_EACH[:3]))
    # Judged by the first byte: an ack sent while the third frame is under way is too late.
    _, right = pair(credit=2)
    _ack_each(right, b"".join(ONE_EACH[:2]) + ONE_EACH[2][:1])
    assert right.unanswered == 0
    with pytest.raises(FlowControlError, match="found 3"):
        _ack_each(right, ONE_EACH[2][1:])


def test_acks_sent_before_a_frame_arrived_return_credit() -> None:
    _, right = pair(credit=2)
    _ack_each(right, b"".join(ONE_EACH[:2]))  # two in flight, both acked before more came
    right.receive_data(b"".join(ONE_EACH[2:5]))  # three more at once: two fit the credit
    for _ in range(2):
        assert isinstance(right.next_event(), Batch)
        right.send(Ack(1))
    with pytest.raises(FlowControlError, match="found 3"):
        right.next_event()


def test_a_sender_within_its_credit_is_never_blamed() -> None:
    """A sender that counts the acks it received never trips the receiver's judgment."""
    left, right = pair(credit=2)
    in_transit = b""
    for entry in FEED:
        if left.send_credit == 0:  # wait for the receiver to catch up and ack
            feed_bytes(left, _ack_each(right, in_transit))
            in_transit = b""
        in_transit += left.send(Entries((entry.raw,)))
    feed_bytes(left, _ack_each(right, in_transit))
    assert (left.unacked, right.unanswered, right.error) == (0, 0, None)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4),
    st.lists(
        st.tuples(st.sampled_from(["send", "deliver", "ack", "return"]), st.integers(1, 300)),
        max_size=80,
    ),
)
def test_no_timing_of_acks_blames_a_conforming_sender(
    credit: int, steps: list[tuple[str, int]]
) -> None:
    """Whatever the chunking and however late acks are sent or arrive: no FlowControlError."""
    left, right = pair(credit=credit)
    to_right = to_left = b""
    for action, size in steps:
        if action == "send" and left.send_credit > 0:
            to_right += left.send(Entries((FEED[0].raw,)))
        elif action == "deliver" and to_right:
            feed_bytes(right, to_right[:size])
            to_right = to_right[size:]
        elif action == "ack" and right.unanswered:
            to_left += right.send(Ack(right.unanswered))
        elif action == "return" and to_left:
            feed_bytes(left, to_left[:size])
            to_left = to_left[size:]
    assert (left.error, right.error) == (None, None)


def _receiver() -> SyncSession:
    """One-shot, credit 2, wants alice only; the peer's hello has arrived."""
    session = SyncSession()
    session.send(hello(ALICE.public_key, credit=2))
    feed_bytes(session, _frame(hello(ALICE.public_key, BOB.public_key)))
    return session


OUT_OF_ORDER = _frame(Entries((FEED[1].raw, FEED[0].raw)))  # breaks the run rule (§7.3)
BOB_OUT_OF_ORDER = _frame(Entries((BOB_FEED[1].raw, BOB_FEED[0].raw)))
CREDIT_USED = ONE_EACH[0] + ONE_EACH[1]  # nothing acked: a third is beyond the credit
CAUGHT_UP = _frame(CaughtUp())
BOB_ENTRIES = _frame(Entries((BOB_FEED[0].raw,)))


@pytest.mark.parametrize(
    ("before", "frame", "error"),
    [
        # run order (decoding) over every session rule
        pytest.param(CAUGHT_UP, OUT_OF_ORDER, MalformedFrame, id="run order > state"),
        pytest.param(CREDIT_USED, OUT_OF_ORDER, MalformedFrame, id="run order > flow control"),
        pytest.param(b"", BOB_OUT_OF_ORDER, MalformedFrame, id="run order > scope"),
        pytest.param(
            CREDIT_USED + CAUGHT_UP, BOB_OUT_OF_ORDER, MalformedFrame, id="run order > all"
        ),
        # state over flow control and scope
        pytest.param(CREDIT_USED + CAUGHT_UP, ONE_EACH[2], UnexpectedMessage, id="state > flow"),
        pytest.param(CAUGHT_UP, BOB_ENTRIES, UnexpectedMessage, id="state > scope"),
        pytest.param(
            CREDIT_USED + CAUGHT_UP, BOB_ENTRIES, UnexpectedMessage, id="state > flow > scope"
        ),
        # flow control over scope
        pytest.param(CREDIT_USED, BOB_ENTRIES, FlowControlError, id="flow control > scope"),
        # other messages
        pytest.param(
            CAUGHT_UP,
            encode_frame(dcbor.encode(["want", []])),
            MalformedFrame,
            id="empty want > one-shot",
        ),
        pytest.param(b"", _frame(Ack(3)), FlowControlError, id="ack beyond what was sent"),
    ],
)
def test_precedence_when_one_frame_breaks_several_rules(
    before: bytes, frame: bytes, error: type[RemoteProtocolError]
) -> None:
    """§7.4 "Precedence": decoding, then order, state, flow control, scope."""
    session = _receiver()
    if before:
        feed_bytes(session, before)
    with pytest.raises(RemoteProtocolError) as caught:
        feed_bytes(session, frame)
    assert type(caught.value) is error, caught.value


def test_precedence_before_our_hello_and_before_theirs() -> None:
    # Before their hello: the first message must be hello, whatever else is wrong.
    for frame in (_frame(Ack(1)), BOB_ENTRIES, _frame(Fork(FORK))):
        session = SyncSession()
        session.send(hello(ALICE.public_key))
        with pytest.raises(UnexpectedMessage, match="Hello as the first"):
            feed_bytes(session, frame)
    # Before our hello: entries (even unwanted, even beyond any credit) are unexpected.
    early = SyncSession()
    feed_bytes(early, _frame(hello(ALICE.public_key)))
    with pytest.raises(UnexpectedMessage, match="after the receiver's Hello"):
        feed_bytes(early, BOB_ENTRIES)
    # Scope names the first unwanted entry in message order.
    session = _receiver()
    mixed = encode_frame(dcbor.encode(["entries", [FEED[0].raw, BOB_FEED[0].raw]]))
    with pytest.raises(OutOfScope, match="found entry 1 of"):
        feed_bytes(session, mixed)


def test_a_list_length_is_checked_before_its_items() -> None:
    too_many = [[bytes([i >> 8, i & 255]) * 16, 0, None] for i in range(MAX_HEADS + 1)]
    too_many[0][1] = -1  # an item that breaks a rule too
    with pytest.raises(TooLarge, match="8192"):
        decode_message(dcbor.encode(["hello", 1, 1, True, too_many, []]))
    with pytest.raises(TooLarge, match="8192"):
        decode_message(dcbor.encode(["want", too_many]))


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
    with pytest.raises(LocalProtocolError, match="Hello as the first"):
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
    # right wants only alice: left refuses to send bob's entries, and a peer
    # that sends them anyway is caught on receipt.
    with pytest.raises(LocalProtocolError, match="asked for"):
        left.send(Entries((BOB_FEED[0].raw,)))
    with pytest.raises(OutOfScope, match="asked for, found entry 0 of"):
        feed_bytes(right, encode_frame(encode_message(Entries((BOB_FEED[0].raw,)))))


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
    with pytest.raises(LocalProtocolError, match="asked for"):
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
