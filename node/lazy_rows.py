"""Rows of a bucket domain restored from a checkpoint, decoded the first time they are read.

Theory of operation. A :class:`~samoorg.crdt.framework.domain.BucketDomain`
keeps two mappings with one row per object: its buckets and their outcomes
(:attr:`~samoorg.crdt.framework.domain.BucketDomain.ROWS`). A checkpoint saves
each object's bucket and outcome as one small encoded row, in key order, and
restores the pair of mappings as two :class:`LazyRows` over one
:class:`EncodedRows`: the sorted keys and where each row lies. Reading a key
(either mapping) decodes that object's row into both mappings at once, and
the row is never read again; writing or deleting a key decodes it first, so
the other mapping keeps its value. Keys still encoded cost their 32 bytes and
a position, not their objects: ``samoorg pledge list`` at a million entries
decodes the pledges of one member, not 400,000.

Both mappings behave as dicts to the domain (iteration yields every key,
decoded or not, and decodes nothing; ``len`` counts both; ``items()`` and
``values()`` decode every row left, in one pass in key order). Saving asks
:meth:`EncodedRows.encoded` whether a key's row is unchanged since it was
read, and copies its bytes instead of encoding it again.

This module does not know how rows are encoded: the checkpoint passes the
functions that read a row's bytes and decode them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, ItemsView, Iterator, MutableMapping, Sequence, ValuesView
from typing import Any, Final, TypeVar, overload

V = TypeVar("V")
_MISSING: Final = object()
KEY_SIZE: Final = 32


class SortedIds(Sequence[bytes]):
    """A sorted run of 32-byte keys in one bytes object (for :func:`bisect.bisect_left`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data) // KEY_SIZE

    @overload
    def __getitem__(self, position: int) -> bytes: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[bytes]: ...
    def __getitem__(self, position: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(position, slice):
            raise TypeError("expected an index, found a slice")
        if not 0 <= position < len(self):
            raise IndexError(position)
        return self.data[position * KEY_SIZE : (position + 1) * KEY_SIZE]


class EncodedRows:
    """The rows as a checkpoint saved them: ``keys`` sorted, row ``n``'s bytes by ``read(n)``."""

    def __init__(
        self,
        keys: Sequence[bytes],
        read: Callable[[int], bytes],
        decode: Callable[[bytes], tuple[Any, Any]],
    ) -> None:
        self.keys = keys
        self.read = read
        self.decode = decode
        self.taken: set[bytes] = set()
        """Keys whose row was decoded (the mappings hold their values now)."""
        self.buckets: LazyRows[Any] = LazyRows(self)
        self.outcomes: LazyRows[Any] = LazyRows(self)

    def position(self, key: bytes) -> int:
        """The row number of ``key`` if it is still encoded, else -1."""
        keys = self.keys
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key and key not in self.taken:
            return at
        return -1

    def take(self, key: bytes) -> None:
        """Decode ``key``'s row into both mappings (nothing if it is not encoded)."""
        at = self.position(key)
        if at < 0:
            return
        bucket, outcome = self.decode(self.read(at))
        self.taken.add(key)
        self.buckets.decoded[key] = bucket
        self.outcomes.decoded[key] = outcome

    def take_all(self) -> None:
        """Decode every row still encoded, in order (no search per key)."""
        read, decode, taken = self.read, self.decode, self.taken
        buckets, outcomes = self.buckets.decoded, self.outcomes.decoded
        for at, key in list(self.encoded()):
            buckets[key], outcomes[key] = decode(read(at))
            taken.add(key)

    def encoded(self) -> Iterator[tuple[int, bytes]]:
        """``(row number, key)`` of every row not decoded, in key order."""
        keys, taken = self.keys, self.taken
        for at in range(len(keys)):
            key = keys[at]
            if key not in taken:
                yield at, key

    @property
    def left(self) -> int:
        """How many rows are still encoded."""
        return len(self.keys) - len(self.taken)


class LazyRows(MutableMapping[bytes, V]):
    """One of the two mappings over :class:`EncodedRows` (see the module docstring)."""

    def __init__(self, source: EncodedRows) -> None:
        self.source = source
        self.decoded: dict[bytes, V] = {}

    def __getitem__(self, key: bytes) -> V:
        found = self.decoded.get(key, _MISSING)
        if found is _MISSING:
            self.source.take(key)
            return self.decoded[key]
        return found  # type: ignore[return-value]

    def get(self, key: bytes, default: Any = None) -> Any:
        """The value of ``key`` (decoding its row), or ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if key in self.decoded:
            return True
        return isinstance(key, bytes) and self.source.position(key) >= 0

    def __setitem__(self, key: bytes, value: V) -> None:
        self.source.take(key)
        self.decoded[key] = value

    def __delitem__(self, key: bytes) -> None:
        self.source.take(key)
        del self.decoded[key]

    def items(self) -> ItemsView[bytes, V]:
        """Every ``(key, value)``: decodes every row still encoded (in one pass)."""
        self.source.take_all()
        return self.decoded.items()

    def values(self) -> ValuesView[V]:
        """Every value: decodes every row still encoded (in one pass)."""
        self.source.take_all()
        return self.decoded.values()

    def __iter__(self) -> Iterator[bytes]:
        yield from list(self.decoded)
        for _, key in self.source.encoded():
            yield key

    def __len__(self) -> int:
        return len(self.decoded) + self.source.left
