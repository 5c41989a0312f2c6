"""The node daemon: keeps connections and sync sessions with peers, and gossips heads.

Theory of operation. :class:`Node` runs in one trio task tree over a
:class:`~samoorg.node.transport.Transport` and owns:

* **Sessions.** At most one replication session per peer, over a
  ``/samoorg/sync/1.0.0`` stream, running :func:`replicate` in live mode until
  the peer goes away. When both peers open a session at the same moment, the
  one opened by the lower peer key survives: an inbound session from a higher
  key is refused while our own outbound one is pending or started less than
  :data:`SIMULTANEOUS_WINDOW` ago, and an inbound session from a lower key
  replaces ours. Any other new inbound session replaces the old one: a peer
  opens a session only when it has none with us, so ours is stale (the peer
  restarted, or vanished without closing). Because the decision is taken
  before any ``await``, trio's single thread makes it race-free.
* **Peer loops.** One task per peer in the peer book with an address
  (given by hand, ``--bootstrap``, an invite code, mDNS, or learned from a
  peer that dialled us): dial (at most
  :data:`~samoorg.node.transport.DIAL_TIMEOUT` seconds), run a session, and
  after a failure wait ``backoff(failures)`` (exponential, capped, jittered)
  unless woken early by mDNS or ``samoorg peer add``. Each peer has its own
  task, so an unreachable peer never delays the others.
* **The store watcher.** Local commands write to the same SQLite store from
  other processes. Every :data:`POLL_INTERVAL` the watcher compares
  :meth:`Store.change_marker`; on a change it announces our own new entries
  on the heads topic, wakes the live sessions, and refreshes the replication
  scope (which also follows ``samoorg follow`` and the peer book). With our
  key, the node then confirms acceptances of our invites in our own feed
  (:func:`~samoorg.node.scope.confirm_acceptances`, through the one write
  path :mod:`samoorg.node.writer`), which is how others find our invitees'
  feeds.
* **The views.** :attr:`Node.live` holds every view of the store, loaded at
  start from the checkpoint plus the entries after it (or rebuilt,
  :mod:`samoorg.node.checkpoint`) and brought up to date on every store
  change. Domains are loaded when first needed (in a worker thread,
  :meth:`LiveViews.ensure <samoorg.node.daemon_views.LiveViews.ensure>`), so the
  node serves at once. The checkpoint is saved every :data:`CHECKPOINT_INTERVAL`
  seconds when at least :data:`CHECKPOINT_AFTER` entries arrived since the last
  save, by a forked child writing a snapshot (the loop keeps serving,
  :func:`~samoorg.node.checkpoint.save_in_child`), and when the node stops.
* **Gossip.** Announcements (:mod:`samoorg.protocol.announce`) carry new head
  entries. Received ones are verified and stored if they extend a feed in
  scope; anything else (a gap, an unknown feed) is left to pull sync.
* **Relay reservations** (``--relay``): held with each given relay and renewed,
  so that the node is reachable at ``<relay>/p2p-circuit/p2p/<us>`` when it
  cannot be dialled directly; the address appears in ``daemon.json`` and so in
  invite codes.
* **Published state.** ``daemon.json`` for ``samoorg status`` and
  ``samoorg peers``, rewritten when something changed.

Cancelling :meth:`Node.run` (SIGINT/SIGTERM in ``samoorg node run``) ends
every session and loop; the transport context then closes the connections.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import trio

from samoorg.node.checkpoint import StoreViews, open_views, save_if_behind, save_in_child
from samoorg.node.daemon_state import write_state
from samoorg.node.daemon_views import catch_up_in_steps, run_in_thread
from samoorg.node.home import Home
from samoorg.node.peerbook import PeerBook
from samoorg.node.replication import Outcome, SyncReport, replicate
from samoorg.node.scope import ScopeTracker, confirm_acceptances
from samoorg.node.store import Store, now_ms
from samoorg.node.store_watch import StoreWatcher
from samoorg.node.streams import ByteStream
from samoorg.node.transport import (
    DIAL_TIMEOUT,
    PeerAddress,
    Transport,
    TransportError,
    split_address,
)
from samoorg.node.writer import Writer
from samoorg.protocol.announce import decode_announcement, encode_announcement
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import decode_entry
from samoorg.protocol.errors import ProtocolError
from samoorg.protocol.ids import peer_id

log = logging.getLogger("samoorg.node")

SYNC_PROTOCOL: Final = "/samoorg/sync/1.0.0"
HEADS_TOPIC: Final = "/samoorg/heads/1"
POLL_INTERVAL: Final = 0.1
"""Seconds between checks of the store for writes by other processes."""
STATE_INTERVAL: Final = 0.5
ONESHOT_ATTEMPTS: Final = 5
"""Times ``samoorg sync`` through the daemon opens its session when the peer closes it unused."""
SIMULTANEOUS_WINDOW: Final = 10.0
"""Sessions opened by both peers within this many seconds are a race (lower key wins);
an older session of ours is stale when the peer opens a new one."""
RESERVATION_RENEW: Final = 30 * 60.0
"""Seconds between renewals of a relay reservation (the relay grants an hour)."""
RELAY_CHECK: Final = 2.0
BACKOFF_BASE: Final = 0.5
BACKOFF_MAX: Final = 60.0
CHECKPOINT_INTERVAL: Final = 300.0
"""Seconds between checks whether the views checkpoint is worth saving."""
CHECKPOINT_AFTER: Final = 10_000
"""Entries applied since the last save that make the periodic check save."""


def backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0.5 s doubling to 60 s, ±20%)."""
    if failures <= 0:
        return 0.0
    delay: float = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** min(failures - 1, 32))
    return delay * random.uniform(0.8, 1.2)


