"""Utility: integer PageRank/EigenTrust over the trust list; Sybil rings gain nothing."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.utility import UtilityParams, compute_utility
from tests.community_fixtures import Author, views_of
from tests.social_fixtures import post_idea, rate_idea, rate_member, trusted_star

KEYS = [bytes([i]) * 32 for i in range(1, 9)]


def reference(members: list[bytes], weights: dict[tuple[bytes, bytes], int], rounds: int) -> dict:
    """The same iteration in exact rationals (no fixed point), for comparison."""
    n = len(members)
    d = Fraction(4, 5)
    out = {m: sum(w for (i, _), w in weights.items() if i == m) for m in members}
    t = dict.fromkeys(members, Fraction(1, n))
    recv: dict[bytes, Fraction] = {}
    for _ in range(rounds):
        recv = dict.fromkeys(members, Fraction(0))
        for (i, j), w in weights.items():
            recv[j] += d * t[i] * w / out[i]
        rest = 1 - sum(recv.values())
        t = {m: recv[m] + rest / n for m in members}
    return {"standing": t, "utility": recv}


weights_strategy = st.dictionaries(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)).filter(lambda p: p[0] != p[1]),
    st.integers(1, 10),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(weights=weights_strategy, seed=st.integers(0, 2**32))
def test_exact_total_determinism_and_agreement_with_rationals(
    weights: dict[tuple[bytes, bytes], int], seed: int
) -> None:
    members = KEYS[:6]
    result = compute_utility(members, weights)
    assert sum(result.standing.values()) == result.params.scale
    # Insertion order of members and weights does not matter, bit for bit.
    shuffled = list(weights.items())
    random.Random(seed).shuffle(shuffled)
    again = compute_utility(list(reversed(members)), dict(shuffled))
    assert (again.standing, again.utility, again.iterations) == (
        result.standing,
        result.utility,
        result.iterations,
    )
    inside = {(i, j): w for (i, j), w in weights.items() if i in members and j in members}
    exact = reference(members, inside, 60)
    scale = result.params.scale
    for m in members:
        assert abs(Fraction(result.standing[m], scale) - exact["standing"][m]) < Fraction(1, 10**5)
        assert abs(Fraction(result.utility[m], scale) - exact["utility"][m]) < Fraction(1, 10**5)


def test_fixed_iteration_budget_is_respected() -> None:
    chain = {(KEYS[0], KEYS[1]): 1, (KEYS[1], KEYS[2]): 3, (KEYS[2], KEYS[1]): 1}
    capped = compute_utility(KEYS[:4], chain, UtilityParams(tolerance=0, max_iterations=3))
    assert (capped.iterations, capped.converged) == (3, False)
    assert sum(capped.standing.values()) == capped.params.scale


def test_nobody_rated_means_no_utility() -> None:
    result = compute_utility(KEYS[:3], {})
    assert result.total_utility == 0
    assert sorted(result.standing.values())[-1] - sorted(result.standing.values())[0] <= 1


def test_sybil_ring_outside_the_trust_list_gains_nothing() -> None:
    alice, bob, carol, dave = Author(1), Author(2), Author(3), Author(4)
    community = [
        *trusted_star(alice, [bob, carol, dave]),
        rate_member(alice, bob, 4),
        rate_member(bob, carol, 5),
        rate_member(carol, alice, 3),
        rate_member(dave, bob, 2),
    ]
    idea = post_idea(carol, "Portal of goods")
    community += [idea, rate_idea(alice, idea, 5)]
    honest = views_of(*community).social(alice.key).utility

    sybils = [Author(20 + i) for i in range(6)]
    ring = [rate_member(s, t, 5) for s in sybils for t in sybils if s is not t]
    ring += [rate_member(s, dave, 5) for s in sybils]  # and they all boost dave
    ring += [rate_idea(s, idea, 0) for s in sybils]  # and try to sink carol's idea
    attacked_views = views_of(*community, *ring)
    attacked = attacked_views.social(alice.key).utility

    assert (
        attacked.members
        == honest.members
        == tuple(sorted({alice.key, bob.key, carol.key, dave.key}))
    )
    assert attacked.utility == honest.utility
    assert attacked.standing == honest.standing
    assert all(s.key not in attacked.utility for s in sybils)
    assert attacked.total_utility > 0
    # The ring's ratings are held and valid; they simply carry no standing.
    assert len(attacked_views.ratings.view().members) > len(sybils) ** 2 - len(sybils)


def test_utility_follows_ratings_and_raters_standing() -> None:
    alice, bob, carol, dave = Author(1), Author(2), Author(3), Author(4)
    trust = trusted_star(alice, [bob, carol, dave])
    entries = [
        *trust,
        rate_member(alice, bob, 5),
        rate_member(carol, bob, 5),
        rate_member(dave, bob, 5),
        rate_member(bob, carol, 5),
    ]
    views = views_of(*entries)
    result = views.social(alice.key).utility
    # bob is rated by three members; carol by bob alone, who has high standing.
    assert result.utility[bob.key] > result.utility[carol.key] > 0
    assert result.utility[alice.key] == result.utility[dave.key] == 0
    # A revision (score 0) withdraws bob's endorsement of carol.
    views.index.add(rate_member(bob, carol, 0))
    assert views.social(alice.key).utility.utility[carol.key] == 0
