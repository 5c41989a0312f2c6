"""Netting suggestions: cycles of debt cancel, net positions never change."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.netting import Cycle, Debts, suggest_netting

A, B, C, D = (bytes([n]) * 32 for n in (1, 2, 3, 4))


def test_triangle_cancels_its_smallest_edge() -> None:
    debts = {("EUR", A, B): 3000, ("EUR", B, C): 5000, ("EUR", C, A): 4000}
    netting = suggest_netting(debts)
    assert netting.cycles == (Cycle("EUR", (A, B, C), 3000),)
    assert netting.remaining == {("EUR", B, C): 2000, ("EUR", C, A): 1000}


def test_currencies_do_not_mix() -> None:
    debts = {("EUR", A, B): 100, ("USD", B, A): 100}
    netting = suggest_netting(debts)
    assert netting.cycles == ()
    assert netting.remaining == debts


def test_two_overlapping_cycles() -> None:
    debts = {("EUR", A, B): 10, ("EUR", B, A): 4, ("EUR", B, C): 7, ("EUR", C, A): 7}
    netting = suggest_netting(debts)
    assert sum(c.amount * len(c.members) for c in netting.cycles) == 4 * 2 + 6 * 3
    assert netting.remaining == {("EUR", B, C): 1, ("EUR", C, A): 1}


def _net(debts: Debts) -> dict[tuple[str, bytes], int]:
    net: dict[tuple[str, bytes], int] = defaultdict(int)
    for (currency, debtor, creditor), minor in debts.items():
        net[currency, debtor] -= minor
        net[currency, creditor] += minor
    return {k: v for k, v in net.items() if v}


def _acyclic(debts: Debts) -> bool:
    graph: dict[tuple[str, bytes], set[tuple[str, bytes]]] = defaultdict(set)
    for currency, debtor, creditor in debts:
        graph[currency, debtor].add((currency, creditor))
    state: dict[tuple[str, bytes], int] = {}

    def visit(node: tuple[str, bytes]) -> bool:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1 or (nxt not in state and not visit(nxt)):
                return False
        state[node] = 2
        return True

    return all(visit(n) for n in list(graph) if n not in state)


people = st.sampled_from([bytes([n]) * 32 for n in range(1, 8)])
debt_maps = st.dictionaries(
    st.tuples(st.sampled_from(["EUR", "USD"]), people, people).filter(lambda k: k[1] != k[2]),
    st.integers(1, 10_000),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(debt_maps)
def test_netting_preserves_net_positions_and_leaves_no_cycle(debts: Debts) -> None:
    netting = suggest_netting(debts)
    assert _net(netting.remaining) == _net(debts)
    assert _acyclic(netting.remaining)
    for key, minor in netting.remaining.items():
        assert 0 < minor <= debts[key]
    for cycle in netting.cycles:
        assert cycle.amount > 0
        assert len(set(cycle.members)) == len(cycle.members) >= 2
    assert suggest_netting(dict(reversed(list(debts.items())))) == netting
