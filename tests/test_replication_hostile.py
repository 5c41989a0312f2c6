"""Hostile peers against the real replication driver (trio memory streams, autojump clock).

Each test lets an adversary misbehave against an honest node, checks that the
honest node stored nothing unverified and reported what happened, and then
lets an honest peer sync with it to show the nodes still converge.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
import trio.testing

from samoorg.node.indexer import load_index
from samoorg.node.replication import Outcome, SyncLimits, SyncReport, replicate
from samoorg.node.store import Store
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry
from samoorg.protocol.framing import NEED_DATA, FrameDecoder, encode_frame
from samoorg.protocol.sync_messages import (
    PROTOCOL_VERSION,
    Ack,
    CaughtUp,
    Entries,
    Head,
    Hello,
    Message,
    Want,
    decode_message,
    encode_message,
)
from tests.sync_fixtures import (
    assert_failed,
    fill,
    forged_chain,
    make_feed,
    signer,
    snapshot,
    stores,
    sync_pair,
)

ALICE, BOB, XAVIER = signer("alice"), signer("bob"), signer("xavier")
AUTHORS = {ALICE.public_key, BOB.public_key, XAVIER.public_key}


class Adversary:
    """A scripted peer: it may send any bytes, valid or not."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self._frames = FrameDecoder()

    async def hello(self, *heads: Head, live: bool = False) -> None:
        ordered = tuple(sorted(heads, key=lambda h: h.author))
        await self.send(Hello(PROTOCOL_VERSION, 8, live, ordered))

    async def send(self, message: Message) -> None:
        """A well-formed frame, whether or not the protocol allows it now."""
        await self.raw(encode_frame(encode_message(message)))

    async def entries(self, entries: list[Entry]) -> None:
        await self.send(Entries(tuple(e.raw for e in entries)))

    async def raw(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def acks(self, count: int) -> None:
        """Read what the honest node sends until it has acknowledged ``count`` more frames."""
        while count > 0:
            while (payload := self._frames.next_frame()) is NEED_DATA:
                self._frames.receive_data(await self.stream.receive_some(65536))
            assert isinstance(payload, bytes), payload
            message = decode_message(payload)
            if isinstance(message, Ack):
                count -= message.count


Script = Callable[[Adversary], Awaitable[None]]


async def against(store: Store, script: Script, *, live: bool = False) -> tuple[SyncReport, float]:
    """Run the honest driver against ``script``; return its report and the (virtual) duration."""
    honest_end, adversary_end = trio.testing.memory_stream_pair()
    report = SyncReport()
    start = trio.current_time()
    with trio.fail_after(600):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: replicate(
                    honest_end, store, scope=lambda: AUTHORS, live=live, report=report
                )
            )
            with contextlib.suppress(trio.BrokenResourceError):  # the honest node hung up
                await script(Adversary(adversary_end))
            while report.outcome is Outcome.RUNNING:
                await trio.sleep(0.5)
    return report, trio.current_time() - start


async def converges(victim: Store, honest: Store) -> None:
    """After the attack, an honest sync brings both stores to the same state."""
    result = await sync_pair(victim, honest, AUTHORS)
    assert result.left.outcome is Outcome.COMPLETE, result.left.summary()
    assert snapshot(victim) == snapshot(honest)
    assert victim.verify_all() == []


@dataclass
class Attack:
    """What an attack did to the victim."""

    report: SyncReport
    duration: float
    stored: int
    """Entries the victim held right after the attack (all verified)."""


async def attack(
    tmp_path: Path, script: Script, honest_feed: list[Entry], *, live: bool = False
) -> Attack:
    """``script`` against an empty victim; then an honest peer holding ``honest_feed``."""
    with stores(tmp_path, "victim", "honest") as (victim, honest):
        fill(honest, honest_feed)
        report, duration = await against(victim, script, live=live)
        assert victim.verify_all() == []
        stored = victim.stats().entries
        await converges(victim, honest)
    return Attack(report, duration, stored)


def claim(entries: list[Entry]) -> Head:
    return Head(entries[-1].author, entries[-1].seq, entries[-1].id)


async def test_forged_signatures_are_rejected_and_nothing_is_stored(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    forged = forged_chain(ALICE.public_key, 12)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(forged))
        await peer.entries(forged)
        await peer.send(CaughtUp())

    result = await attack(tmp_path, script, make_feed(ALICE, 12))
    assert result.stored == 0
    assert result.report.reasons["BadSignature"] >= 1
    assert_failed(result.report, "WithheldEntries")


