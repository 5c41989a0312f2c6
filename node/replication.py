"""The replication driver: one sync session over a byte stream, against the store.

Public API (stable; ``net`` builds on it)::

    report = await replicate(stream, store, scope=lambda: authors, live=False)

``stream`` is any :class:`~samoorg.node.streams.ByteStream` (a trio stream,
or a libp2p stream behind an adapter); ``replicate`` owns it and closes it on
return. ``scope`` returns the set of authors (32-byte keys) to replicate; it
is called at the start and, in live sessions, again every
``SyncLimits.scope_interval`` (new authors are asked for with ``want``). It
returns a
:class:`SyncReport` for every ending that is the peer's doing (it finished,
vanished, misbehaved, was too slow) and raises only for local faults. Pass a
``report`` to watch the counters of a long live session while it runs, and a
shared :class:`~samoorg.node.store_watch.StoreWatcher` when several sessions
use one store.

Theory of operation: :class:`~samoorg.protocol.sync.SyncSession` decides what
is allowed; this module decides what to send, stores what arrives and keeps
time. Two tasks share the session:

* the **reader** turns bytes into events: each ``Batch`` goes to
  :meth:`Store.ingest_runs` (one transaction; nothing unverified is stored)
  and is acknowledged after it is stored (a run whose last entries lack a
  valid signature of their own is held back and passed again in front of the
  next batch, which may carry the entry that signs for them, §7.9), new fork
  proofs are forwarded, acks return credit, ``Want`` requests pass a token
  bucket (back off, then disconnect), and ``CaughtUp`` triggers the check that the peer sent what
  its hello claimed. Every read has a deadline: the hello must come within
  ``handshake_timeout``, a started frame must finish within
  ``frame_timeout`` (the slow-drip sender), and while we expect data or acks
  something must arrive within ``progress_timeout``.
* the **writer** sends our hello, then everything the peer lacks according
  to its hello (a head whose id differs from ours at that seq is answered
  with our entry there, so the peer can prove the fork), then ``CaughtUp``;
  in a live session it then waits for store changes and pushes what is new.

Both send through one lock, so the order of bytes on the wire is the order
the session saw. What the peer holds is tracked per author (``_peer_known``:
its claimed heads, raised by every entry we send or receive), so an
interrupted sync resumes where the stores stand and nothing is echoed back.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

import trio

from samoorg.node.store import IngestReport, Rejection, Store
from samoorg.node.store_watch import StoreWatcher
from samoorg.node.streams import ByteStream
from samoorg.protocol.entry import Entry
from samoorg.protocol.errors import (
    BadSignature,
    PeerTimeout,
    ProtocolError,
    RemoteProtocolError,
    RequestFlood,
    TooManyRejections,
    TruncatedFrame,
    WithheldEntries,
)
from samoorg.protocol.fork import ForkProof
from samoorg.protocol.framing import Signal
from samoorg.protocol.ids import peer_id
from samoorg.protocol.sync import Closed, SyncSession
from samoorg.protocol.sync_messages import (
    MAX_HEADS,
    PROTOCOL_VERSION,
    Ack,
    Batch,
    CaughtUp,
    Entries,
    Fork,
    Head,
    Hello,
    Message,
    Received,
    Want,
)

Scope: TypeAlias = Callable[[], AbstractSet[bytes]]
"""Returns the authors (32-byte Ed25519 keys) whose feeds a node replicates."""

KEPT_REJECTIONS: Final = 32
"""How many individual rejections a report keeps (all are counted)."""


@dataclass(frozen=True, slots=True)
class SyncLimits:
    """Time limits, batch sizes and abuse thresholds of one session (all documented in §7.8)."""

    handshake_timeout: float = 10.0
    """Seconds from the start until the peer's hello must have arrived."""
    frame_timeout: float = 10.0
    """Seconds a started frame may take to arrive completely (slow-drip senders)."""
    progress_timeout: float = 30.0
    """Seconds of silence allowed while we wait for the peer's catch-up data or acks."""
    credit: int = 8
    """``Entries`` frames we let the peer have in flight (our hello's credit)."""
    batch_bytes: int = 256 * 1024
    """Target size of the ``Entries`` frames we send."""
    batch_entries: int = 2048
    """Most entries in one ``Entries`` frame we send."""
    read_size: int = 64 * 1024
    """Largest single read from the stream."""
    want_rate: float = 4.0
    """Sustained ``Want`` requests per second we serve without backing off."""
    want_burst: int = 16
    """``Want`` requests we serve in a burst."""
    backoff: float = 1.0
    """First back-off pause in seconds when the peer floods; doubles each time."""
    max_strikes: int = 3
    """Back-offs before we disconnect a flooding peer."""
    max_rejected: int = 256
    """Rejected entries (bad signatures, gaps, forks...) before we disconnect."""
    scope_interval: float = 1.0
    """Live sessions call ``scope()`` at most this often (seconds)."""


