"""Honest replication between real stores over trio memory streams."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import trio
import trio.testing

from samoorg.node.replication import Outcome, SyncLimits, SyncReport, replicate
from samoorg.node.store import Store
from samoorg.node.store_watch import StoreWatcher
from tests.sync_fixtures import fill, make_feed, signer, snapshot, stores, sync_pair


async def test_one_shot_sync_exchanges_both_ways(tmp_path: Path) -> None:
    alice, bob, carol = signer("alice"), signer("bob"), signer("carol")
    authors = {alice.public_key, bob.public_key, carol.public_key}
    with stores(tmp_path, "a", "b") as (a, b):
        fill(a, make_feed(alice, 30))
        fill(a, make_feed(carol, 5))
        fill(b, make_feed(bob, 40))
        fill(b, make_feed(carol, 12))
        result = await sync_pair(a, b, authors)
        assert result.left.outcome is Outcome.COMPLETE, result.left.summary()
        assert result.right.outcome is Outcome.COMPLETE, result.right.summary()
        # a lacked bob's 40 and carol 6..12; b lacked alice's 30.
        assert (result.left.received, result.left.sent) == (47, 30)
        assert (result.right.received, result.right.sent) == (30, 47)
        assert snapshot(a) == snapshot(b)
        assert json.loads(json.dumps(result.right.to_json()))["received"] == 30
        assert a.verify_all() == []
        assert b.verify_all() == []


async def test_scope_limits_what_is_asked_for(tmp_path: Path) -> None:
    alice, bob = signer("alice"), signer("bob")
    with stores(tmp_path, "a", "b") as (a, b):
        fill(a, make_feed(alice, 3))
        fill(a, make_feed(bob, 3))
        result = await sync_pair(
            a, b, {alice.public_key, bob.public_key}, right_authors={bob.public_key}
        )
        assert result.right.received == 3
        assert b.head(alice.public_key) is None
        assert b.head(bob.public_key) is not None


async def test_second_sync_sends_nothing(tmp_path: Path) -> None:
    alice = signer("alice")
    with stores(tmp_path, "a", "b") as (a, b):
        fill(a, make_feed(alice, 25))
        await sync_pair(a, b, {alice.public_key})
        again = await sync_pair(a, b, {alice.public_key})
        assert again.left.outcome is Outcome.COMPLETE
        assert (again.left.sent, again.right.sent, again.right.received) == (0, 0, 0)


class CutStream(trio.abc.Stream):
    """A stream that breaks after ``budget`` bytes were sent through it."""

    def __init__(self, inner: trio.abc.Stream, budget: int) -> None:
        self.inner = inner
        self.budget = budget

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) > self.budget:
            await self.inner.send_all(bytes(data[: self.budget]))
            await self.inner.aclose()
            raise trio.BrokenResourceError("cut")
        self.budget -= len(data)
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return bytes(await self.inner.receive_some(max_bytes))

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_interrupted_sync_resumes_without_resending(tmp_path: Path) -> None:
    feeds = [signer(f"author{i}") for i in range(4)]
    authors = {s.public_key for s in feeds}
    with stores(tmp_path, "a", "b") as (a, b):
        for author in feeds:
            fill(a, make_feed(author, 300))
        left, right = trio.testing.memory_stream_pair()
        reports: list[SyncReport] = []

        small = SyncLimits(batch_bytes=8192)

        async def run(stream: trio.abc.Stream, store: Store) -> None:
            reports.append(await replicate(stream, store, scope=lambda: authors, limits=small))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run, CutStream(left, 60_000), a)
            nursery.start_soon(run, right, b)
        assert all(r.outcome is Outcome.INTERRUPTED for r in reports), [
            r.summary() for r in reports
        ]
        stored = b.stats().entries
        assert 0 < stored < 1200
        assert b.verify_all() == []
        resumed = await sync_pair(a, b, authors)
        assert resumed.left.outcome is Outcome.COMPLETE
        assert resumed.left.sent == 1200 - stored
        assert resumed.right.duplicates == 0
        assert snapshot(a) == snapshot(b)


async def test_live_session_pushes_appends_from_this_and_other_processes(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    alice, bob = signer("alice"), signer("bob")
    authors = {alice.public_key, bob.public_key}
    with stores(tmp_path, "a", "b") as (a, b):
        fill(a, make_feed(alice, 2))
        watcher = StoreWatcher(a)
        left, right = trio.testing.memory_stream_pair()
        reports: dict[str, SyncReport] = {"a": SyncReport(), "b": SyncReport()}
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watcher.run)
            nursery.start_soon(
                lambda: replicate(
                    left, a, scope=lambda: authors, live=True, watcher=watcher, report=reports["a"]
                )
            )
            nursery.start_soon(
                lambda: replicate(right, b, scope=lambda: authors, live=True, report=reports["b"])
            )
            await _until(lambda: b.stats().entries == 2)
            # In-process append, announced to the watcher:
            a.append(alice, "note", {"text": "live"})
            watcher.notify()
            await _until(lambda: b.stats().entries == 3)
            start = trio.current_time()
            # Another process writing the same store file (a second connection),
            # noticed only by polling change_marker():
            with Store(a.path) as other_process:
                other_process.append(alice, "note", {"text": "from the CLI"})
            await _until(lambda: b.stats().entries == 4)
            assert trio.current_time() - start <= 1.0
            # And the other direction, through b's private watcher:
            b.append(bob, "note", {"text": "hi"})
            await _until(lambda: a.stats().entries == 5)
            nursery.cancel_scope.cancel()
        assert reports["b"].live
        assert reports["b"].received == 4
        assert snapshot(a) == snapshot(b)


async def _until(condition: object, limit: float = 30.0) -> None:
    with trio.fail_after(limit):
        while not condition():  # type: ignore[operator]
            await trio.sleep(0.05)


async def test_live_chain_relays_through_a_shared_watcher(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """a - b - c with two live sessions at b sharing one watcher: a's append reaches c."""
    alice = signer("alice")
    authors = {alice.public_key}
    with stores(tmp_path, "a", "b", "c") as (a, b, c):
        watcher = StoreWatcher(b)
        ab = trio.testing.memory_stream_pair()
        bc = trio.testing.memory_stream_pair()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watcher.run)
            for stream, store, shared in (
                (ab[0], a, None),
                (ab[1], b, watcher),
                (bc[0], b, watcher),
                (bc[1], c, None),
            ):
                nursery.start_soon(
                    partial(
                        replicate, stream, store, scope=lambda: authors, live=True, watcher=shared
                    )
                )
            for n in range(1, 4):
                await trio.sleep(100)  # idle far beyond every time-out: live sessions wait
                a.append(alice, "note", {"n": n})
                start = trio.current_time()
                await _until(lambda n=n: c.stats().entries == n)
                assert trio.current_time() - start <= 1.0
            nursery.cancel_scope.cancel()
        assert snapshot(a) == snapshot(c)


async def test_live_scope_growth_is_asked_for_with_want(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    alice, bob = signer("alice"), signer("bob")
    with stores(tmp_path, "a", "b") as (a, b):
        fill(a, make_feed(alice, 3))
        fill(a, make_feed(bob, 4))
        wanted = {alice.public_key}
        left, right = trio.testing.memory_stream_pair()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                partial(
                    replicate, left, a, scope=lambda: {alice.public_key, bob.public_key}, live=True
                )
            )
            nursery.start_soon(partial(replicate, right, b, scope=lambda: set(wanted), live=True))
            await _until(lambda: b.stats().entries == 3)
            assert b.head(bob.public_key) is None
            wanted.add(bob.public_key)  # e.g. b now trusts bob
            await _until(lambda: b.stats().entries == 7)
            nursery.cancel_scope.cancel()