async def test_equivocating_author_is_flagged_everywhere(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    common = make_feed(XAVIER, 3)
    one = make_feed(XAVIER, 600, start=common[-1], tag="told to a")
    two = make_feed(XAVIER, 2, start=common[-1], tag="told to b")
    with stores(tmp_path, "a", "b", "c", "d") as (a, b, c, d):
        fill(a, common + one)
        fill(b, common + two)
        fill(a, make_feed(ALICE, 4))
        fill(b, make_feed(BOB, 4))
        await sync_pair(a, c, AUTHORS)  # c learns branch one before anyone knows
        assert not c.is_forked(XAVIER.public_key)
        first = await sync_pair(a, b, AUTHORS)
        assert first.right.forks_received == 1  # b proved it from a's entries ...
        assert first.left.forks_received == 1  # ... and forwarded the proof to a
        assert first.left.sent == 4 + 1  # alice's feed, and one entry of the fork answer
        assert first.right.rejected == 1  # that entry: ForkDetected
        await sync_pair(b, c, AUTHORS)
        newcomer = await sync_pair(c, d, AUTHORS)
        assert newcomer.right.forks_received == 1
        for store in (a, b, c, d):
            assert XAVIER.public_key in load_index(store).forked
            assert store.verify_all() == []
        # The newcomer got the proof, not the forked feed.
        assert d.head(XAVIER.public_key) is None
        assert d.head(ALICE.public_key) is not None
        assert d.head(BOB.public_key) is not None


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (struct.pack(">I", 2**31), "TooLarge"),
        (struct.pack(">I", 0), "MalformedFrame"),
        (encode_frame(b"\xff\x00\x01"), "MalformedFrame"),
        (encode_frame(dcbor.encode(["entries", [b"\x88not an entry"]])), "MalformedEntry"),
        (encode_frame(dcbor.encode(["hello", 1, 8, False, [], []])), "UnexpectedMessage"),
    ],
)
async def test_oversized_and_malformed_frames_end_the_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, frame: bytes, error: str
) -> None:
    feed = make_feed(ALICE, 3)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(feed))
        await peer.raw(frame)

    result = await attack(tmp_path, script, feed)
    assert_failed(result.report, error)
    assert result.duration < 1
    assert result.stored == 0


async def test_gaps_out_of_order_batches_and_replays(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    feed = make_feed(ALICE, 9)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(feed))
        await peer.entries(feed[3:6])  # a gap: rejected
        await peer.entries(feed[0:3])  # stored
        await peer.entries(feed[0:3])  # a replay: duplicates
        await peer.entries(feed[6:9])  # a gap again: rejected
        await peer.entries(feed[3:9])  # fills it
        await peer.send(CaughtUp())

    report = (await attack(tmp_path, script, feed)).report
    assert report.outcome is Outcome.COMPLETE, report.summary()
    assert (report.received, report.duplicates, report.rejected) == (9, 3, 6)
    assert report.reasons == {"WrongSequence": 6}


async def test_out_of_order_entries_inside_a_frame_are_a_protocol_error(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    feed = make_feed(ALICE, 3)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(feed))
        await peer.raw(encode_frame(dcbor.encode(["entries", [feed[1].raw, feed[0].raw]])))

    result = await attack(tmp_path, script, feed)
    assert_failed(result.report, "MalformedFrame: expected entry 1 to follow")
    assert result.stored == 0


async def test_slow_drip_sender_times_out(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    feed = make_feed(ALICE, 5)
    frame = encode_frame(encode_message(Entries(tuple(e.raw for e in feed))))

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(feed))
        for byte in frame[:200]:  # one byte a second: never finishes a frame in time
            await peer.raw(bytes([byte]))
            await trio.sleep(1)

    result = await attack(tmp_path, script, feed)
    assert_failed(result.report, "PeerTimeout: expected a started frame")
    assert SyncLimits().frame_timeout <= result.duration < SyncLimits().frame_timeout + 2
    assert result.stored == 0


