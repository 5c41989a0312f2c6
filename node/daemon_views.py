"""The daemon's views: every stored entry in memory, updated as entries arrive.

Theory of operation. :class:`LiveViews` loads the store once, at daemon
start, into an :class:`~samoorg.crdt.index.EntryIndex` and its
:class:`~samoorg.crdt.views.Views`, remembering the highest store rowid it
read. :meth:`LiveViews.refresh` reads only the rows after it (entries stored
by sync sessions, gossip, the API, or local commands in other processes), so
the views update incrementally (see :mod:`samoorg.crdt.views`), and tells the
listeners (the API's event stream) which entries arrived. :meth:`follow` runs
``refresh`` whenever the daemon's store watcher reports a change.

``log`` is every stored entry in rowid order (references to the index's
objects, so a page of ``samoorg log`` costs the page). :meth:`memo` keeps
derived listings (the social views, a sorted order) until an entry of the
kinds they are made from arrives, so the second and later pages of a listing
cost the page, and an idea does not make the pledge listing be sorted again.

Writes (:meth:`append`) go through the same check as the CLI's
(``samoorg.cli.community.append_checked``): the would-be entry is added to
the views and refused with the view's reason if they would ignore it. That
check leaves the trial entry in the index, which a long-lived index must not
keep, so after a refusal the index is rebuilt from ``log`` (the stored
entries only). The single write-path service of issue 7 replaces this call.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final, TypeVar, cast

import trio

from samoorg.crdt.bulk import paused_gc
from samoorg.crdt.forum import ForumState
from samoorg.crdt.index import EntryIndex
from samoorg.crdt.polls import PollsState
from samoorg.crdt.ratings import RatingsState
from samoorg.crdt.trust import TrustState
from samoorg.crdt.views import Views
from samoorg.node.home import Home
from samoorg.node.store import Store

if TYPE_CHECKING:
    from samoorg.crdt.social import SocialViews
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
"""What :func:`~samoorg.crdt.social.social_views` reads: the trust list, forum, ratings, polls."""


class LiveViews:
    """The views of one store, kept current by :meth:`refresh`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.index = EntryIndex()
        self.views = Views(self.index)
        self.log: list[Entry] = []
        self.rowids: list[int] = []
        """The store rowid of each entry of :attr:`log` (ascending)."""
        self._rowid = 0
        self._listeners: list[Listener] = []
        self._memo: dict[Hashable, tuple[Hashable, object]] = {}
        self._kind_versions: dict[str, int] = {}
        """How many entries of each kind arrived (the stamps of :meth:`memo`)."""
        self._changed = trio.Event()
        with paused_gc():
            self.refresh()
            self.views.invalid()  # resolves every domain now, not on the first request

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(entries)`` with every batch of new entries; returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def refresh(self) -> list[Entry]:
        """Read the entries stored since the last call into the views; return them."""
        new: list[Entry] = []
        for rowid, entry in self.store.entries(since=self._rowid):
            self._rowid = rowid
            self.log.append(entry)
            self.rowids.append(rowid)
            self.index.add(entry)
            new.append(entry)
            self._kind_versions[entry.kind] = self._kind_versions.get(entry.kind, 0) + 1
        for author in self.store.forked_authors():
            self.index.add_forked(author)
        if new:
            for listener in list(self._listeners):
                listener(new)
        return new

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

    def memo(self, key: Hashable, kinds: Collection[str] | None, compute: Callable[[], T]) -> T:
        """``compute()``, remembered under ``key`` until an entry of ``kinds`` (None: any) arrives.

        For derived listings (a sorted order, the rows of a view) that every
        page of a listing needs: later pages cost the page, not the listing.
        ``kinds`` are those of the domains the value is made from; a new
        forked author (which every domain reads) also forgets it. The value is
        shared: callers must not modify it.
        """
        versions = self._kind_versions
        counts = (len(self.log),) if kinds is None else tuple(versions.get(k, 0) for k in kinds)
        stamp = (len(self.index.forked), counts)
        found = self._memo.get(key)
        if found is not None and found[0] == stamp:
            return cast("T", found[1])
        value = compute()
        self._memo[key] = (stamp, value)
        return value

    def social(self, root: bytes) -> SocialViews:
        """``views.social(root)`` (utility is an iteration), remembered until its kinds change."""
        return self.memo(("social", root), SOCIAL_KINDS, lambda: self.views.social(root))

    def append(
        self, home: Home, signer: Signer, kind: str, body: Mapping[str, dcbor.Value]
    ) -> Entry:
        """Sign and store a record if the views accept it (the CLI's check); refresh."""
        from samoorg.cli.community import append_checked
        from samoorg.cli.context import Session

        before = len(self.index)
        try:
            entry = append_checked(
                Session(home, _store=self.store, _signer=signer), self.views, kind, body
            )
        except BaseException:
            if len(self.index) != before:
                self._rebuild()
            raise
        if len(self.index) != before + 1:  # another process appended first: the trial stayed
            self._rebuild()
        self.refresh()
        return entry

    def _rebuild(self) -> None:
        """Drop entries that were never stored (a refused trial) by rebuilding from ``log``."""
        log.info("rebuilding the views after a refused record (%d entries)", len(self.log))
        with paused_gc():
            self.index = EntryIndex(self.log, forked=self.index.forked)
            self.views = Views(self.index)
        self._memo.clear()

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
                self.refresh()
        finally:
            unsubscribe()
