"""The testing kit for record families: histories, delivery orders, and the convergence check.

One harness for every convergence test (the contract test and each family's
own): :func:`feed_order` and :func:`any_order` deliver a history with
duplicates, :func:`incremental` feeds a fresh index in that order, querying
the views at checkpoints (so domains update incrementally) and flagging the
forked authors at a chosen point, and :func:`assert_same_views` compares the
result with :func:`rebuild` (one index built from the set). Every
:func:`family_history` starts with :func:`identity_links`, grouping its authors
into identities of 1..3 devices, so every family is run with multi-device
identities (views per identity, ``docs/protocol.md`` §8.11.1).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence

from hypothesis import strategies as st

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.registry import Family, SampleContext, family
from samoorg.crdt.framework.views import Views
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author, join

Probe = Callable[[Views, Entry], object]
"""A query run at a checkpoint (after delivering the entry), to force an incremental update."""


def rebuild(entries: Collection[Entry], forked: Collection[bytes] = ()) -> Views:
    """Views over one index built from the set of ``entries``."""
    return Views(EntryIndex(entries, forked=forked))


def feed_order(
    data: st.DataObject, entries: Sequence[Entry], *, duplicates: bool = True
) -> list[Entry]:
    """Interleave the feeds at random (each feed in seq order), repeating some entries."""
    queues: dict[bytes, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: (e.author, e.seq)):
        queues.setdefault(entry.author, []).append(entry)
    order: list[Entry] = []
    while queues:
        author = data.draw(st.sampled_from(sorted(queues)), label="next feed")
        order.append(queues[author].pop(0))
        if not queues[author]:
            del queues[author]
        if duplicates and data.draw(st.integers(0, 4), label="dup") == 0:
            order.append(data.draw(st.sampled_from(order), label="duplicate"))
    return order


def any_order(rng: random.Random, entries: Sequence[Entry], duplicates: int = 0) -> list[Entry]:
    """Every entry in a random order (references may come before their targets), plus
    ``duplicates`` repeated ones."""
    order = [*entries, *rng.choices(entries, k=duplicates if entries else 0)]
    rng.shuffle(order)
    return order


def incremental(
    order: Sequence[Entry],
    checkpoints: Collection[int] = (),
    *,
    forked: Collection[bytes] = (),
    fork_at: int = 0,
    probe: Probe | None = None,
) -> Views:
    """Deliver ``order`` one entry at a time to a fresh index.

    After each position in ``checkpoints`` the digests are computed (and
    ``probe`` run), so every domain updates incrementally from there on. The
    ``forked`` authors are flagged just before position ``fork_at`` (after
    the last entry if ``fork_at >= len(order)``).
    """
    index = EntryIndex()
    views = Views(index)
    for position, entry in enumerate(order):
        if position == fork_at:
            for author in forked:
                index.add_forked(author)
        index.add(entry)
        if position in checkpoints:
            views.digests()
            if probe is not None:
                probe(views, entry)
    for author in forked:
        index.add_forked(author)
    return views


def checkpoints(data: st.DataObject, order: Sequence[Entry]) -> set[int]:
    """A few positions at which to query the views mid-stream."""
    if not order:
        return set()
    positions = st.lists(st.integers(0, len(order) - 1), max_size=4)
    return set(data.draw(positions, label="checkpoints"))


def assert_same_views(got: Views, expected: Views, *, only: str | None = None) -> None:
    """Equal digests and equal void entries (of domain ``only``, or of every domain)."""
    if only is None:
        assert got.digests() == expected.digests()
        assert got.invalid() == expected.invalid()
        return
    cls = family(only).domain
    assert got.domain(cls).digest() == expected.domain(cls).digest()
    assert dict(got.domain(cls).invalid()) == dict(expected.domain(cls).invalid())


# -- histories of registered families -------------------------------------------------

AUTHORS = 4
MAX_DEVICES = 3


def identity_links(data: st.DataObject, authors: Sequence[Author]) -> list[Entry]:
    """Group ``authors`` into identities of 1..MAX_DEVICES devices (drawn, often none
    joined): each joining key's first entry accepts a ``device.add`` of a device of
    the identity it joins (§8.11), so every family is run with multi-device identities."""
    parent: dict[int, int] = {}
    size = dict.fromkeys(range(len(authors)), 1)
    for joiner in range(1, len(authors)):
        founders = [n for n in range(joiner) if n not in parent and size[n] < MAX_DEVICES]
        choice = data.draw(st.sampled_from([None, *founders]), label=f"identity of {joiner}")
        if choice is not None:
            parent[joiner] = choice
            size[choice] += 1
    entries: list[Entry] = []
    for joiner, founder in sorted(parent.items()):
        # the add is signed by the founder or by a device that joined before
        same = [founder, *(j for j, f in sorted(parent.items()) if f == founder and j < joiner)]
        adder = authors[data.draw(st.sampled_from(same), label="adder")]
        entries += join(adder, authors[joiner], bytes([joiner + 1]) * 16)
    return entries


def family_history(
    data: st.DataObject, subject: Family, *, max_length: int = 14
) -> tuple[list[Author], list[Entry]]:
    """A multi-author history of ``subject``'s samples, mixed with those of the families
    it uses; the samples refer to the entries written before them."""
    authors = [Author(n + 1) for n in range(AUTHORS)]
    keys = [a.key for a in authors]
    mixed = [family(name) for name in subject.uses] + [subject]
    entries: list[Entry] = identity_links(data, authors)
    for _ in range(data.draw(st.integers(1, max_length), label="length")):
        who = authors[data.draw(st.integers(0, AUTHORS - 1), label="author")]
        source = data.draw(st.sampled_from(mixed), label="family")
        at = who.clock + data.draw(st.sampled_from([1, 1000, 60_000, 86_400_000]), label="gap")
        ctx = SampleContext(tuple(entries), who.key, keys, at)
        kind, body = data.draw(source.samples(ctx), label="sample")
        entries.append(who.write(kind, body, at=at))
    return authors, entries