@dataclass(slots=True)
class _Session:
    peer: bytes
    outbound: bool
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    done: trio.Event = field(default_factory=trio.Event)
    report: SyncReport = field(default_factory=SyncReport)
    seen: tuple[int, int] = (0, 0)
    opened: float = field(default_factory=trio.current_time)
    oneshot: bool = False
    """``samoorg sync`` asked for it: it runs to its end (an inbound session waits)."""


@dataclass(slots=True)
class _PeerStatus:
    """What the daemon knows about a peer during this run."""

    last_sync: int | None = None
    last_error: str | None = None
    next_dial: float | None = None
    wake: trio.Event = field(default_factory=trio.Event)


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Options of ``samoorg node run``."""

    bootstrap: Sequence[str] = ()
    hops: int = 3
    announce: bool = True
    relays: Sequence[str] = ()
    """Relays to keep a reservation with, so that peers can reach us through them."""
    freeze: bool = False
    """Keep what the checkpoint loads out of the cyclic GC (a daemon process, not a test)."""


class Node:
    """A running node; see the module docstring."""

    def __init__(
        self,
        *,
        home: Home,
        store: Store,
        peer_book: PeerBook,
        transport: Transport,
        config: NodeConfig,
        signer: Signer | None = None,
    ) -> None:
        """``signer`` (our key) lets the node confirm acceptances of our invites."""
        self.home = home
        self.signer = signer
        self.store = store
        self.peer_book = peer_book
        self.transport = transport
        self.me = transport.local_peer
        self.config = config
        self.scope = ScopeTracker(store, peer_book, self.me, config.hops)
        self._sessions: dict[bytes, _Session] = {}
        self._status: dict[bytes, _PeerStatus] = {}
        self._loops: set[bytes] = set()
        self.watcher = StoreWatcher(store, poll_interval=POLL_INTERVAL)
        self._store_changed = trio.Event()
        self._dial_wake = trio.Event()
        self._state_dirty = True
        self._started = now_ms()
        self.announced = 0
        self.gossip_stored = 0
        self._nursery: trio.Nursery | None = None
        self.live: StoreViews | None = None
        """Every view of the store, from :meth:`run` on (see the module docstring)."""
        self._published: dict[str, Any] = {}

    # -- public --------------------------------------------------------------

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled (saving the views checkpoint on the way out)."""
        self.open_views()
        assert self.live is not None
        try:
            await self._run(task_status)
        finally:
            save_if_behind(self.live, threshold=1)

    async def _run(self, task_status: Any) -> None:
        for address in self.config.bootstrap:
            transport_part, key = split_address(address)
            if key != self.me:
                self.peer_book.add(key, [transport_part], "bootstrap")
        self._refresh_scope()
        self.transport.set_stream_handler(SYNC_PROTOCOL, self._serve_sync)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await self.transport.subscribe(HEADS_TOPIC, self._on_announcement)
            self.transport.on_peer_discovered(self._on_discovered)
            self.watcher.subscribe(self._on_store_change)
            nursery.start_soon(self.watcher.run)
            nursery.start_soon(self._follow_changes)
            nursery.start_soon(self._watch_peer_book)
            nursery.start_soon(self._dial_manager)
            nursery.start_soon(self._publish_state)
            nursery.start_soon(self._save_checkpoints)
            for relay in self.config.relays:
                nursery.start_soon(self._keep_reservation, relay)
            task_status.started()

    def open_views(self) -> None:
        """Open :attr:`live` (the checkpoint's header: domains load when first needed,
        ``node/daemon_views.py``: ``LiveViews.ensure``), if :meth:`run` has not yet."""
        if self.live is None:
            self.live = open_views(self.store, freeze=self.config.freeze)

    def publish(self, key: str, value: Any) -> None:
        """Add ``key`` to ``daemon.json`` (the API's address, for clients to find)."""
        self._published[key] = value
        self._state_dirty = True

    def sessions(self) -> dict[bytes, bool]:
        """Peers with a running session, mapped to whether we opened it."""
        return {peer: s.outbound for peer, s in self._sessions.items()}

    # -- store watching and gossip -------------------------------------------

    def _on_store_change(self) -> None:
        # Called by the StoreWatcher (our own sessions, gossip, other processes).
        self._store_changed.set()

    async def _follow_changes(self) -> None:
        rowid = self.store.change_marker()[0]
        while True:
            await self._store_changed.wait()
            self._store_changed = trio.Event()
            self._state_dirty = True
            marker = self.store.change_marker()[0]
            own = [
                entry.raw
                for row, entry in self.store.entries(author=self.me, since=rowid)
                if row <= marker
            ]
            rowid = marker
            if self.live is not None:
                await catch_up_in_steps(self.live)
            self._on_scope_inputs_changed()
            if own and self.config.announce:
                await self._announce(own)

    async def _watch_peer_book(self) -> None:
        version = self.peer_book.external_changes()
        while True:
            await trio.sleep(POLL_INTERVAL)
            now = self.peer_book.external_changes()
            if now != version:
                version = now
                self.peer_book_changed()

    def peer_book_changed(self) -> None:
        """Apply a change of the peer book now: dial new peers, recompute the scope.

        The API calls it after a peer book action (``peer add``, ``follow``);
        changes by other processes are found by polling the file.
        """
        self._dial_wake.set()
        for peer in list(self._status):  # a new address: try it now
            self._wake(peer)
        self._on_scope_inputs_changed()

    async def sync_once(
        self, address: str, *, hops: int, timeout: float
    ) -> tuple[bytes, SyncReport, float]:
        """One session with the peer at ``address`` now, on our own host (``samoorg sync``).

        Returns the peer, the session's report and the seconds taken, dial
        included. A live session with that peer is replaced by this one (the
        peer's loop opens a live one again afterwards). ``hops`` other than
        the daemon's own widens or narrows the scope of this session only.
        """
        from samoorg.crdt.framework.errors import RuleViolation
        from samoorg.node.oneshot import SyncTimeout

        transport_part, key = split_address(address)
        if key == self.me:
            raise RuleViolation("that address is this node itself")
        scope: Callable[[], frozenset[bytes]] = lambda: self.scope.current  # noqa: E731
        if hops != self.config.hops:
            tracker = ScopeTracker(self.store, self.peer_book, self.me, hops)
            scope = tracker.refresh
        started = trio.current_time()
        session = _Session(key, outbound=True, oneshot=True)
        try:
            with trio.fail_after(timeout):
                await self.transport.dial(address, timeout=min(timeout, DIAL_TIMEOUT))
                existing = self._sessions.get(key)
                if existing is not None:
                    existing.scope.cancel()
                    await existing.done.wait()
                self._sessions[key] = session
                self._state_dirty = True
                try:
                    with session.scope:
                        for attempt in range(1, ONESHOT_ATTEMPTS + 1):
                            session.report = SyncReport()
                            stream = await self.transport.open_stream(key, SYNC_PROTOCOL)
                            report = await replicate(  # owns the stream and closes it
                                stream,
                                self.store,
                                scope=lambda: scope() | {key},
                                peer=peer_id(key),
                                report=session.report,
                            )
                            # The peer still held the session just replaced and closed
                            # this one at once: ask again once it has seen that end.
                            moved = report.received or report.sent
                            if report.outcome is not Outcome.INTERRUPTED or moved:
                                break
                            await trio.sleep(0.2 * attempt)
                finally:
                    self._end(session)
        except trio.TooSlowError:
            raise SyncTimeout(f"sync with {address} did not finish within {timeout:g} s") from None
        self.peer_book.add(key, [transport_part], "manual")
        self.watcher.notify()
        self.peer_book_changed()
        return key, session.report, trio.current_time() - started

    def _on_scope_inputs_changed(self) -> None:
        before = self.scope.current
        after = self._refresh_scope()
        if after != before:
            log.info("replication scope now has %d feeds", len(after))
            self._state_dirty = True

    def _refresh_scope(self) -> frozenset[bytes]:
        scope = self.scope.refresh()
        # Confirm acceptances of our invites in our own feed, so that nodes
        # holding our feed find our invitees' feeds (node/scope.py).
        if self.signer is None or self.live is None or not self.scope.unconfirmed():
            return scope
        if confirm_acceptances(Writer(self.store, self.live, self.signer), self.scope):
            self.watcher.notify()
            scope = self.scope.refresh()
        return scope

    async def _save_checkpoints(self) -> None:
        while True:
            await trio.sleep(CHECKPOINT_INTERVAL)
            live = self.live
            if live is None or (live.unsaved < CHECKPOINT_AFTER and not live.views.worth_saving()):
                continue
            # Written by a forked child from a snapshot, so the loop serves meanwhile.
            applied = live.unsaved
            wait = save_in_child(live)
            if wait is not None and await run_in_thread(wait):
                live.unsaved -= applied

    async def _announce(self, raws: list[bytes]) -> None:
        await self.transport.announce(HEADS_TOPIC, encode_announcement(raws))
        self.announced += 1

    async def _on_announcement(self, origin: bytes, data: bytes) -> None:
        try:
            raws = decode_announcement(data)
        except ProtocolError as exc:
            log.debug("bad announcement from %s: %s", peer_id(origin)[:16], exc)
            return
        scope = self.scope.current
        wanted: list[bytes] = []
        for raw in raws:
            try:
                author = decode_entry(raw, verify_signature=False).author
            except ProtocolError:
                continue
            if author in scope:
                wanted.append(raw)
        if not wanted:
            return
        report = self.store.ingest(wanted)
        if report.new:
            self.gossip_stored += len(report.new)
            self.watcher.notify()
            if self.peer_book.get(origin) is not None:
                self.peer_book.record_sync(origin, len(report.new), 0, 0)
                self._peer_status(origin).last_sync = now_ms()
        if report.rejected:
            log.debug(
                "announcement from %s: %d not stored (%s); pull sync will fill gaps",
                peer_id(origin)[:16],
                len(report.rejected),
                report.rejected[0].describe(),
            )

    # -- discovery and dialling ----------------------------------------------

    def _on_discovered(self, found: PeerAddress) -> None:
        if found.peer == self.me:
            return
        known = self.peer_book.get(found.peer)
        if known is None or any(a not in known.addrs for a in found.addrs):
            log.info("found %s on the LAN", peer_id(found.peer)[:16])
        self.peer_book.add(found.peer, list(found.addrs), "mdns")
        self._wake(found.peer)
        self._dial_wake.set()

    def _wake(self, peer: bytes) -> None:
        status = self._status.get(peer)
        if status is not None:
            status.wake.set()

    def _peer_status(self, peer: bytes) -> _PeerStatus:
        status = self._status.get(peer)
        if status is None:
            status = self._status[peer] = _PeerStatus()
        return status

    async def _dial_manager(self) -> None:
        assert self._nursery is not None
        while True:
            for record in self.peer_book.all():
                if record.dialable and record.peer not in self._loops and record.peer != self.me:
                    self._loops.add(record.peer)
                    self._nursery.start_soon(self._peer_loop, record.peer)
            with trio.move_on_after(1.0):
                await self._dial_wake.wait()
            self._dial_wake = trio.Event()

    async def _sleep_or_wake(self, peer: bytes, seconds: float) -> None:
        status = self._peer_status(peer)
        status.next_dial = time.time() + seconds
        self._state_dirty = True
        with trio.move_on_after(seconds):
            await status.wake.wait()
        status.wake = trio.Event()
        status.next_dial = None

    async def _peer_loop(self, peer: bytes) -> None:
        failures = 0
        try:
            while True:
                record = self.peer_book.get(peer)
                if record is None or not record.dialable:
                    return
                active = self._sessions.get(peer)
                if active is not None:
                    await active.done.wait()
                    continue
                status = self._peer_status(peer)
                try:
                    await self.transport.dial_any(peer, record.addrs, timeout=DIAL_TIMEOUT)
                except TransportError as exc:
                    failures = self.peer_book.record_failure(peer, str(exc))
                    status.last_error = str(exc)
                    log.info("dial %s failed (%d in a row): %s", peer_id(peer)[:16], failures, exc)
                    await self._sleep_or_wake(peer, backoff(failures))
                    continue
                self.peer_book.record_connected(peer)
                if peer in self._sessions:
                    continue
                ok = await self._outbound(peer)
                failures = 0 if ok else failures + 1
                await self._sleep_or_wake(peer, backoff(max(failures, 1)))
        finally:
            self._loops.discard(peer)

    async def _keep_reservation(self, relay_address: str) -> None:
        """Hold a relay reservation: renew it before it expires, retake it when lost."""
        _, relay = split_address(relay_address)
        failures = 0
        while True:
            try:
                circuit = await self.transport.reserve(relay_address)
            except TransportError as exc:
                failures += 1
                log.warning("relay reservation with %s failed: %s", peer_id(relay)[:16], exc)
                await trio.sleep(backoff(failures))
                continue
            failures = 0
            self._state_dirty = True
            log.info("reachable through relay: %s", circuit)
            renew_at = trio.current_time() + RESERVATION_RENEW
            while trio.current_time() < renew_at and relay in self.transport.connected_peers():
                await trio.sleep(RELAY_CHECK)
            self.transport.drop_reservation(relay)
            self._state_dirty = True

    # -- sessions --------------------------------------------------------------

    async def _outbound(self, peer: bytes) -> bool:
        """Open and run a session to a connected peer; return whether it ran."""
        session = _Session(peer, outbound=True)
        self._sessions[peer] = session
        self._state_dirty = True
        ok = False
        try:
            with session.scope:
                stream = await self.transport.open_stream(peer, SYNC_PROTOCOL)
                ok = await self._run_session(session, stream)
        except TransportError as exc:
            self._peer_status(peer).last_error = str(exc)
            log.info("sync with %s not opened: %s", peer_id(peer)[:16], exc)
        finally:
            self._end(session)
        # Cancelled means replaced by the peer's own session (see the tie-break).
        return ok or session.scope.cancelled_caught

    async def _serve_sync(self, peer: bytes, stream: ByteStream) -> None:
        existing = self._sessions.get(peer)
        if existing is not None and existing.oneshot:
            log.debug("refusing a session from %s during a one-shot sync", peer_id(peer)[:16])
            return
        if existing is not None:
            simultaneous = trio.current_time() - existing.opened < SIMULTANEOUS_WINDOW
            if existing.outbound and self.me < peer and simultaneous:
                log.debug("refusing duplicate session from %s", peer_id(peer)[:16])
                return
            # Otherwise the peer opens a session because it has none with us:
            # ours is stale (it restarted, or its host vanished and came back).
            log.info("replacing a stale session with %s", peer_id(peer)[:16])
            existing.scope.cancel()
            await existing.done.wait()
        self.peer_book.add(peer, self.transport.known_addrs(peer), "inbound")
        session = _Session(peer, outbound=False)
        self._sessions[peer] = session
        self._state_dirty = True
        try:
            with session.scope:
                await self._run_session(session, stream)
        finally:
            self._end(session)

    async def _run_session(self, session: _Session, stream: ByteStream) -> bool:
        """Replicate live with the session's peer until it ends; return False if it failed."""
        peer = session.peer
        status = self._peer_status(peer)
        log.info(
            "sync with %s started (%s)",
            peer_id(peer)[:16],
            "outbound" if session.outbound else "inbound",
        )
        report = session.report
        try:
            await replicate(
                stream,
                self.store,
                # The peer's own feed is in scope for its session: that is how an
                # inviter receives the acceptance of someone not yet on its list.
                scope=lambda: self.scope.current | {peer},
                live=True,
                peer=peer_id(peer),
                watcher=self.watcher,
                report=report,
            )
        finally:
            with trio.CancelScope(shield=True):
                await stream.aclose()
        if report.outcome is Outcome.FAILED:
            status.last_error = report.error
            log.warning("sync with %s failed: %s", peer_id(peer)[:16], report.summary())
            return False
        log.info("sync with %s ended: %s", peer_id(peer)[:16], report.summary())
        return True

    def _end(self, session: _Session) -> None:
        peer = session.peer
        # Identify has told us the peer's listen addresses by now: keep them,
        # so that we can restore the connection if the peer does not.
        self.peer_book.add(peer, self.transport.known_addrs(peer), "inbound")
        if self._sessions.get(peer) is session:
            del self._sessions[peer]
        report = session.report
        status = self._peer_status(peer)
        if report.outcome is not Outcome.RUNNING:  # the session did run
            if report.received or report.sent or report.outcome is Outcome.COMPLETE:
                status.last_sync = now_ms()
            self.peer_book.record_sync(peer, report.received, report.sent, report.rejected)
        session.done.set()
        self._state_dirty = True

    # -- published state --------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What ``daemon.json`` holds: identity, addresses, peers, counters."""
        connected = self.transport.connected_peers()
        peers: list[dict[str, Any]] = []
        for peer in sorted(set(self._status) | connected | set(self._sessions)):
            status = self._peer_status(peer)
            session = self._sessions.get(peer)
            live = session.report if session is not None else SyncReport()
            moved = (live.received, live.sent)
            if session is not None and moved != session.seen:
                session.seen = moved
                status.last_sync = now_ms()
            peers.append(
                {
                    "id": peer_id(peer),
                    "connected": peer in connected,
                    "session": None
                    if session is None
                    else ("outbound" if session.outbound else "inbound"),
                    # Counts of the running session, not yet in the peer book.
                    "received": live.received,
                    "sent": live.sent,
                    "rejected": live.rejected,
                    "last_sync": status.last_sync,
                    "last_error": status.last_error,
                    "next_dial": status.next_dial,
                }
            )
        return {
            "pid": os.getpid(),
            "id": peer_id(self.me),
            "addrs": self.transport.listen_addrs(),
            "started": self._started,
            "updated": now_ms(),
            "hops": self.config.hops,
            "scope": len(self.scope.current),
            "announced": self.announced,
            "gossip_stored": self.gossip_stored,
            "peers": peers,
            **self._published,
        }

    async def _publish_state(self) -> None:
        last_written = 0.0
        while True:
            now = time.monotonic()
            if self._state_dirty or now - last_written > 5:
                self._state_dirty = False
                last_written = now
                write_state(self.home, self.state())
            await trio.sleep(STATE_INTERVAL)
