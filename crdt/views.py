"""``Views(index)``: one facade over every deterministic view of an entry index.

Usage::

    views = Views(index)
    views.trust.members(me)          # a domain, brought up to date on access
    views.invalid()                  # {entry id: reason} across all domains
    views.digests()                  # {domain name: state digest}

Theory of operation. Each domain (a :class:`~samoorg.crdt.domain.Domain`
subclass) is created on first access and fed every held entry of its kinds.
Later accesses feed it only the entries added to the index since its last
update (:meth:`EntryIndex.added_since`), so adding entries to the index and
asking again is an incremental update. Because each domain's state depends
only on the set of entries, this equals a rebuild from scratch; the tests
compare the two by digest.

Adding a domain: write the class, add it to :data:`DOMAINS`, and add a
property returning ``self.domain(YourDomain)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeVar

from samoorg.crdt.agreements import AgreementState
from samoorg.crdt.bulk import paused_gc
from samoorg.crdt.domain import Domain
from samoorg.crdt.forum import ForumState
from samoorg.crdt.index import EntryIndex
from samoorg.crdt.pledges import PledgeState
from samoorg.crdt.polls import PollsState
from samoorg.crdt.ratings import RatingsState
from samoorg.crdt.trust import TrustState

if TYPE_CHECKING:
    from samoorg.crdt.social import SocialViews

DomainT = TypeVar("DomainT", bound=Domain)
BULK: Final = 10_000
"""Batches at least this large are applied with the cyclic GC paused (see crdt/bulk.py)."""

DOMAINS: Final[tuple[type[Domain], ...]] = (
    TrustState,
    PledgeState,
    ForumState,
    RatingsState,
    PollsState,
    AgreementState,
)
"""Every domain, in the order :meth:`Views.invalid` and :meth:`Views.digests` visit them."""


class Views:
    """Cached, incrementally updated domain states over one :class:`EntryIndex`."""

    def __init__(self, index: EntryIndex) -> None:
        self.index = index
        self._domains: dict[type[Domain], Domain] = {}
        self._marks: dict[type[Domain], int] = {}

    def domain(self, cls: type[DomainT]) -> DomainT:
        """The up-to-date state of one domain (created and filled on first use)."""
        index = self.index
        found = self._domains.get(cls)
        if found is None:
            fresh = cls(self)
            self._domains[cls] = fresh
            self._marks[cls] = index.mark
            with paused_gc():
                fresh.apply(index.of_kind(*cls.kinds))
                fresh.invalid()  # resolves everything while the GC is paused
            return fresh
        mark = self._marks[cls]
        if mark != index.mark:
            kinds = cls.kinds
            self._marks[cls] = index.mark
            new = [e for e in index.added_since(mark) if e.kind in kinds]
            if len(new) >= BULK:
                with paused_gc():
                    found.apply(new)
                    found.invalid()
            elif new:
                found.apply(new)
        assert isinstance(found, cls)
        return found

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

    def social(self, root: bytes) -> SocialViews:
        """Forum, ratings, polls, tallies and utility for ``root``'s trust list."""
        from samoorg.crdt.social import social_views

        return social_views(self, root)

    @property
    def agreements(self) -> AgreementState:
        """Public agreements: texts, versions, history, blame, and who accepted which."""
        return self.domain(AgreementState)

    def invalid(self) -> dict[bytes, str]:
        """``{entry id: reason}`` for every held entry that some view ignores."""
        result: dict[bytes, str] = {}
        with paused_gc():
            for cls in DOMAINS:
                result.update(self.domain(cls).invalid())
        return result

    def digests(self) -> dict[str, str]:
        """``{domain name: hex digest}``; two nodes agree iff their digests are equal."""
        with paused_gc():
            return {cls.name: self.domain(cls).digest() for cls in DOMAINS}

    def is_forked(self, author: bytes) -> bool:
        """Whether a verified fork proof flags ``author`` (every view shows the flag)."""
        return author in self.index.forked