async def test_silent_peers_time_out(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    feed = make_feed(ALICE, 5)

    async def mute(peer: Adversary) -> None:
        await trio.sleep(0)

    async def claims_then_mute(peer: Adversary) -> None:
        await peer.hello(claim(feed))

    with stores(tmp_path, "victim") as (victim,):
        report, duration = await against(victim, mute)
        assert_failed(report, "PeerTimeout: expected the peer's Hello")
        assert duration == pytest.approx(SyncLimits().handshake_timeout, abs=1)
        report, duration = await against(victim, claims_then_mute)
        assert_failed(report, "PeerTimeout: expected entries, acks or CaughtUp")
        assert duration == pytest.approx(SyncLimits().progress_timeout, abs=1)


async def test_request_flood_backs_off_then_disconnects(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    noise = [signer(f"nobody{i}").public_key for i in range(300)]

    async def script(peer: Adversary) -> None:
        await peer.hello(live=True)
        await peer.send(CaughtUp())
        for author in noise:
            await peer.send(Want((Head(author, 0, None),)))

    result = await attack(tmp_path, script, make_feed(ALICE, 3), live=True)
    limits = SyncLimits()
    assert_failed(result.report, "RequestFlood")
    backoffs = sum(limits.backoff * 2**i for i in range(limits.max_strikes))
    assert backoffs <= result.duration < backoffs + 2


async def test_a_modest_rate_of_wants_is_served(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    feed = make_feed(ALICE, 4)

    async def script(peer: Adversary) -> None:
        await peer.hello(live=True)
        await peer.send(CaughtUp())
        for i in range(40):  # 2 per second, below the default rate of 4
            await peer.send(Want((Head(signer(f"friend{i}").public_key, 0, None),)))
            await trio.sleep(0.5)
        await peer.send(Want((Head(ALICE.public_key, 0, None),)))
        await trio.sleep(1)
        await peer.stream.aclose()

    with stores(tmp_path, "victim") as (victim,):
        fill(victim, feed)
        report, _ = await against(victim, script, live=True)
        assert report.error is None, report.error
        assert report.sent == 4  # alice's feed, pushed after the last Want


async def test_claimed_heads_that_never_come(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    feed = make_feed(ALICE, 50)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(feed))
        await peer.entries(feed[:10])
        await peer.send(CaughtUp())

    result = await attack(tmp_path, script, feed)
    assert_failed(result.report, "WithheldEntries: expected entries up to the heads")
    assert "claimed #50, we hold #10" in str(result.report.error)
    assert result.stored == 10


async def test_a_peer_that_never_acknowledges_times_out(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    async def script(peer: Adversary) -> None:
        await peer.hello(Head(ALICE.public_key, 0, None))  # wants alice, then ignores us
        await peer.send(CaughtUp())

    with stores(tmp_path, "victim") as (victim,):
        fill(victim, make_feed(ALICE, 3000))
        report, duration = await against(victim, script)
    assert_failed(report, "PeerTimeout: expected entries, acks or CaughtUp")
    assert 0 < report.sent <= 8 * SyncLimits().batch_entries  # never beyond the credit of 8
    assert duration == pytest.approx(SyncLimits().progress_timeout, abs=1)


async def test_too_many_rejected_entries_end_the_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    forged = forged_chain(BOB.public_key, 300)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(forged))
        # The run ends the message, so the victim holds it for an entry that
        # may sign for it (§7.9); CaughtUp says none will come.
        await peer.entries(forged)
        await peer.send(CaughtUp())

    result = await attack(tmp_path, script, make_feed(BOB, 5))
    assert_failed(result.report, "TooManyRejections: expected at most 256 rejected entries")
    assert result.report.rejected == 300
    assert result.stored == 0


def _one_entry_frames(entries: list[Entry]) -> list[bytes]:
    return [encode_frame(encode_message(Entries((e.raw,)))) for e in entries]


async def test_entries_beyond_the_credit_end_the_session(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """12 entries messages sent at once against a credit of 8: the 9th is FlowControlError.

    They all arrive before the node sends its first ack, so the peer sent the
    9th with 8 unacknowledged (§7.5), however fast the node acks afterwards.
    """
    feed = make_feed(ALICE, 12)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(feed))
        await peer.raw(b"".join(_one_entry_frames(feed)))
        await peer.send(CaughtUp())

    result = await attack(tmp_path, script, feed)
    assert_failed(result.report, "FlowControlError: expected at most 8 unacknowledged")
    assert "found 9" in str(result.report.error)
    assert result.stored == 8  # the messages within the credit were stored


async def test_a_peer_that_waits_for_acks_may_use_all_its_credit(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    """The same 12 messages, each beyond the 8th sent after one more ack arrived: allowed."""
    feed = make_feed(ALICE, 12)
    frames = _one_entry_frames(feed)

    async def script(peer: Adversary) -> None:
        await peer.hello(claim(feed))
        await peer.raw(b"".join(frames[:8]))
        for frame in frames[8:]:
            await peer.acks(1)
            await peer.raw(frame)
        await peer.send(CaughtUp())
        await peer.acks(4)

    result = await attack(tmp_path, script, feed)
    assert result.report.outcome is Outcome.COMPLETE, result.report.summary()
    assert result.stored == 12
