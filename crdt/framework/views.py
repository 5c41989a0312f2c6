"""``Views(index)``: one facade over every deterministic view of an entry index.

Usage::

    views = Views(index)
    views.trust.members(me)          # a domain, brought up to date on access
    views.invalid()                  # {entry id: reason} across all domains
    views.digests()                  # {domain name: state digest}

Theory of operation. Each domain (a :class:`~samoorg.crdt.framework.domain.Domain`
subclass) is created on first access and fed every held entry of its kinds.
Later accesses feed it only the entries added to the index since its last
update (:meth:`EntryIndex.added_since`), so adding entries to the index and
asking again is an incremental update. Because each domain's state depends
only on the set of entries, this equals a rebuild from scratch; the tests
compare the two by digest.

**Forked authors** (one policy for every view, chosen for convergence). An
author flagged by a verified fork proof signed two histories, and two honest
nodes may hold different ones: node A the first branch, node B the second.
Each proof has a *cut* (:attr:`~samoorg.protocol.fork.ForkProof.cut`): the
first seq it leaves in doubt; before it, the histories are one chain that
every node holding that far holds alike. The index keeps, per forked author,
the lowest cut of the proofs the node knows (:attr:`EntryIndex.cuts`), and
every view ignores the author's entries from the cut on (*void* entries,
:meth:`EntryIndex.is_void`): a domain never receives them
(:meth:`Views.domain` filters them out), lookups of held entries do not see
them (:meth:`Views.holds`), and :meth:`Views.invalid` lists each with
:data:`FORKED_REASON`. Entries before the cut count like anyone's. Nodes that
know different proofs converge once the proofs spread, since each uses the
lowest cut it knows (``docs/protocol.md`` §4.4). When a cut appears or drops
(a rare event), the domains that received entries of that author, and those
whose rules read the forked set (``Domain.reads_forked``), are dropped and
rebuilt on next use, so an incremental update still equals a full rebuild.

**Trial records.** :meth:`Views.trial` adds our own would-be entries so a
writer can ask the domains for their reasons before signing for good
(:mod:`samoorg.node.writer`). If the trial is not kept, the entries leave the
index and every domain used meanwhile is dropped (rebuilt on next use): a
refused record leaves no trace in the views.

**Restoring.** A :class:`Views` may have a ``restorer`` (the node's
checkpoint, ``node/checkpoint.py``): asked for a domain not yet created, it
returns the domain's saved state brought up to the index's base, or ``None``
(then the domain is built from the held entries as usual). Either way the
entries added since are applied incrementally, so the result is the same.

Adding a domain: write its family module and register it
(:mod:`samoorg.crdt.framework.registry`); :data:`DOMAINS` follows the registry. A
typed property returning ``self.domain(YourDomain)`` is optional sugar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final, TypeVar

from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.domain import Domain
from samoorg.crdt.framework.exclusion import FORKED_REASON, REVOKED_REASON
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.reasons import Reason
from samoorg.crdt.framework.registry import families
from samoorg.crdt.kinds.agreements import AgreementState
from samoorg.crdt.kinds.devices import DEVICE_ACCEPT, DEVICE_REVOKE, MAX_SEQ, DevicesState
from samoorg.crdt.kinds.forum import ForumState
from samoorg.crdt.kinds.listings import ListingState
from samoorg.crdt.kinds.orgs import OrgState
from samoorg.crdt.kinds.pledges import PledgeState
from samoorg.crdt.kinds.polls import PollsState
from samoorg.crdt.kinds.profiles import ProfilesState
from samoorg.crdt.kinds.ratings import RatingsState
from samoorg.crdt.kinds.recovery import RECOVERY_REQUEST, RecoveryState
from samoorg.crdt.kinds.reviews import ReviewState
from samoorg.crdt.kinds.trust import TrustState

if TYPE_CHECKING:
    from samoorg.crdt.kinds.social import SocialViews
    from samoorg.protocol.entry import Entry

DomainT = TypeVar("DomainT", bound=Domain)
Restorer = Callable[["Views", type[Domain]], "tuple[Domain, int] | None"]
"""``restorer(views, cls)``: a saved state of ``cls`` and the index mark it covers, or None."""
BULK: Final = 10_000
"""Batches at least this large are applied with the cyclic GC paused (see ``bulk.py``)."""

UNREVOKED: Final[tuple[type[Domain], ...]] = (DevicesState, RecoveryState)
"""The domains that compute the revocation cuts (§8.11, §8.13): they see every entry not
past a fork's cut, and their own rules say which entries of a revoked device count."""
DOMAINS: Final[tuple[type[Domain], ...]] = tuple(f.domain for f in families())
"""Every registered domain, in the order :meth:`Views.invalid` and :meth:`Views.digests`
visit them (:data:`samoorg.crdt.framework.registry.FAMILY_MODULES` order)."""


