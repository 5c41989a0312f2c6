"""Real nodes in one process over libp2p on loopback: live sync, tie-break, timeouts, restart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from samoorg.node.daemon import backoff
from samoorg.protocol.ids import peer_id
from tests.net_fixtures import head_seqs, running_node, wait_until

pytestmark = pytest.mark.network


def test_backoff_doubles_and_caps() -> None:
    assert backoff(0) == 0
    assert 0.4 <= backoff(1) <= 0.6
    assert 0.8 <= backoff(2) <= 1.2
    assert 48 <= backoff(40) <= 72


async def test_local_writes_reach_a_bootstrapped_peer_live(tmp_path: Path) -> None:
    async with running_node(tmp_path / "a") as a:
        bootstrapped = running_node(tmp_path / "b", bootstrap=[a.addr], follow=[a.key])
        async with bootstrapped as b:
            a.write(5)  # another process's store handle: the daemon must notice
            await wait_until(lambda: head_seqs(b.store).get(a.key) == 5, 10, "first batch")
            a.write(1)
            elapsed = await wait_until(lambda: head_seqs(b.store).get(a.key) == 6, 10, "live")
            assert elapsed < 2.0
            # The peer's own feed is in scope for its session: a receives b's feed.
            b.write(2)
            await wait_until(lambda: head_seqs(a.store).get(b.key) == 2, 10, "b's feed at a")
            assert b.node.sessions() == {a.key: True}
            assert a.node.sessions() == {b.key: False}
            state = b.node.state()
            assert [p["id"] for p in state["peers"]] == [peer_id(a.key)]
            assert state["peers"][0]["connected"]


async def test_feeds_outside_the_scope_are_not_fetched(tmp_path: Path) -> None:
    async with (
        running_node(tmp_path / "a") as a,
        running_node(tmp_path / "c") as c,
    ):
        c.write(3)
        a.book.follow([c.key])
        a.book.add(c.key, [c.addr.split("/p2p/")[0]], "manual")
        a.node.scope.refresh()
        await wait_until(lambda: head_seqs(a.store).get(c.key) == 3, 10, "c at a")
        async with running_node(tmp_path / "b", bootstrap=[a.addr]) as b:
            a.write(2)
            await wait_until(lambda: head_seqs(b.store).get(a.key) == 2, 10, "a at b")
            await trio.sleep(0.5)
            assert c.key not in head_seqs(b.store)  # b neither follows c nor trusts it


async def test_simultaneous_sessions_collapse_to_one(tmp_path: Path) -> None:
    async with running_node(tmp_path / "a") as a, running_node(tmp_path / "b") as b:
        # Each learns the other at the same moment and dials.
        a.book.add(b.key, [b.addr.split("/p2p/")[0]], "manual")
        b.book.add(a.key, [a.addr.split("/p2p/")[0]], "manual")
        a.node._dial_wake.set()
        b.node._dial_wake.set()
        await wait_until(
            lambda: a.key in b.node.sessions() and b.key in a.node.sessions(), 10, "sessions"
        )
        await trio.sleep(1.5)
        lower = min(a.key, b.key)
        opener, other = (a, b) if a.key == lower else (b, a)
        assert opener.node.sessions() == {other.key: True}
        assert other.node.sessions() == {opener.key: False}


async def test_unreachable_peer_does_not_delay_the_others(tmp_path: Path) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    silent = os.urandom(32)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, lambda s: trio.sleep_forever(), listeners)
        async with running_node(tmp_path / "b") as b:
            b.write(3)
            async with running_node(tmp_path / "a", follow=[b.key]) as a:
                a.book.add(silent, [f"/ip4/127.0.0.1/tcp/{port}"], "manual")
                a.book.add(b.key, [b.addr.split("/p2p/")[0]], "manual")
                a.node._dial_wake.set()
                took = await wait_until(lambda: head_seqs(a.store).get(b.key) == 3, 10, "b")
                assert took < 3.0

                def silent_failed() -> bool:
                    record = a.book.get(silent)
                    return record is not None and record.failures > 0

                took = await wait_until(silent_failed, 8, "the silent peer's dial to time out")
                assert took < 6.0
                record = a.book.get(silent)
                assert record is not None
                assert "did not answer within 5 s" in (record.last_error or "")
        nursery.cancel_scope.cancel()


async def test_reconnects_after_peer_restart(tmp_path: Path) -> None:
    probe = trio.socket.socket()
    await probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    fixed = f"/ip4/127.0.0.1/tcp/{port}"
    async with running_node(tmp_path / "a") as a:
        async with running_node(tmp_path / "b", listen=fixed, follow=[a.key]) as b:
            a.book.add(b.key, [fixed], "manual")
            a.node._dial_wake.set()
            await wait_until(lambda: b.key in a.node.sessions(), 10, "first session")
        a.write(2)
        await wait_until(lambda: b.key not in a.node.sessions(), 10, "session end")
        async with running_node(tmp_path / "b", listen=fixed, follow=[a.key]) as b:
            took = await wait_until(lambda: head_seqs(b.store).get(a.key) == 2, 20, "resync")
            assert b.key in a.node.sessions() or a.key in b.node.sessions()
        assert took < 15
