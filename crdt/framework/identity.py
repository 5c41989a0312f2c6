"""How records of several devices of one identity combine (``docs/protocol.md`` §8.11.1).

Theory of operation. Every view compares participants by *identity*: the
founding key of a device key (:meth:`Views.identity
<samoorg.crdt.framework.views.Views.identity>`, ``views.author(entry)`` for an
entry's author). Where a view keeps "the latest" record of a participant
(a rating, a vote, a profile, a declared guarantee, an acceptance), the rule
is the same everywhere and is written here once:

1. per device key, the record with the highest ``seq`` in that device's feed
   (the rule of a single feed, unchanged);
2. across the devices of one identity, of those per-device winners the one
   with the largest ``(timestamp, entry id)``.

Both steps depend only on the set of records, so every node computes the
same winner; with one device per identity it is the single-feed rule.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import replace
from heapq import merge
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from samoorg.protocol.entry import Entry

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def latest_per_identity(
    records: Iterable[T],
    group: Callable[[T], K],
    device: Callable[[T], bytes],
    seq: Callable[[T], int],
    order: Callable[[T], tuple[int, bytes]],
) -> dict[K, T]:
    """``{group: winner}``: per (group, device) the highest ``seq``, then per group the
    largest ``order`` (``(timestamp, entry id)``) among those device winners."""
    per_device: dict[tuple[K, bytes], T] = {}
    for record in records:
        slot = (group(record), device(record))
        held = per_device.get(slot)
        if held is None or seq(held) < seq(record):
            per_device[slot] = record
    result: dict[K, T] = {}
    for (key, _), record in per_device.items():
        best = result.get(key)
        if best is None or order(best) < order(record):
            result[key] = record
    return result


def feed_merge(
    records: Iterable[T],
    device: Callable[[T], bytes],
    seq: Callable[[T], int],
    order: Callable[[T], tuple[int, bytes]],
) -> list[T]:
    """One identity's records replayed as one history: each device's records in ``seq``
    order, the devices interleaved by the ``order`` (``(timestamp, entry id)``) of each
    device's next record. With one device this is its feed order."""
    feeds: dict[bytes, list[T]] = {}
    for record in records:
        feeds.setdefault(device(record), []).append(record)
    if len(feeds) <= 1:
        return sorted(next(iter(feeds.values()), []), key=seq)
    return list(merge(*(sorted(feed, key=seq) for feed in feeds.values()), key=order))


def as_identity(record: T, identity: bytes, name: str = "author") -> T:
    """``record`` with its field ``name`` (a device key) replaced by ``identity``."""
    if getattr(record, name) == identity:
        return record
    return replace(record, **{name: identity})  # type: ignore[type-var]


ItemT = TypeVar("ItemT", bound="tuple[Entry, *tuple[Any, ...]]")


def by_feed(items: Sequence[ItemT], identity: Callable[[bytes], bytes]) -> list[ItemT]:
    """``(entry, ...)`` items grouped by the identity of the entry's author (ascending),
    each identity's in :func:`feed_merge` order (one device: its ``seq`` order)."""
    if len(items) < 2:
        return list(items)
    groups: dict[bytes, list[ItemT]] = {}
    for item in items:
        groups.setdefault(identity(item[0].author), []).append(item)
    result: list[ItemT] = []
    for who in sorted(groups):
        group = groups[who]
        if len(group) == 1:
            result.append(group[0])
        else:
            result.extend(feed_merge(group, _item_author, _item_seq, _item_order))
    return result


def _item_author(item: tuple[Entry, *tuple[Any, ...]]) -> bytes:
    return item[0].author


def _item_seq(item: tuple[Entry, *tuple[Any, ...]]) -> int:
    return item[0].seq


def _item_order(item: tuple[Entry, *tuple[Any, ...]]) -> tuple[int, bytes]:
    return item[0].timestamp, item[0].id
