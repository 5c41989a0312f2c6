"""The contract every view domain follows, so :class:`~.views.Views` can drive it.

A domain owns a family of record kinds (``kinds``) and derives state from the
entries of those kinds. The facade calls :meth:`Domain.apply` once with every
entry of its kinds already held (in canonical order) and then with each batch
of newly added entries (in arrival order, never a duplicate). The derived
state must depend only on the *set* of entries applied (and the index's
forked authors), never on the order or batching of ``apply`` calls: that is
the convergence property the tests check with :meth:`Domain.digest`.

A domain never receives a void entry of a forked author (at or past the cut
of its fork: the facade filters them out, and rebuilds the domain if an author
it has entries of becomes forked or their cut drops).
To ask whether an entry it refers to is held, it uses
:meth:`Views.holds <samoorg.crdt.framework.views.Views.holds>`, which does not see
forked authors' entries either. A domain whose rules also read the forked set
(for example "an acceptance naming a forked inviter is void") sets
:attr:`Domain.reads_forked`, and is rebuilt whenever the set grows.

A domain may read other domains through ``self.views`` (for example the trust
graph). If it caches anything derived from another domain, it must key that
cache on ``self.views.index.version``: :class:`ResolvedDomain` does exactly that.

Written once here, for every family (:mod:`samoorg.crdt.framework.registry`):

* :attr:`Domain.decoders` maps each kind to its decoder, and :attr:`Domain.kinds`
  follows from it;
* :meth:`Domain.decoded` decodes a batch and files each malformed entry in
  :attr:`Domain._malformed` with the one "malformed KIND: why" reason
  (:meth:`RuleViolation.malformed`), calling :meth:`Domain._on_malformed` for
  domains that must also remember where it would have gone;
* :class:`ResolvedDomain`: grow-only filing in :meth:`~ResolvedDomain._file`
  and a whole-view resolution cached on the index version;
* :class:`BucketDomain`: per-object buckets re-resolved when dirty.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Protocol, TypeVar

from samoorg.crdt.framework.digest import state_digest
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.reasons import Reason
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry


PARTS: Final = "_parts"
"""The attribute of a domain restored from a checkpoint that holds its parts not read yet
(``{name: load}``, :meth:`Domain.__getattr__`)."""


class Domain(ABC):
    """One family of record kinds and the deterministic state derived from them."""

    name: ClassVar[str]
    """Key of this domain in :meth:`Views.digests`."""
    decoders: ClassVar[Mapping[str, Callable[[Entry], Any]]]
    """Kind -> decoder (``Entry -> record``, raising RuleViolation only), in kind order."""
    kinds: ClassVar[tuple[str, ...]]
    """Entry kinds this domain reads (:attr:`decoders`' keys); :meth:`apply` gets only these."""
    reads_forked: ClassVar[bool] = False
    """Whether the rules read ``views.index.forked`` (beyond never seeing forked entries)."""
    reads_keys: ClassVar[bool] = True
    """Whether the rules read participant keys in bodies (``to``, ``subject``...) through
    ``views.identity``; if False, only entry authors are canonicalized (``views.author``),
    and a changed device link rebuilds the domain only if it holds that device's entries."""
    reads_bodies: ClassVar[bool] = True
    """Whether the state or its readers read ``entry.body`` of the entries it holds after
    :meth:`apply` (if False, every field is in the decoded records, and a checkpoint saves
    the held entries without their bodies: ``node/checkpoint.py``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "decoders" in cls.__dict__:
            cls.kinds = tuple(cls.decoders)

    def __init__(self, views: Views) -> None:
        self.views = views
        self._malformed: dict[bytes, Reason] = {}
        """Entries whose body breaks the field rules, with the "malformed KIND" reason."""
        self.worth_saving = False
        """Set by a query that derived something costly to compute again (the pledges'
        netting): a checkpoint keeps it even if few entries arrived (``node/checkpoint.py``)."""

    if not TYPE_CHECKING:  # (attributes stay checked by mypy)

        def __getattr__(self, name: str) -> Any:
            """An attribute a checkpoint left encoded, read now (``node/checkpoint_pickle.py``).

            Only called for an attribute not set: a restored domain's large
            attributes are its *parts*, ``{name: load}`` in :data:`PARTS`, each
            loaded the first time it is read, so a query reads only what it uses.
            """
            parts = self.__dict__.get(PARTS)
            if not parts or name not in parts:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            value = parts[name]()
            setattr(self, name, value)
            del parts[name]
            return value

    def decoded(self, entries: Sequence[Entry]) -> Iterator[tuple[Entry, Any]]:
        """``(entry, record)`` for each well-formed entry; files the malformed ones."""
        decoders = self.decoders
        for entry in entries:
            try:
                record = decoders[entry.kind](entry)
            except RuleViolation as exc:
                self._malformed[entry.id] = exc.malformed(entry.kind)
                self._on_malformed(entry, exc)
                continue
            yield entry, record

    def _on_malformed(self, entry: Entry, exc: RuleViolation) -> None:  # noqa: B027
        """Called for each malformed entry :meth:`decoded` files (default: nothing more)."""

    @abstractmethod
    def apply(self, entries: Sequence[Entry]) -> None:
        """Take new entries of :attr:`kinds` (any order, each entry at most once)."""

    @abstractmethod
    def invalid(self) -> Mapping[bytes, Reason]:
        """``{entry id: reason}`` for every entry of this domain the view ignores."""

    def settle(self) -> None:  # noqa: B027 - only bucket domains resolve in part
        """Resolve what the entries applied so far changed, if that costs the change, not
        the domain (:meth:`Views.settle <samoorg.crdt.framework.views.Views.settle>`)."""

    @abstractmethod
    def state(self) -> dcbor.Value:
        """The canonical state (built from sorted collections) that :meth:`digest` hashes."""

    def digest_input(self) -> dcbor.Value:
        """``[name, state, [[forked key, cut], ...] ascending]``: what :meth:`digest` hashes.

        See ``docs/protocol.md`` §8.7.
        """
        forked: list[dcbor.Value] = [[a, c] for a, c in sorted(self.views.index.cuts.items())]
        return [self.name, self.state(), forked]

    def digest(self) -> str:
        """Hex SHA-256 of :meth:`digest_input`: equal on two nodes iff their views agree."""
        return state_digest(self.digest_input())


class ResolvedView(Protocol):
    """What a :class:`ResolvedDomain` resolves to: the void entries and a canonical form."""

    @property
    def invalid(self) -> Mapping[bytes, Reason]:
        """``{entry id: reason}``, malformed entries included."""
        ...

    def canonical(self) -> dcbor.Value:
        """The sorted, encodable state :meth:`Domain.digest` hashes."""
        ...


ViewT = TypeVar("ViewT", bound=ResolvedView)


class ResolvedDomain(Domain, Generic[ViewT]):
    """A domain that files records as they come and resolves the whole view when read.

    :meth:`apply` decodes (filing malformed entries) and hands each record to
    :meth:`_file`; :meth:`view` runs :meth:`_resolve_view` again only when the
    index changed since the last time (its version), so reading other domains
    from there is safe.
    """

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._cache: tuple[int, ViewT] | None = None

    @abstractmethod
    def _file(self, entry: Entry, record: Any) -> None:
        """Keep one well-formed record (any order, never the same entry twice)."""

    @abstractmethod
    def _resolve_view(self) -> ViewT:
        """The view after the cross-entry rules, from what was filed."""

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new entries; resolution is lazy."""
        for entry, record in self.decoded(entries):
            self._file(entry, record)
        self._cache = None

    def view(self) -> ViewT:
        """The resolved view (recomputed when the index changed)."""
        version = self.views.index.version
        if self._cache is None or self._cache[0] != version:
            self._cache = (version, self._resolve_view())
        return self._cache[1]

    def invalid(self) -> Mapping[bytes, Reason]:
        """Malformed entries and the entries the rules void."""
        return self.view().invalid

    def state(self) -> dcbor.Value:
        """The resolved view's canonical form."""
        return self.view().canonical()


class Resolved(Protocol):
    """What a per-object resolution yields: at least the entries it voids."""

    @property
    def invalid(self) -> Mapping[bytes, Reason]:
        """``{entry id: reason}``."""
        ...


BucketT = TypeVar("BucketT")
OutcomeT = TypeVar("OutcomeT", bound=Resolved)


def _key(item: tuple[bytes, object]) -> bytes:
    return item[0]


K = TypeVar("K")
V = TypeVar("V")


def patch_index(index: dict[K, set[V]], key: K, value: V, sign: int) -> None:
    """Add (``sign > 0``) or remove ``value`` under ``key`` of a set-valued index kept by
    :meth:`BucketDomain._contribute`; a key whose set empties is dropped."""
    found = index.setdefault(key, set())
    if sign > 0:
        found.add(value)
        return
    found.discard(value)
    if not found:
        del index[key]


class BucketDomain(Domain, Generic[BucketT, OutcomeT]):
    """A domain whose entries group into buckets by the object they refer to.

    :meth:`apply` implementations file entries with :meth:`_bucket` (which
    marks the object dirty); queries call :meth:`_refresh`, which re-resolves
    only dirty objects and lets :meth:`_contribute` patch aggregates (called
    with the old outcome and ``-1``, then the new one and ``+1``).

    Every entry is filed in one bucket, and an outcome voids only entries of
    its own bucket, so the void entries are kept as one aggregate
    (:attr:`_voided`): :meth:`invalid` costs the void entries, not the
    objects. ``_buckets`` and ``_outcomes`` are mappings, not necessarily
    dicts: a checkpoint restores them as rows decoded on first access
    (``node/checkpoint.py``), so a query reads only the objects it names.
    """

    ROWS: ClassVar[tuple[str, str]] = ("_buckets", "_outcomes")
    """The attributes holding the per-object state, one row per key in each."""

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._buckets: MutableMapping[bytes, BucketT] = {}
        self._dirty: set[bytes] = set()
        self._outcomes: MutableMapping[bytes, OutcomeT] = {}
        self._voided: dict[bytes, Reason] = {}
        """The union of the outcomes' ``invalid`` (each entry is in one bucket only)."""

    @abstractmethod
    def _new_bucket(self) -> BucketT:
        """An empty bucket."""

    @abstractmethod
    def _resolve(self, key: bytes, bucket: BucketT) -> OutcomeT:
        """The outcome of one object, a pure function of its bucket (and stable lookups)."""

    def _contribute(self, outcome: OutcomeT, sign: int) -> None:
        """Add (``sign=+1``) or remove (``-1``) an outcome's share of the aggregates."""

    def _bucket(self, key: bytes) -> BucketT:
        self._dirty.add(key)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = self._new_bucket()
        return bucket

    def _refresh(self) -> None:
        if not self._dirty:
            return
        for key in sorted(self._dirty):
            old = self._outcomes.get(key)
            if old is not None:
                self._contribute(old, -1)
                for entry_id in old.invalid:
                    self._voided.pop(entry_id, None)
            new = self._resolve(key, self._buckets[key])
            self._outcomes[key] = new
            self._contribute(new, +1)
            self._voided.update(new.invalid)
        self._dirty.clear()

    def settle(self) -> None:
        """Re-resolve the objects the entries applied since changed (:meth:`Domain.settle`)."""
        self._refresh()

    def _sorted_outcomes(self) -> list[OutcomeT]:
        self._refresh()
        return [outcome for _, outcome in sorted(self._outcomes.items(), key=_key)]

    def invalid(self) -> Mapping[bytes, Reason]:
        """Malformed entries and every entry the resolutions void."""
        self._refresh()
        return {**self._malformed, **self._voided}
