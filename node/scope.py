"""The replication scope: which feeds this node fetches and keeps.

A node replicates

* its own feed;
* the members of its trust list within ``hops`` mutual-guarantee edges
  (default :data:`DEFAULT_HOPS`), computed by the trust view
  (:class:`samoorg.crdt.trust.TrustState`);
* feeds followed explicitly (``samoorg follow ID``);
* the inviter of every invite it accepted (remembered in the peer book with
  source ``invite``), so that an invitee fetches the inviter's feed before
  the mutual-guarantee edge exists in its own view;
* and, for the length of one sync session, the remote peer's own feed: that is
  how an inviter receives the ``trust.accept`` of someone not yet on its list.

Theory of operation: :class:`ScopeTracker` keeps an index of the trust
records only, fed incrementally from the store by arrival rowid, so
:meth:`ScopeTracker.refresh` after a change costs what changed, not the store
size. Forked authors stay in scope: their fork proof is replicated, and the
store refuses their later entries by itself.
"""

from __future__ import annotations

from typing import Final

from samoorg.crdt.index import EntryIndex
from samoorg.crdt.records import TRUST_KINDS
from samoorg.crdt.views import Views
from samoorg.node.peerbook import PeerBook
from samoorg.node.store import Store

DEFAULT_HOPS: Final = 3


class ScopeTracker:
    """The current scope of one node, refreshed on demand."""

    def __init__(self, store: Store, peer_book: PeerBook, me: bytes, hops: int = DEFAULT_HOPS):
        if hops < 0:
            raise ValueError(f"hops must be >= 0, found {hops}")
        self._store = store
        self._peer_book = peer_book
        self.me = me
        self.hops = hops
        self._index = EntryIndex()
        self._views = Views(self._index)
        self._rowid = 0
        self._scope: frozenset[bytes] = frozenset({me})

    @property
    def current(self) -> frozenset[bytes]:
        """The scope as of the last :meth:`refresh`."""
        return self._scope

    def trust_members(self) -> frozenset[bytes]:
        """Our trust list within ``hops`` (ourselves included), as of the last refresh."""
        return self._views.trust.members(self.me, self.hops)

    def refresh(self) -> frozenset[bytes]:
        """Read new trust records and the peer book; return the (possibly new) scope."""
        for rowid, entry in self._store.entries(kinds=TRUST_KINDS, since=self._rowid):
            self._index.add(entry)
            self._rowid = rowid
        for author in self._store.forked_authors():
            self._index.add_forked(author)
        inviters = {r.peer for r in self._peer_book.all() if r.source == "invite"}
        self._scope = frozenset(
            {self.me} | self.trust_members() | self._peer_book.follows() | inviters
        )
        return self._scope