class Trial:
    """Entries added tentatively to the index (see :meth:`Views.trial`)."""

    def __init__(self, index: EntryIndex) -> None:
        self._index = index
        self.added: list[Entry] = []
        self.kept = False

    def add(self, entries: Sequence[Entry]) -> None:
        """Add entries to the index (each must be new to it)."""
        for entry in entries:
            if not self._index.add(entry):
                raise ValueError(f"expected a new entry, found {entry.id.hex()} already held")
            self.added.append(entry)

    def keep(self) -> None:
        """Keep the entries (they were stored)."""
        self.kept = True


class Views:
    """Cached, incrementally updated domain states over one :class:`EntryIndex`."""

    def __init__(self, index: EntryIndex, restorer: Restorer | None = None) -> None:
        self.index = index
        self.restorer = restorer
        """Saved domain states to start from (see the module docstring)."""
        self._domains: dict[type[Domain], Domain] = {}
        self._marks: dict[type[Domain], int] = {}
        self._cuts: dict[bytes, int] = dict(index.cuts)
        """The forked authors and cuts the live domains were built with."""
        self._revoked: dict[bytes, int] = {}
        """Revoked device keys and their first void seq the live domains were built with."""
        self._identities: dict[bytes, bytes] = {}
        """Joined device key -> its identity (founding key), as the live domains saw it."""
        self._devices_seen: object = None
        """The devices view :attr:`_identities` was computed from (recomputed when it changes)."""
        self._identity_mark = -1
        """The index version :attr:`_identities` was last brought up to date at."""
        self._excluded: tuple[int, dict[bytes, Reason]] | None = None
        self._touched: set[type[Domain]] | None = None
        """Domains used during a :meth:`trial` (``None`` outside one)."""

    def domain(self, cls: type[DomainT]) -> DomainT:
        """The up-to-date state of one domain (created and filled on first use)."""
        index = self.index
        self._follow_forks()
        if cls not in UNREVOKED:
            self._follow_revocations()
            self._follow_identities()
        void = self.void(cls)
        if self._touched is not None:
            self._touched.add(cls)
        found = self._domains.get(cls)
        if found is None and self.restorer is not None:
            restored = self.restorer(self, cls)
            if restored is not None:
                found, self._marks[cls] = restored
                self._domains[cls] = found
        if found is None:
            fresh = cls(self)
            self._domains[cls] = fresh
            self._marks[cls] = index.mark
            held = index.of_kind(*cls.kinds)
            with paused_gc():
                fresh.apply([e for e in held if not void(e)] if void else held)
                fresh.invalid()  # resolves everything while the GC is paused
            return fresh
        mark = self._marks[cls]
        if mark != index.mark:
            kinds = cls.kinds
            self._marks[cls] = index.mark
            new = [e for e in index.added_since(mark) if e.kind in kinds]
            if void:
                new = [e for e in new if not void(e)]
            if len(new) >= BULK:
                with paused_gc():
                    found.apply(new)
                    found.invalid()
            elif new:
                found.apply(new)
        assert isinstance(found, cls)
        return found

    def worth_saving(self) -> bool:
        """Whether a loaded domain derived something a checkpoint should keep
        (:attr:`Domain.worth_saving`)."""
        return any(domain.worth_saving for domain in self._domains.values())

    def settle(self) -> None:
        """Bring every domain created so far up to date with the index and resolve what
        that changed where it costs the change (bucket domains).

        For a daemon that applies entries in steps: a query after many arrivals
        then costs its answer, not their resolution (the result is the same
        whenever it is resolved). Domains not created yet stay so.
        """
        for cls in list(self._domains):
            if cls in self._domains:  # not dropped by the domains settled before it
                self.domain(cls).settle()

    def is_loaded(self, cls: type[Domain]) -> bool:
        """Whether ``cls`` was created (by use or by restoring) and not dropped since."""
        return cls in self._domains

    @contextmanager
    def trial(self) -> Iterator[Trial]:
        """Add would-be entries with :meth:`Trial.add`; they stay only if :meth:`Trial.keep`.

        Leaving the block without ``keep()`` (a refusal, or an error while
        storing) retracts them from the index and drops every domain used
        since the trial began, so the views equal those without the entries.
        """
        if self._touched is not None:
            raise RuntimeError("expected one trial at a time, found a trial already open")
        trial = Trial(self.index)
        self._touched = set()
        try:
            yield trial
        finally:
            touched, self._touched = self._touched, None
            if not trial.kept and trial.added:
                self.index.retract(trial.added)
                for cls in touched:
                    self._domains.pop(cls, None)
                    self._marks.pop(cls, None)
                for cls, mark in self._marks.items():
                    self._marks[cls] = min(mark, self.index.mark)

    def _follow_forks(self) -> None:
        """Drop the domains a new or lowered cut affects; they rebuild on next use."""
        cuts = self.index.cuts
        if cuts == self._cuts:
            return
        new = [a for a, cut in cuts.items() if self._cuts.get(a) != cut]
        self._cuts = dict(cuts)
        for cls in list(self._domains):
            if cls.reads_forked or any(self.index.of_author(a, cls.kinds) for a in new):
                del self._domains[cls]
                del self._marks[cls]

    def void(self, cls: type[Domain]) -> Callable[[Entry], bool] | None:
        """What ``cls`` must not receive: entries past a fork's cut, and (except for the
        devices and recovery domains, which compute them) a revoked device's from its cut on."""
        is_void = self.index.is_void
        revoked = self._revoked if cls not in UNREVOKED else None
        if not revoked:
            return is_void if self._cuts else None
        return lambda e: is_void(e) or e.seq >= revoked.get(e.author, MAX_SEQ)

    def _follow_revocations(self) -> None:
        """Bring the revocation cuts up to date; drop the domains a change affects."""
        if self.index.of_kind(DEVICE_REVOKE, RECOVERY_REQUEST):
            cuts = dict(self.domain(DevicesState).view().cuts)
        else:
            cuts = {}
        if cuts == self._revoked:
            return
        changed = _changed(cuts, self._revoked)
        self._revoked = cuts
        self._drop_affected(changed, lambda cls: cls.reads_forked)

    def _follow_identities(self) -> None:
        """Bring the identity map up to date; drop the domains a changed link affects.

        A domain is dropped (rebuilt on next use) if it reads keys in bodies
        (:attr:`Domain.reads_keys`) or received entries of a key whose identity
        changed, so an incremental update still equals a full rebuild.
        """
        if self._identity_mark == self.index.version:
            return  # the map is a function of the index (entries and fork cuts)
        self._identity_mark = self.index.version
        if not self.index.of_kind(DEVICE_ACCEPT):
            found: dict[bytes, bytes] = {}
        else:
            view = self.domain(DevicesState).view()
            if view is self._devices_seen:
                return
            self._devices_seen = view
            found = {key: view.identity(key) for key in view.links}
        if found == self._identities:
            return
        changed = _changed(found, self._identities)
        self._identities = found
        self._drop_affected(changed, lambda cls: cls.reads_keys)

    def _drop_affected(self, changed: list[bytes], reads: Callable[[type[Domain]], bool]) -> None:
        """Drop every domain but the devices' that ``reads`` the changed map or received
        entries of a ``changed`` key; each is rebuilt on next use."""
        for cls in list(self._domains):
            if cls in UNREVOKED:
                continue
            if reads(cls) or any(self.index.of_author(k, cls.kinds) for k in changed):
                del self._domains[cls]
                del self._marks[cls]

    def identity(self, key: bytes) -> bytes:
        """The identity (founding device key) ``key`` belongs to: ``key`` itself if it joined
        none (§8.11.1). Every view compares participants through this, never raw keys."""
        if self._identity_mark != self.index.version:
            self._follow_identities_now()
        return self._identities.get(key, key)

    def author(self, entry: Entry) -> bytes:
        """The identity of ``entry``'s author (:meth:`identity` of its key)."""
        if self._identity_mark != self.index.version:
            self._follow_identities_now()
        return self._identities.get(entry.author, entry.author)

    def _follow_identities_now(self) -> None:
        self._follow_forks()
        self._follow_revocations()
        self._follow_identities()

    def folds(self) -> bool:
        """Whether some device joined another's identity."""
        if self._identity_mark != self.index.version:
            self._follow_identities_now()
        return bool(self._identities)

    def identities(self) -> dict[bytes, bytes]:
        """``{joined device key: identity}`` for every device that is not a founder."""
        self._follow_identities_now()
        return dict(self._identities)

    def revoked(self) -> dict[bytes, int]:
        """``{revoked device key: first void seq}`` (§8.11)."""
        self._follow_revocations()
        return dict(self._revoked)

    def holds(self, entry_id: bytes) -> bool:
        """Whether a view may look at this entry: held, and not void (past a fork's cut).

        Domains use this (never ``entry_id in index``) to decide whether an
        entry they refer to is "held", so the answer is the same on a node
        that holds a void entry of a forked author and on one that does not.
        """
        entry = self.index.get(entry_id)
        if entry is None or self.index.is_void(entry):
            return False
        return entry.seq < self._revoked.get(entry.author, MAX_SEQ)

    @property
    def trust(self) -> TrustState:
        """The trust list: invites, mutual-guarantee edges, reachability, the pool."""
        return self.domain(TrustState)

    @property
    def pledges(self) -> PledgeState:
        """Help requests, initiatives, intentions, commitments and outstanding debts."""
        return self.domain(PledgeState)

    @property
    def forum(self) -> ForumState:
        """The forum of ideas: ideas and their comments."""
        return self.domain(ForumState)

    @property
    def ratings(self) -> RatingsState:
        """Each rater's latest rating of each member and idea."""
        return self.domain(RatingsState)

    @property
    def polls(self) -> PollsState:
        """Polls and each voter's vote that counts."""
        return self.domain(PollsState)

    @property
    def listings(self) -> ListingState:
        """The portal's offers and requests with their winning edits."""
        return self.domain(ListingState)

    @property
    def reviews(self) -> ReviewState:
        """Reviews of fulfilled portal deals."""
        return self.domain(ReviewState)

    def social(self, root: bytes) -> SocialViews:
        """Forum, ratings, polls, tallies and utility for ``root``'s trust list."""
        from samoorg.crdt.kinds.social import social_views

        return social_views(self, root)

    @property
    def agreements(self) -> AgreementState:
        """Public agreements: texts, versions, history, blame, and who accepted which."""
        return self.domain(AgreementState)

    @property
    def profiles(self) -> ProfilesState:
        """Each participant's latest profile: display name, contacts, status."""
        return self.domain(ProfilesState)

    @property
    def orgs(self) -> OrgState:
        """Organizations: members, admins, their current name and contacts."""
        return self.domain(OrgState)

    def invalid(self) -> dict[bytes, Reason]:
        """``{entry id: reason}`` for every held entry that some view ignores.

        Includes every void held entry of a forked author (at or past the
        cut, :data:`FORKED_REASON`), whatever its kind. Which of those a node
        holds depends on which branch reached it; everything else is the same on every node holding
        the same entries of the other authors and the same fork proofs.
        """
        result: dict[bytes, Reason] = {}
        with paused_gc():
            for cls in DOMAINS:
                result.update(self.domain(cls).invalid())
        result.update(self.excluded())
        return result

    def excluded(self) -> dict[bytes, Reason]:
        """``{entry id: reason}`` for every held entry past a fork's cut (:data:`FORKED_REASON`)
        or of a revoked device from its cut on (:data:`REVOKED_REASON`)."""
        index = self.index
        if self._excluded is None or self._excluded[0] != index.version:
            excluded: dict[bytes, Reason] = {}
            for author, cut in sorted(self.revoked().items()):
                for e in index.of_author(author):
                    if e.seq >= cut and not any(e.kind in c.kinds for c in UNREVOKED):
                        excluded[e.id] = REVOKED_REASON
            for author, cut in sorted(index.cuts.items()):
                excluded.update(
                    (e.id, FORKED_REASON) for e in index.of_author(author) if e.seq >= cut
                )
            self._excluded = (index.version, excluded)
        return dict(self._excluded[1])

    def digests(self) -> dict[str, str]:
        """``{domain name: hex digest}``; two nodes agree iff their digests are equal."""
        with paused_gc():
            return {cls.name: self.domain(cls).digest() for cls in DOMAINS}

    def is_forked(self, author: bytes) -> bool:
        """Whether a verified fork proof flags ``author`` (outputs show the flag)."""
        return self.index.is_forked(author)


def _changed(new: Mapping[bytes, object], old: Mapping[bytes, object]) -> list[bytes]:
    """The keys whose value differs between ``new`` and ``old`` (either may lack it)."""
    return [k for k in new.keys() | old.keys() if new.get(k) != old.get(k)]
