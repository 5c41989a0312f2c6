"""The daemon's views: every stored entry in memory, updated as entries arrive.

Theory of operation. :class:`LiveViews` holds, from daemon start, an
:class:`~samoorg.crdt.framework.index.EntryIndex` and its
:class:`~samoorg.crdt.framework.views.Views`, with the store rowid of every entry.
:meth:`LiveViews.refresh` reads only the rows after the last (entries stored
by sync sessions, gossip, the API, or local commands in other processes), so
the views update incrementally (see :mod:`samoorg.crdt.framework.views`), and tells the
listeners (the API's event stream) which entries arrived. :meth:`follow` runs
``refresh`` whenever the daemon's store watcher reports a change.

``log`` is the entries read since the checkpoint in rowid order (references
to the index's objects); :meth:`newest_first` reads older ones from the store
(rowid order, so a page of ``samoorg log`` costs the page). :meth:`memo` keeps
derived listings (the social views, a sorted order) until an entry of the
kinds they are made from arrives, so the second and later pages of a listing
cost the page, and an idea does not make the pledge listing be sorted again.

The state itself is the daemon's :class:`~samoorg.node.checkpoint.StoreViews`
(loaded from the checkpoint at start, saved when the daemon stops), so the
API and the node share one copy. Writes (:meth:`append`) go through the one
write path (:class:`~samoorg.node.writer.Writer`): checked inside the store's
write transaction, and a refused record leaves no trace in the views.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_left
from collections.abc import (
    Callable,
    Collection,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import trio

from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.forum import ForumState
from samoorg.crdt.kinds.polls import PollsState
from samoorg.crdt.kinds.ratings import RatingsState
from samoorg.crdt.kinds.trust import TrustState
from samoorg.node.home import Home
from samoorg.node.store import Store

if TYPE_CHECKING:
    from samoorg.crdt.framework.domain import Domain
    from samoorg.crdt.kinds.social import SocialViews
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.store_watch import StoreWatcher
    from samoorg.protocol import dcbor
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.entry import Entry

log = logging.getLogger("samoorg.node")

Listener = Callable[[Sequence["Entry"]], None]
T = TypeVar("T")
SOCIAL_KINDS: Final = (
    *TrustState.kinds,
    *ForumState.kinds,
    *RatingsState.kinds,
    *PollsState.kinds,
)
"""What :func:`~samoorg.crdt.kinds.social.social_views` reads: trust list, forum, ratings, polls."""


async def run_in_thread(work: Callable[[], T]) -> T:
    """``work()`` in a trio worker thread; cancelling the caller abandons the thread."""
    # mypy reads run_sync's ``*args: Unpack[Ts]`` as swallowing the keyword.
    return await trio.to_thread.run_sync(work, abandon_on_cancel=True)  # type: ignore[call-arg]


CATCH_UP_STEP: Final = 1000
"""The most stored entries applied to the views between two turns of the daemon's loop."""


async def catch_up_in_steps(state: StoreViews) -> None:
    """Apply every entry stored since, :data:`CATCH_UP_STEP` at a time, letting the loop
    run between steps: while another process stores a million entries, a request
    waits for one step, not for the whole backlog. Each step also resolves what it
    changed in the domains loaded (:meth:`Views.settle
    <samoorg.crdt.framework.views.Views.settle>`), so the next query does not
    resolve the invites of twenty steps at once."""
    while True:
        applied = len(state.catch_up(limit=CATCH_UP_STEP))
        if applied:
            with paused_gc():
                state.views.settle()
        if applied < CATCH_UP_STEP:
            return
        await trio.sleep(0)


