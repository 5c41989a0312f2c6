"""The contract every view domain follows, so :class:`~samoorg.crdt.views.Views` can drive it.

A domain owns a family of record kinds (``kinds``) and derives state from the
entries of those kinds. The facade calls :meth:`Domain.apply` once with every
entry of its kinds already held (in canonical order) and then with each batch
of newly added entries (in arrival order, never a duplicate). The derived
state must depend only on the *set* of entries applied (and the index's
forked authors), never on the order or batching of ``apply`` calls: that is
the convergence property the tests check with :meth:`Domain.digest`.

A domain may read other domains through ``self.views`` (for example the trust
graph). If it caches anything derived from another domain, it must key that
cache on ``self.views.index.version``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from samoorg.crdt.digest import state_digest
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from samoorg.crdt.views import Views
    from samoorg.protocol.entry import Entry


class Domain(ABC):
    """One family of record kinds and the deterministic state derived from them."""

    name: ClassVar[str]
    """Key of this domain in :meth:`Views.digests`."""
    kinds: ClassVar[tuple[str, ...]]
    """Entry kinds this domain reads; :meth:`apply` receives only these."""

    def __init__(self, views: Views) -> None:
        self.views = views

    @abstractmethod
    def apply(self, entries: Sequence[Entry]) -> None:
        """Take new entries of :attr:`kinds` (any order, each entry at most once)."""

    @abstractmethod
    def invalid(self) -> Mapping[bytes, str]:
        """``{entry id: reason}`` for every entry of this domain the view ignores."""

    @abstractmethod
    def state(self) -> dcbor.Value:
        """The canonical state (built from sorted collections) that :meth:`digest` hashes."""

    def digest(self) -> str:
        """Hex SHA-256 of :meth:`state`: equal on two nodes iff their views agree."""
        forked: list[dcbor.Value] = [*sorted(self.views.index.forked)]
        return state_digest([self.name, self.state(), forked])