DEFAULT_LIMITS: Final = SyncLimits()


class Outcome(enum.Enum):
    """How a session ended."""

    RUNNING = "running"
    COMPLETE = "complete"
    """Both sides caught up and everything sent was acknowledged."""
    INTERRUPTED = "interrupted"
    """The stream ended or broke first; a later sync resumes from the stores' heads."""
    FAILED = "failed"
    """The peer broke the protocol or a limit; ``error`` says how."""


@dataclass(slots=True)
class SyncReport:
    """What a session did; counters update while it runs."""

    peer: str | None = None
    outcome: Outcome = Outcome.RUNNING
    error: str | None = None
    """``"ErrorName: message"`` when the outcome is FAILED."""
    live: bool = False
    received: int = 0
    """New entries stored from this peer."""
    sent: int = 0
    """Entries sent to this peer."""
    duplicates: int = 0
    """Entries received that we already held."""
    rejected: int = 0
    """Entries received and not stored; ``reasons`` counts them by error name."""
    reasons: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    """The first few rejections in detail."""
    forks_received: int = 0
    """New fork proofs stored (received, or found in received entries)."""
    forks_sent: int = 0
    started: float = 0.0
    """``trio.current_time()`` at the start."""
    finished: float | None = None

    def add(self, result: IngestReport) -> None:
        """Count one stored batch."""
        self.received += len(result.new)
        self.duplicates += result.duplicates
        self.rejected += len(result.rejected)
        for rejection in result.rejected:
            self.reasons[rejection.error] = self.reasons.get(rejection.error, 0) + 1
            if len(self.rejections) < KEPT_REJECTIONS:
                self.rejections.append(rejection)

    def to_json(self) -> dict[str, object]:
        """The report as plain JSON values (for ``--json`` output and peer books)."""
        return {
            "peer": self.peer,
            "outcome": self.outcome.value,
            "error": self.error,
            "live": self.live,
            "received": self.received,
            "sent": self.sent,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "reasons": dict(self.reasons),
            "rejections": [r.describe() for r in self.rejections],
            "forks_received": self.forks_received,
            "forks_sent": self.forks_sent,
            "seconds": (self.finished or self.started) - self.started,
        }

    def summary(self) -> str:
        """One human line."""
        return report_summary(self.to_json())


def report_summary(report: Mapping[str, Any]) -> str:
    """The one human line of a report's :meth:`SyncReport.to_json` (the API's answer too)."""
    text = (
        f"{report['outcome']}: received {report['received']}, sent {report['sent']}, "
        f"rejected {report['rejected']}, duplicates {report['duplicates']}"
    )
    if report["forks_received"] or report["forks_sent"]:
        text += f", fork proofs received {report['forks_received']} sent {report['forks_sent']}"
    return text + (f" ({report['error']})" if report["error"] else "")


