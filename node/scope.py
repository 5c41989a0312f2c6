"""The replication scope: which feeds this node fetches and keeps.

A node replicates

* its own feed;
* everyone within ``hops`` steps of it (default :data:`DEFAULT_HOPS`), where
  a step is a mutual-guarantee edge of the trust view
  (:class:`samoorg.crdt.kinds.trust.TrustState`) or a *claim* of one
  (:meth:`TrustState.claims <samoorg.crdt.kinds.trust.TrustState.claims>`);
* feeds followed explicitly (``samoorg follow ID``);
* the new key of every recovery request (§8.13) for someone in the scope, and
  the key named by every ``recovery.approve`` of someone in the scope: so the
  other guardians and the identity's devices (who may veto) fetch the request
  once one guardian approved it;
* the inviter of every invite it accepted (remembered in the peer book with
  source ``invite``; with ``hops >= 1`` our own acceptance claims them anyway);
* and, for the length of one sync session, the remote peer's own feed: that is
  how an inviter receives the ``trust.accept`` of someone not yet on its list.

Friend of a friend, from feeds alone. An edge needs two entries in two feeds
(``trust.invite`` by the inviter, ``trust.accept`` by the invitee). Holding one
side, a node learns whose feed holds the other: a ``trust.accept`` names its
inviter, and the inviter's node writes a ``trust.confirm`` naming the invitee
once it holds the winning acceptance (:func:`confirm_acceptances`). Those
waiting entries are claims; following them fetches the feed that completes
the edge (or not: a claim is never trust). So with A - B - C - D a chain of
invites, A holding B's feed learns C from B's confirmation, fetches C, learns
D from C's, and stops at ``hops``: a claim extends the scope only from a member
at distance < ``hops``, and a member's claims are followed in their feed order
up to :data:`MAX_CLAIMS` (our own without limit). A peer therefore cannot make
us replicate feeds beyond the hop limit, and one member within it can add at
most :data:`MAX_CLAIMS` unverified feeds, each costing them a signed entry.

Theory of operation: :class:`ScopeTracker` keeps an index of the trust
records only, fed incrementally from the store by arrival rowid, so
:meth:`ScopeTracker.refresh` after a change costs what changed, not the store
size (a breadth-first walk over the members within ``hops`` follows). Every
view ignores a forked author's entries from the cut of the fork on
(``docs/protocol.md`` §4.4): an author forked at seq 1 has no edges and no
claims and leaves the scope unless followed; one forked later keeps the edges
and claims of the common prefix, so the scope still reaches through them (and
fetches the rest of that prefix). Their fork proof goes to every peer that
wants their feed.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Final

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import DEVICE_KINDS, DevicesState
from samoorg.crdt.kinds.recovery import RECOVERY_KINDS, RecoveryApprove, RecoveryState
from samoorg.crdt.kinds.trust import ACCEPTED, CONFIRM, TRUST_KINDS, confirm_body
from samoorg.node.errors import StoreError
from samoorg.node.peerbook import PeerBook
from samoorg.node.store import Store
from samoorg.node.writer import Writer
from samoorg.protocol.entry import Entry
from samoorg.protocol.ids import peer_id

log = logging.getLogger("samoorg.node")

DEFAULT_HOPS: Final = 3
MAX_CLAIMS: Final = 8
"""Unverified invite partners followed per member (our own claims are not limited)."""


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
        self._by_identity: tuple[object, dict[bytes, list[bytes]]] | None = None
        """The devices view and its keys grouped by identity (founder first)."""

    @property
    def current(self) -> frozenset[bytes]:
        """The scope as of the last :meth:`refresh`."""
        return self._scope

    def distances(self) -> dict[bytes, int]:
        """Everyone within ``hops`` steps (edges or claims) of us, with their distance."""
        trust = self._views.trust
        me = self._views.identity(self.me)  # the graph's members are identities (§8.11.1)
        found = {me: 0}
        queue = deque([me])
        while queue:
            current = queue.popleft()
            distance = found[current]
            if distance >= self.hops:
                continue
            claims = [c for key in self._devices(current) for c in trust.claims(key)]
            if current != me:
                claims = claims[:MAX_CLAIMS]
            for other in [*sorted(trust.neighbours(current)), *claims]:
                if other not in found and self._index.cuts.get(other, 2) > 1:
                    found[other] = distance + 1
                    queue.append(other)
        return found

    def refresh(self) -> frozenset[bytes]:
        """Read new trust records and the peer book; return the (possibly new) scope."""
        for rowid, entry in self._store.entries(
            kinds=(*TRUST_KINDS, *DEVICE_KINDS, *RECOVERY_KINDS), since=self._rowid
        ):
            self._index.add(entry)
            self._rowid = rowid
        for author, cut in self._store.fork_cuts().items():
            self._index.add_forked(author, cut)
        inviters = {r.peer for r in self._peer_book.all() if r.source == "invite"}
        mine = set(self._devices(self.me))  # our other devices (§8.11)
        members = {key for member in self.distances() for key in self._devices(member)}
        near = members | mine
        recovery = self._views.domain(RecoveryState)
        asking = {  # new keys asking to recover someone we replicate, or approved by one (§8.13)
            r.key for r in recovery.view().requests.values() if r.identity in near
        }
        asking.update(
            record.key
            for entry, record in recovery.filed()
            if isinstance(record, RecoveryApprove) and entry.author in near
        )
        self._scope = frozenset({self.me} | near | asking | self._peer_book.follows() | inviters)
        return self._scope

    def _devices(self, key: bytes) -> list[bytes]:
        """Every device key of ``key``'s identity: whose feeds make up that member."""
        view = self._views.domain(DevicesState).view()
        if self._by_identity is None or self._by_identity[0] is not view:
            grouped: dict[bytes, list[bytes]] = {}
            for device in sorted(view.links):
                root = view.identity(device)
                grouped.setdefault(root, [root]).append(device)
            self._by_identity = (view, grouped)
        root = view.identity(key)
        return self._by_identity[1].get(root, [root])

    def unconfirmed(self) -> list[tuple[bytes, bytes]]:
        """``(invite id, invitee)`` for our accepted invites we have not confirmed yet."""
        view = self._views
        return [
            (o.id, o.winner[0].author)  # the accepting device: whose feed holds the edge
            for o in view.trust.invites_of(view.identity(self.me))
            if o.state == ACCEPTED
            and o.invite is not None
            and o.invite.author == self.me
            and o.winner is not None
            and not o.confirmed
        ]


def confirm_acceptances(writer: Writer, scope: ScopeTracker) -> list[Entry]:
    """Write a ``trust.confirm`` for each accepted invite of ours not confirmed yet.

    Call after :meth:`ScopeTracker.refresh`. Each goes through the one write
    path (:mod:`samoorg.node.writer`), so the trust view judges it like any
    other record. Others' nodes follow these confirmations to our invitees'
    feeds (see the module docstring). Returns the entries written; call
    :meth:`ScopeTracker.refresh` again to see them.
    """
    written: list[Entry] = []
    for invite, invitee in scope.unconfirmed():
        try:
            entry = writer.write(CONFIRM, confirm_body(invite, invitee))
        except (StoreError, RuleViolation) as exc:  # e.g. our own feed is flagged as forked
            log.warning("cannot confirm the acceptance of invite %s: %s", invite.hex()[:12], exc)
            break
        log.info("confirmed %s's acceptance of invite %s", peer_id(invitee)[:16], invite.hex()[:12])
        written.append(entry)
    return written
