"""Load the store into a :class:`~samoorg.crdt.index.EntryIndex` for the views."""

from __future__ import annotations

from samoorg.crdt.index import EntryIndex
from samoorg.node.store import Store


def load_index(store: Store) -> EntryIndex:
    """Every stored entry and every forked author."""
    index = EntryIndex(forked=store.forked_authors())
    for _, entry in store.entries():
        index.add(entry)
    return index