async def replicate(
    stream: ByteStream,
    store: Store,
    *,
    scope: Scope,
    live: bool = False,
    peer: str | None = None,
    limits: SyncLimits = DEFAULT_LIMITS,
    watcher: StoreWatcher | None = None,
    report: SyncReport | None = None,
) -> SyncReport:
    """Run one replication session over ``stream``; see the module docstring.

    With ``live=False`` it returns once both sides caught up. With
    ``live=True`` (and a live peer) it keeps pushing new entries until the
    peer leaves, something fails, or the caller cancels it. ``peer`` is a
    label for the report (e.g. the remote peer id). The hello asks for at most
    8192 feeds (the first by author key); a live session asks for the rest
    with ``want`` a moment later, a one-shot session does not.
    """
    report = report if report is not None else SyncReport()
    report.peer = peer
    report.started = trio.current_time()
    driver = _Replication(stream, store, scope, live, limits, watcher, report)
    try:
        await driver.run()
    finally:
        report.finished = trio.current_time()
        if report.outcome is Outcome.RUNNING:
            report.outcome = Outcome.INTERRUPTED
        with trio.move_on_after(1.0) as closing:
            closing.shield = True
            await stream.aclose()
    return report


class _Signal:
    """Wakes every task waiting at the moment it fires (a re-armed trio.Event)."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class _RequestGate:
    """Token bucket for ``Want`` requests: back off when empty, then give up."""

    def __init__(self, limits: SyncLimits) -> None:
        self._limits = limits
        self._tokens = float(limits.want_burst)
        self._updated = trio.current_time()
        self.strikes = 0

    async def admit(self) -> None:
        limits = self._limits
        now = trio.current_time()
        self._tokens = min(
            float(limits.want_burst), self._tokens + (now - self._updated) * limits.want_rate
        )
        self._updated = now
        if self._tokens < 1:
            self.strikes += 1
            if self.strikes > limits.max_strikes:
                raise RequestFlood(
                    f"expected at most {limits.want_rate:g} Want requests per second "
                    f"(bursts of {limits.want_burst}), found a flood that outlasted "
                    f"{limits.max_strikes} back-offs"
                )
            # Not reading is the back-off: the peer's writes block on the
            # transport's flow control until we resume.
            pause = limits.backoff * 2 ** (self.strikes - 1)
            await trio.sleep(pause)
            self._tokens = min(float(limits.want_burst), pause * limits.want_rate)
            self._updated = trio.current_time()
        self._tokens -= 1


def _signed_through(store: Store, entry: Entry) -> int:
    """The seq of the first stored entry from ``entry`` on whose own signature verifies.

    The stored head always has one (docs/protocol.md §4.1), so this ends there
    at the latest.
    """
    current: Entry | None = entry
    while current is not None:
        try:
            current.verify()
        except BadSignature:
            current = store.get(current.author, current.seq + 1)
            continue
        return current.seq
    return entry.seq


def _short(author: bytes) -> str:
    return peer_id(author)[:16] + "…"


class _Replication:
    """One running session: the reader and writer tasks and what they share."""

    def __init__(
        self,
        stream: ByteStream,
        store: Store,
        scope: Scope,
        live: bool,
        limits: SyncLimits,
        watcher: StoreWatcher | None,
        report: SyncReport,
    ) -> None:
        self._stream = stream
        self._store = store
        self._scope = scope
        self._live = live
        self._limits = limits
        self._own_watcher = watcher is None
        self._watcher = watcher if watcher is not None else StoreWatcher(store)
        self.report = report
        self.session = SyncSession()
        self._send_lock = trio.Lock()
        self._done = trio.Event()
        self._their_hello = trio.Event()
        self._credit = _Signal()
        self._wake = _Signal()
        self._dirty = False
        self._peer_known: dict[bytes, int] = {}
        self._claims: dict[bytes, Head] = {}
        self._held: tuple[Entry, ...] = ()
        self._peer_forks: set[bytes] = set()
        """Authors whose fork proof the peer sent us this session."""
        self._peer_listed: set[bytes] = set()
        """Authors the peer's hello listed as forked: we still send ours (its cut may be lower)."""
        self._unsendable: set[bytes] = set()
        self._gate = _RequestGate(limits)
        now = trio.current_time()
        self._last_progress = now
        self._partial_since: float | None = None
        self._read_scope: trio.CancelScope | None = None
        self._next_scope_check = now

    # -- lifecycle -------------------------------------------------------------

    async def run(self) -> None:
        unsubscribe = self._watcher.subscribe(self._mark_dirty)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._guard, self._reader, True)
                nursery.start_soon(self._guard, self._writer, False)
                if self._own_watcher and self._live:
                    nursery.start_soon(self._watcher.run)
                await self._done.wait()
                # Let a send in progress finish, so no half frame is left
                # behind, unless the peer stopped reading and it cannot.
                with trio.move_on_after(self._limits.frame_timeout):
                    await self._send_lock.acquire()
                nursery.cancel_scope.cancel()
        finally:
            unsubscribe()
        if self.report.outcome is Outcome.RUNNING and self.session.caught_up:
            self.report.outcome = Outcome.COMPLETE

    async def _guard(self, task: Callable[[], Awaitable[None]], ends_session: bool) -> None:
        # The peer's misbehaviour and a vanished transport end the session with
        # a report; local faults (bugs, StoreError) propagate to the caller.
        # The reader returning also ends it (end of stream, or complete); the
        # writer returning (one-shot, after CaughtUp) does not.
        try:
            await task()
        except TruncatedFrame as exc:
            # The connection dropped mid-frame: interrupted, not misbehaving.
            self.report.error = f"{exc.name}: {exc}"
        except RemoteProtocolError as exc:
            self._fail(exc)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        else:
            if not ends_session:
                return
        self._done.set()

    def _fail(self, exc: ProtocolError) -> None:
        if self.report.outcome is Outcome.RUNNING:
            self.report.outcome = Outcome.FAILED
            self.report.error = f"{exc.name}: {exc}"

    def _mark_dirty(self) -> None:
        self._dirty = True
        self._wake.fire()

    async def _send(self, message: Message) -> None:
        async with self._send_lock:
            data = self.session.send(message)
            if isinstance(message, Entries) and self.session.unacked == 1:
                # We start waiting for an ack now, not when the peer last spoke.
                self._last_progress = trio.current_time()
            self._refresh_deadline()
            await self._stream.send_all(data)
            if self.session.complete:
                self._done.set()

    # -- reader ----------------------------------------------------------------

    async def _reader(self) -> None:
        session = self.session
        while True:
            event = session.next_event()
            if isinstance(event, Signal):  # NEED_DATA
                session.receive_data(await self._receive())
                continue
            self._partial_since = None
            if isinstance(event, Closed):
                self._release_held()
                return
            await self._handle(event)
            if session.complete:
                return

    async def _receive(self) -> bytes:
        if self.session.buffered and self._partial_since is None:
            self._partial_since = trio.current_time()
        # The deadline depends on state the writer changes while we wait (a
        # batch sent makes us expect an ack), so _send moves it: see
        # _refresh_deadline.
        with trio.CancelScope(deadline=self._deadline()[0]) as scope:
            self._read_scope = scope
            try:
                return await self._stream.receive_some(self._limits.read_size)
            finally:
                self._read_scope = None
        raise PeerTimeout(self._deadline()[1]())

    def _refresh_deadline(self) -> None:
        if self._read_scope is not None:
            self._read_scope.deadline = self._deadline()[0]

    def _deadline(self) -> tuple[float, Callable[[], str]]:
        limits, session = self._limits, self.session
        options: list[tuple[float, Callable[[], str]]] = [(math.inf, str)]
        if session.their_hello is None:
            options.append(
                (
                    self.report.started + limits.handshake_timeout,
                    lambda: (
                        f"expected the peer's Hello within {limits.handshake_timeout:g} s, "
                        "found none"
                    ),
                )
            )
        if self._partial_since is not None:
            options.append(
                (
                    self._partial_since + limits.frame_timeout,
                    lambda: (
                        f"expected a started frame to arrive within {limits.frame_timeout:g}"
                        f" s, found {session.buffered} bytes of it: a slow sender"
                    ),
                )
            )
        if session.their_hello is not None and (not session.their_caught_up or session.unacked > 0):
            options.append(
                (
                    self._last_progress + limits.progress_timeout,
                    lambda: (
                        f"expected entries, acks or CaughtUp within "
                        f"{limits.progress_timeout:g} s, found none"
                    ),
                )
            )
        return min(options, key=lambda option: option[0])

    async def _handle(self, event: Received) -> None:
        if isinstance(event, Want):
            await self._gate.admit()
            self._learn_claims(event.heads)
            self._mark_dirty()
            return
        self._last_progress = trio.current_time()
        if isinstance(event, Hello):
            self._learn_claims(event.heads)
            self._peer_listed.update(event.forks)
            self.report.live = self.session.live
            self._their_hello.set()
        elif isinstance(event, Batch):
            await self._ingest(event)
        elif isinstance(event, Fork):
            author = event.proof.author
            self._peer_forks.add(author)
            if self._store.ingest_fork_proof(event.proof.to_bytes()) is not None:
                self.report.forks_received += 1
                self._watcher.notify()
        elif isinstance(event, Ack):
            self._credit.fire()
        else:
            assert isinstance(event, CaughtUp)
            self._release_held()
            self._check_claims_delivered()

    def _learn_claims(self, heads: tuple[Head, ...]) -> None:
        for head in heads:
            if head.seq > self._peer_known.get(head.author, 0):
                self._peer_known[head.author] = head.seq
                self._claims[head.author] = head

    async def _ingest(self, batch: Batch) -> None:
        entries = (*self._held, *batch.entries) if self._held else batch.entries
        result = self._store.ingest_runs(entries, hold_tail=True)
        self._held = tuple(result.held)
        self.report.add(result)
        # The peer holds what it sent us: never echo it. Each author's entries
        # form one ascending run, so the last one per author is the highest.
        known = self._peer_known
        for author, seq in {e.author: e.seq for e in batch.entries}.items():
            if seq > known.get(author, 0):
                known[author] = seq
        if result.new or result.forks:
            self._watcher.notify()
        for proof in result.forks:
            self.report.forks_received += 1
            await self._offer_fork(proof)
        await self._send(Ack(1))
        self._check_rejections()

    def _check_rejections(self) -> None:
        # Entries of an author we just found forked are refused for free, and
        # an honest peer may still be pushing them: they do not count.
        costly = self.report.rejected - self.report.reasons.get("ForkedAuthor", 0)
        if costly > self._limits.max_rejected:
            raise TooManyRejections(
                f"expected at most {self._limits.max_rejected} rejected entries per session, "
                f"found {self.report.rejected} ({self.report.rejections[0].describe()}, ...)"
            )

    def _release_held(self) -> None:
        # No batch follows that could sign for the held entries: the per-entry
        # path rejects them (and says why).
        if self._held:
            held, self._held = self._held, ()
            self.report.add(self._store.ingest_runs(held))
            self._check_rejections()

    def _check_claims_delivered(self) -> None:
        # An honest peer sends, before CaughtUp, every entry up to the heads it
        # claimed for feeds we asked for (or a fork proof instead).
        hello = self.session.their_hello
        assert hello is not None
        held = {h.author: h.seq for h in self._store.heads()}
        forked = self._store.forked_authors()
        short = [
            (h, held.get(h.author, 0))
            for h in hello.heads
            if h.author in self.session.wanted
            and h.author not in forked
            and held.get(h.author, 0) < h.seq
        ]
        if short:
            head, have = short[0]
            raise WithheldEntries(
                f"expected entries up to the heads the peer claimed, found {len(short)} feed(s) "
                f"short, e.g. {_short(head.author)} claimed #{head.seq}, we hold #{have}"
            )

    # -- writer ----------------------------------------------------------------

    async def _writer(self) -> None:
        await self._send(self._hello())
        await self._their_hello.wait()
        await self._push()
        await self._send(CaughtUp())
        if not self.session.live:
            return
        while True:
            while not self._dirty and not self._scope_due():
                with trio.move_on_at(self._next_scope_check):
                    await self._wake.wait()
            await self._widen_scope()
            if self._dirty:
                self._dirty = False
                await self._push()

    def _hello(self) -> Hello:
        authors = self._scope()
        cuts = self._store.fork_cuts()
        forked = set(cuts)
        held = {h.author: h for h in self._store.heads()}
        # A forked feed is still wanted while we lack part of its common prefix (§4.4, §7.6).
        short = {a for a in forked & authors if (held[a].seq if a in held else 0) < cuts[a] - 1}
        heads = [
            Head(a, held[a].seq, held[a].id) if a in held else Head(a, 0, None)
            for a in sorted((authors - forked) | short)[:MAX_HEADS]
        ]
        self._next_scope_check = trio.current_time() + self._limits.scope_interval
        return Hello(
            version=PROTOCOL_VERSION,
            credit=self._limits.credit,
            live=self._live,
            heads=tuple(heads),
            forks=tuple(sorted(forked & authors)[:MAX_HEADS]),
        )

    def _scope_due(self) -> bool:
        return trio.current_time() >= self._next_scope_check

    async def _widen_scope(self) -> None:
        # Feeds that entered our scope since the hello (a new trust edge, a
        # follow) are asked for with Want; at most once per scope_interval.
        if not self._scope_due():
            return
        self._next_scope_check = trio.current_time() + self._limits.scope_interval
        new = self._scope() - self.session.wanted - self._store.forked_authors()
        if not new:
            return
        held = {h.author: h for h in self._store.heads()}
        heads = [
            Head(a, held[a].seq, held[a].id) if a in held else Head(a, 0, None)
            for a in sorted(new)[:MAX_HEADS]
        ]
        await self._send(Want(tuple(heads)))

    async def _push(self) -> None:
        """Send the peer every fork proof and entry it wants and lacks, in batches."""
        session, store = self.session, self._store
        forked = store.forked_authors()
        wanted = session.peer_wants | self._peer_listed
        due = (forked & wanted) - session.forks_sent - self._peer_forks
        for author in sorted(due - self._unsendable):
            try:
                proof = store.fork_proof(author)
            except RemoteProtocolError:
                # Built from an entry only its successor vouched for (§7.9).
                self._unsendable.add(author)
                continue
            if proof is not None:
                await self._offer_fork(proof)
        batch: list[bytes] = []
        size = 0
        cuts = store.fork_cuts() if forked else {}
        for head in store.heads():
            author = head.author
            if author not in session.peer_wants:
                continue
            known = self._peer_known.get(author, 0)
            start, stop = min(known, head.seq), head.seq
            claim = self._claims.pop(author, None)
            if author in forked:
                # Only the common prefix of a forked feed, before its cut (§4.4, §7.6).
                stop = min(stop, cuts.get(author, 1) - 1)
            elif claim is not None and 0 < claim.seq <= head.seq:
                ours = store.get(author, claim.seq)
                if ours is not None and ours.id != claim.id:
                    # Our entry at that seq lets the peer prove the fork; what
                    # follows it would only be rejected, except the entries
                    # that sign for it if its own signature is invalid (§7.6).
                    start, stop = claim.seq - 1, _signed_through(store, ours)
            while start < stop:
                raws = store.feed_raw(author, start, min(self._limits.batch_entries, stop - start))
                if not raws:
                    break
                for raw in raws:
                    if batch and (
                        size + len(raw) > self._limits.batch_bytes
                        or len(batch) >= self._limits.batch_entries
                    ):
                        await self._send_batch(batch)
                        batch, size = [], 0
                    batch.append(raw)
                    size += len(raw)
                start += len(raws)
            self._peer_known[author] = max(known, stop)
        if batch:
            await self._send_batch(batch)

    async def _send_batch(self, raws: list[bytes]) -> None:
        while self.session.send_credit <= 0:
            await self._credit.wait()
        await self._send(Entries(tuple(raws)))
        self.report.sent += len(raws)

    async def _offer_fork(self, proof: ForkProof) -> None:
        author = proof.author
        session = self.session
        if (
            (author in session.peer_wants or author in self._peer_listed)
            and author not in session.forks_sent
            and author not in self._peer_forks
        ):
            await self._send(Fork(proof))
            self.report.forks_sent += 1
