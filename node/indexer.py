"""Load the store into a :class:`~samoorg.crdt.framework.index.EntryIndex` for the views."""

from __future__ import annotations

from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.index import EntryIndex
from samoorg.node.store import Store


def load_index(store: Store) -> EntryIndex:
    """Every stored entry and every forked author.

    Decoding every row allocates objects that all stay alive, so the cyclic
    collector is paused meanwhile (see :mod:`samoorg.crdt.framework.bulk`).
    """
    index = EntryIndex(forked=store.forked_authors())
    with paused_gc():
        for _, entry in store.entries():
            index.add(entry)
    return index
