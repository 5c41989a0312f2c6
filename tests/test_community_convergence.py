"""Convergence of the trust and pledge views under any delivery order.

Random multi-author histories mix valid and rule-breaking records. Every
causally valid delivery order (each feed in order, every referenced entry
before the entries naming it), with duplicates and with queries between
deliveries (incremental updates), must give the same digests and the same
void entries as a rebuild from the full set.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.views import Views
from samoorg.protocol.entry import Entry
from tests.community_fixtures import History, histories
from tests.kind_kit import incremental, rebuild


def causal_order(history: History, rng: random.Random, duplicates: int) -> list[Entry]:
    """A random topological order of the history, with some entries delivered again."""
    by_id = {e.id: e for e in history.entries}
    waiting = {k: set(v) for k, v in history.deps.items()}
    ready = [e for e in history.entries if not waiting[e.id]]
    order: list[Entry] = []
    delivered: set[bytes] = set()
    while ready:
        entry = ready.pop(rng.randrange(len(ready)))
        order.append(entry)
        delivered.add(entry.id)
        for other_id, deps in waiting.items():
            if entry.id in deps:
                deps.discard(entry.id)
                if not deps and other_id not in delivered:
                    ready.append(by_id[other_id])
    assert len(order) == len(history.entries)
    for _ in range(duplicates):
        order.insert(rng.randrange(len(order) + 1), rng.choice(order))
    return order


def probe(views: Views, entry: Entry) -> None:
    if entry.seq % 2:  # what the daemon does between catch-up steps (Views.settle)
        views.settle()
    views.trust.pool(entry.author)
    views.pledges.debts()


def replay(order: list[Entry], rng: random.Random, forked: set[bytes]) -> Views:
    """``order`` delivered one by one, querying after about 30% of deliveries."""
    stops = {i for i in range(len(order)) if rng.random() < 0.3}
    fork_at = rng.randrange(len(order) + 1)
    return incremental(order, stops, forked=forked, fork_at=fork_at, probe=probe)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False), st.booleans())
def test_every_causal_order_converges(history: History, rng: random.Random, fork: bool) -> None:
    forked = {history.entries[0].author} if fork else set()
    full = rebuild(history.entries, forked)
    expected, expected_invalid = full.digests(), full.invalid()
    for _ in range(3):
        order = causal_order(history, rng, duplicates=rng.randrange(4))
        views = replay(order, rng, forked)
        assert views.digests() == expected
        assert views.invalid() == expected_invalid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False))
def test_even_non_causal_orders_converge(history: History, rng: random.Random) -> None:
    # Stronger than required: partial replication can deliver a reference
    # before its target; the views wait and then agree.
    expected = rebuild(history.entries, set()).digests()
    order = list(history.entries)
    rng.shuffle(order)
    assert replay(order, rng, set()).digests() == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False))
def test_each_participants_pledges_are_those_of_the_whole_listing(
    history: History, rng: random.Random
) -> None:
    """``pledges_of`` and ``listed_ids`` (from indexes kept with the outcomes) equal
    filtering every pledge."""
    from samoorg.crdt.kinds.pledges import VOID, WAITING

    order = causal_order(history, rng, duplicates=rng.randrange(4))
    views = replay(order, rng, set())
    pledges = views.pledges
    listed = [o for o in pledges.pledges() if o.state not in (WAITING, VOID)]
    for party in {e.author for e in history.entries} | {o.beneficiary for o in listed} - {None}:
        assert party is not None
        expected = [o for o in listed if party in (o.author, o.beneficiary)]
        assert pledges.pledges_of(party) == expected
    assert pledges.listed_ids() == [o.id for o in listed]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False))
def test_each_participants_invites_are_those_of_every_invite(
    history: History, rng: random.Random
) -> None:
    """``invites_of`` and ``invites_with`` (from an index kept with the outcomes) equal
    filtering every invite, also while acceptances wait for an invite not held yet."""
    held = [e for e in history.entries if rng.random() < 0.7]
    rng.shuffle(held)
    views = replay(held, rng, set())
    invites = views.trust.outcomes()
    for inviter in {views.identity(e.author) for e in history.entries}:
        assert views.trust.invites_of(inviter) == [o for o in invites if o.inviter == inviter]
    waiting = {o.id: {e.author for e in map(views.index.get, o.waiting) if e} for o in invites}
    for author in {e.author for e in history.entries}:
        expected = [o for o in invites if author in (o.inviter, o.invitee, *waiting[o.id])]
        assert views.trust.invites_with(author) == expected
