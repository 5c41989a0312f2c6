"""The entry set that all views read from.

Theory of operation: views never see delivery order. The index stores each
entry once (by id) and hands views the entries of a kind in a canonical
order, ``(author, seq)``, which is a total order on distinct entries that no
one can influence by the timing of delivery. Views that need "the latest" of
something by one author compare ``seq`` within that author's feed (the author
signed that order); views that must order different authors use a documented
tie-break such as ``(timestamp, author, seq)``.

``version`` increases whenever the set changes, so a facade can cache derived
state and recompute it lazily. ``mark`` and ``added_since(mark)`` give the
entries added after a point, in arrival order, so views can update
incrementally instead of rebuilding. ``retract`` removes the entries added
last (a record the views refused, see :meth:`Views.trial
<samoorg.crdt.framework.views.Views.trial>`).

**Held before** (:class:`HeldBefore`). An index may start from entries it does
not keep in memory: ``EntryIndex(base=...)`` counts the base's entries as held
(``len``, ``in``, :meth:`get`, :meth:`of_kind`, :meth:`of_author`) but reads them
from the base only when asked (the node's base is its store up to a
checkpoint, ``node/checkpoint.py``). Marks count the base too, so
``added_since(base.count)`` is what was added in memory. ``log`` holds only
the entries added in memory. Asking the base for a kind costs that kind's
entries, so a command that needs one view loads only that view's entries.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

from samoorg.protocol.entry import Entry


def canonical_key(entry: Entry) -> tuple[bytes, int]:
    """The order in which views receive entries of one kind."""
    return entry.author, entry.seq


class HeldBefore(Protocol):
    """Entries an :class:`EntryIndex` holds without keeping them in memory."""

    @property
    def count(self) -> int:
        """How many entries the base holds."""
        ...

    def get(self, entry_id: bytes) -> Entry | None:
        """The base's entry with this id, if it holds one."""
        ...

    def of_kinds(self, kinds: Sequence[str]) -> list[Entry]:
        """The base's entries of ``kinds`` (any order)."""
        ...

    def of_author(self, author: bytes, kinds: Sequence[str] | None) -> list[Entry]:
        """The base's entries by ``author`` of ``kinds`` (None: every kind; any order)."""
        ...

    def authors(self) -> set[bytes]:
        """Every author with an entry in the base."""
        ...

    def kinds(self) -> set[str]:
        """Every kind with an entry in the base."""
        ...


class EntryIndex:
    """A set of verified entries plus the set of forked authors."""

    def __init__(
        self,
        entries: Iterable[Entry] = (),
        forked: Iterable[bytes] = (),
        base: HeldBefore | None = None,
    ) -> None:
        self.base = base
        """Entries held but not in memory (see the module docstring)."""
        self._base_count = 0 if base is None else base.count
        self._by_id: dict[bytes, Entry] = {}
        self._by_kind: defaultdict[str, list[Entry]] = defaultdict(list)
        self._sorted: set[str] = set()
        self._forked: set[bytes] = set(forked)
        self._log: list[Entry] = []
        self.version = 0
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> bool:
        """Add one entry; return False if it was already present."""
        if entry.id in self._by_id:
            return False
        self._by_id[entry.id] = entry
        self._by_kind[entry.kind].append(entry)
        self._sorted.discard(entry.kind)
        self._log.append(entry)
        self.version += 1
        return True

    def retract(self, entries: Sequence[Entry]) -> None:
        """Remove ``entries``, which must be the last ones added (a refused trial record).

        ``version`` still increases, so caches keyed on it are recomputed.
        """
        tail = self._log[len(self._log) - len(entries) :] if entries else []
        if [e.id for e in tail] != [e.id for e in entries]:
            raise ValueError("expected the entries added last, found others")
        for entry in entries:
            del self._by_id[entry.id]
            bucket = self._by_kind[entry.kind]
            del bucket[next(i for i, e in enumerate(bucket) if e.id == entry.id)]
        del self._log[len(self._log) - len(entries) :]
        self.version += 1

    @property
    def log(self) -> Sequence[Entry]:
        """Every entry in arrival order (the index's own list: read, never modify)."""
        return self._log

    @property
    def mark(self) -> int:
        """A position in the arrival log: the number of distinct entries held so far."""
        return self._base_count + len(self._log)

    def added_since(self, mark: int) -> list[Entry]:
        """Entries added after ``mark`` (from :attr:`mark`, at least the base's count)."""
        if mark < self._base_count:
            raise ValueError(f"expected a mark of at least {self._base_count}, found {mark}")
        return self._log[mark - self._base_count :]

    def add_forked(self, author: bytes) -> bool:
        """Flag an author as forked (a fork proof was verified)."""
        if author in self._forked:
            return False
        self._forked.add(author)
        self.version += 1
        return True

    @property
    def forked(self) -> frozenset[bytes]:
        """Authors flagged by a verified fork proof."""
        return frozenset(self._forked)

    def is_forked(self, author: bytes) -> bool:
        """Whether ``author`` is flagged (cheaper than ``author in index.forked``)."""
        return author in self._forked

    def get(self, entry_id: bytes) -> Entry | None:
        """The entry with this id, if present."""
        found = self._by_id.get(entry_id)
        if found is None and self.base is not None:
            return self.base.get(entry_id)
        return found

    def __len__(self) -> int:
        return self._base_count + len(self._by_id)

    def __contains__(self, entry_id: object) -> bool:
        return isinstance(entry_id, bytes) and self.get(entry_id) is not None

    def of_kind(self, *kinds: str) -> list[Entry]:
        """Entries of the given kinds, each kind in canonical order, kinds in the order given."""
        result: list[Entry] = []
        for kind in kinds:
            result.extend(self._sorted_bucket(kind))
        return result

    def _sorted_bucket(self, kind: str) -> list[Entry]:
        bucket = self._by_kind.get(kind)
        if self.base is not None:
            held = self.base.of_kinds((kind,))
            held.extend(bucket or ())
            held.sort(key=canonical_key)
            return held
        if not bucket:
            return []
        if kind not in self._sorted:
            bucket.sort(key=canonical_key)
            self._sorted.add(kind)
        return bucket

    def of_author(self, author: bytes, kinds: Iterable[str] | None = None) -> list[Entry]:
        """``author``'s entries of ``kinds`` (default: every kind), each kind in ``seq`` order.

        A binary search per kind in the canonically sorted buckets, so asking
        costs what is found, not the size of the index.
        """
        result: list[Entry] = []
        if self.base is not None:
            wanted = None if kinds is None else list(kinds)
            held = self.base.of_author(author, wanted)
            held.extend(e for e in self._log if e.author == author)
            order = {k: n for n, k in enumerate(sorted({e.kind for e in held}))}
            if wanted is not None:
                order = {k: n for n, k in enumerate(wanted)}
                held = [e for e in held if e.kind in order]
            held.sort(key=lambda e: (order[e.kind], e.seq))
            return held
        for kind in self.kinds() if kinds is None else kinds:
            bucket = self._sorted_bucket(kind)
            at = bisect_left(bucket, (author, 0), key=canonical_key)
            while at < len(bucket) and bucket[at].author == author:
                result.append(bucket[at])
                at += 1
        return result

    def kinds(self) -> list[str]:
        """Every kind present, sorted."""
        found = {k for k, v in self._by_kind.items() if v}
        return sorted(found if self.base is None else found | self.base.kinds())

    def authors(self) -> set[bytes]:
        """Every author with at least one entry."""
        found = {e.author for e in self._by_id.values()}
        return found if self.base is None else found | self.base.authors()