class LiveViews:
    """The views of one store, kept current by :meth:`refresh` (over the daemon's
    :class:`~samoorg.node.checkpoint.StoreViews`)."""

    def __init__(self, store: Store, state: StoreViews | None = None) -> None:
        from samoorg.node.checkpoint import open_views

        self.store = store
        self.state = open_views(store) if state is None else state
        self._memo: dict[Hashable, tuple[Hashable, object]] = {}
        self._kind_versions: dict[str, int] = {}
        """How many entries of each kind arrived (the stamps of :meth:`memo`)."""
        self.listen(self._count_kinds)
        self._changed = trio.Event()
        self._loading: dict[type[Domain], tuple[trio.Event, float]] = {}
        """The domains being loaded: the event set when done, the start (trio's clock)."""
        self._nursery: trio.Nursery | None = None

    @property
    def views(self) -> Views:
        """The views (the same object for the daemon's whole run)."""
        return self.state.views

    @property
    def index(self) -> EntryIndex:
        """The views' entry index."""
        return self.state.views.index

    @property
    def log(self) -> Sequence[Entry]:
        """The entries held in memory (those read after the checkpoint), in rowid order."""
        return self.state.views.index.log

    @property
    def rowids(self) -> list[int]:
        """The store rowid of each entry of :attr:`log` (ascending)."""
        return self.state.rowids

    def load_in(self, nursery: trio.Nursery) -> None:
        """Run the loads of :meth:`ensure` in ``nursery`` (the daemon's), so that a
        request that stops waiting (``patience``) does not abandon the load."""
        self._nursery = nursery

    async def ensure(
        self, classes: Iterable[type[Domain]], *, patience: float | None = None
    ) -> bool:
        """Load the domains ``classes`` from the checkpoint without blocking the loop.

        The daemon serves at once and loads a domain when it is first needed
        (so its memory grows with what is asked). A request that needs a
        domain not loaded yet awaits this: the section is unpickled in a
        worker thread (:meth:`Checkpoint.preload
        <samoorg.node.checkpoint.Checkpoint.preload>`) while the loop serves
        other requests, then attached and brought up to date here, in the
        loop's thread. Concurrent callers share one load. Without a
        checkpoint (a rebuild), or for a domain already loaded, this is a
        no-op and :meth:`Views.domain` builds it when used.

        With ``patience`` (seconds), returns ``False`` if the domains are still
        loading after it; the load goes on in the nursery of :meth:`load_in`
        (the API then answers ``503 loading``). Returns ``True`` once loaded.
        """
        if self.state.checkpoint is None:
            return True
        events: list[trio.Event] = []
        for cls in classes:
            if self.views.is_loaded(cls):
                continue
            found = self._loading.get(cls)
            if found is not None:
                events.append(found[0])
                continue
            event = trio.Event()
            self._loading[cls] = (event, trio.current_time())
            if self._nursery is None:  # no owner (a bare LiveViews): load in this task
                await self._load(cls, event)
            else:
                self._nursery.start_soon(self._load, cls, event)
                events.append(event)
        with trio.move_on_after(math.inf if patience is None else patience):
            for event in events:
                await event.wait()
        return all(event.is_set() for event in events)

    def loading(self) -> dict[str, float]:
        """The domains being loaded now: name -> seconds since the load started."""
        now = trio.current_time()
        return {cls.name: now - started for cls, (_, started) in self._loading.items()}

    def loaded(self) -> list[str]:
        """The names of the domains held in memory (loaded or built), in registry order."""
        from samoorg.crdt.framework.registry import families

        return [f.name for f in families() if self.views.is_loaded(f.domain)]

    async def _load(self, cls: type[Domain], event: trio.Event) -> None:
        checkpoint = self.state.checkpoint
        assert checkpoint is not None
        try:
            await run_in_thread(partial(checkpoint.preload, cls))
            if self.views.is_loaded(cls):  # loaded on the loop meanwhile (a path not in NEEDS)
                checkpoint.forget(cls)
            else:
                with paused_gc():
                    self.views.domain(cls)
        except Exception:  # the request then builds it on the loop (and reports the error)
            log.exception("loading the %s view from the checkpoint failed", cls.name)
        finally:
            del self._loading[cls]
            event.set()

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(entries)`` with every batch of new entries; returns the unsubscriber."""
        listeners = self.state.listeners
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    def refresh(self) -> list[Entry]:
        """Read the entries stored since the last call into the views; return them."""
        return self.state.catch_up()

    def _count_kinds(self, entries: Sequence[Entry]) -> None:
        versions = self._kind_versions
        for entry in entries:
            versions[entry.kind] = versions.get(entry.kind, 0) + 1

    def newest_first(
        self, before: int | None, author: bytes | None, kinds: Collection[str]
    ) -> Iterator[tuple[int, Entry]]:
        """Like :meth:`Store.entries_newest_first <samoorg.node.store.Store.entries_newest_first>`,
        from memory."""
        position = len(self.log) if before is None else bisect_left(self.rowids, before)
        while position > 0:
            position -= 1
            entry = self.log[position]
            if (kinds and entry.kind not in kinds) or (
                author is not None and entry.author != author
            ):
                continue
            yield self.rowids[position], entry
        older = self.rowids[0] if self.rowids else self.state.rowid + 1
        if before is not None:
            older = min(older, before)
        if self.state.checkpoint is not None and older > 1:
            yield from self.store.entries_newest_first(
                before=older, author=author, kinds=sorted(kinds) if kinds else None
            )

    def memo(self, key: Hashable, kinds: Collection[str] | None, compute: Callable[[], T]) -> T:
        """``compute()``, remembered under ``key`` until an entry of ``kinds`` (None: any) arrives.

        For derived listings (a sorted order, the rows of a view) that every
        page of a listing needs: later pages cost the page, not the listing.
        ``kinds`` are those of the domains the value is made from; a new
        forked author (which every domain reads) also forgets it. The value is
        shared: callers must not modify it.
        """
        found = self.recall(key, kinds)
        if found is not None:
            return cast("T", found)
        stamp = self.stamp(kinds)
        value = compute()
        self.remember(key, stamp, value)
        return value

    def stamp(self, kinds: Collection[str] | None) -> Hashable:
        """What :meth:`memo` compares: the counts of entries of ``kinds`` (None: any) and
        of forked authors that arrived."""
        versions = self._kind_versions
        counts = (self.index.mark,) if kinds is None else tuple(versions.get(k, 0) for k in kinds)
        return (len(self.index.forked), counts)

    def recall(self, key: Hashable, kinds: Collection[str] | None) -> Any:
        """The value remembered under ``key`` if no entry of ``kinds`` arrived since, else None.

        With :meth:`remember`, for a value computed across an ``await``: remembered
        with the stamp taken before, so entries arriving meanwhile make it stale.
        """
        found = self._memo.get(key)
        if found is not None and found[0] == self.stamp(kinds):
            return found[1]
        return None

    def remember(self, key: Hashable, stamp: Hashable, value: object) -> None:
        """Keep ``value`` under ``key`` as of ``stamp`` (:meth:`stamp` when it was computed)."""
        self._memo[key] = (stamp, value)

    def social(self, root: bytes) -> SocialViews:
        """``views.social(root)`` (utility is an iteration), remembered until its kinds change."""
        return self.memo(("social", root), SOCIAL_KINDS, lambda: self.views.social(root))

    def append(
        self, home: Home, signer: Signer, kind: str, body: Mapping[str, dcbor.Value]
    ) -> Entry:
        """Sign and store a record through the one write path (``node/writer.py``)."""
        from samoorg.node.writer import Writer

        del home  # the writer needs only the store and the key
        return Writer(self.store, self.state, signer).write(kind, body)

    def changed(self) -> None:
        """Note that the store changed (a :class:`StoreWatcher` subscriber)."""
        self._changed.set()

    async def follow(self, watcher: StoreWatcher) -> None:
        """Refresh after every change the watcher reports, until cancelled."""
        unsubscribe = watcher.subscribe(self.changed)
        try:
            while True:
                await self._changed.wait()
                self._changed = trio.Event()
                await catch_up_in_steps(self.state)
        finally:
            unsubscribe()
