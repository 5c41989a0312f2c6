"""Netting suggestions: cycles of debt that cancel out (A owes B, B owes C, C owes A).

Theory of operation. Per currency, outstanding commitments form a directed
graph ``debtor -> creditor`` weighted by the amount owed. Any directed cycle
can be reduced by its smallest edge without changing anyone's net position
(each member on the cycle owes that much less and is owed that much less).
:func:`suggest_netting` repeatedly finds a cycle by depth-first search and
cancels it, until the graph is acyclic.

Determinism: start nodes and neighbours are visited in key order, so every
node computes the same suggestions from the same debts.

Cost: removing edges never creates a cycle, so a node whose whole reach was
explored without finding one stays "done" across rounds. Each round removes
at least one edge, so there are at most E rounds, and the total work is
about O(E * (V + E)) in the worst case and near O(V + E) for sparse ledgers.

Greedy cancellation is not guaranteed to cancel the largest possible total
(that is a minimum-cost circulation problem), but every suggestion is
individually sound and the remaining debts are cycle-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

Debts: TypeAlias = dict[tuple[str, bytes, bytes], int]
"""``{(currency, debtor, creditor): minor units}``."""


@dataclass(frozen=True, slots=True)
class Cycle:
    """Members ``m[0] -> m[1] -> ... -> m[0]`` each owe the next ``amount`` less."""

    currency: str
    members: tuple[bytes, ...]
    amount: int


@dataclass(frozen=True, slots=True)
class Netting:
    """The suggested cancellations and the debts that remain after them."""

    cycles: tuple[Cycle, ...]
    remaining: Debts


def _find_cycle(graph: Mapping[bytes, Mapping[bytes, int]], done: set[bytes]) -> list[bytes]:
    """A directed cycle (as a node list) reachable from a node not in ``done``, or []."""
    for start in sorted(graph):
        if start in done:
            continue
        path: list[bytes] = [start]
        on_path = {start: 0}
        iterators = [iter(sorted(graph.get(start, {})))]
        while iterators:
            advanced = False
            for nxt in iterators[-1]:
                if nxt in on_path:
                    return path[on_path[nxt] :]
                if nxt in done:
                    continue
                on_path[nxt] = len(path)
                path.append(nxt)
                iterators.append(iter(sorted(graph.get(nxt, {}))))
                advanced = True
                break
            if not advanced:
                finished = path.pop()
                del on_path[finished]
                iterators.pop()
                done.add(finished)
    return []


def _cancel_currency(currency: str, graph: dict[bytes, dict[bytes, int]]) -> list[Cycle]:
    cycles: list[Cycle] = []
    done: set[bytes] = set()
    while True:
        nodes = _find_cycle(graph, done)
        if not nodes:
            return cycles
        hops = list(zip(nodes, nodes[1:] + nodes[:1], strict=True))
        amount = min(graph[a][b] for a, b in hops)
        for a, b in hops:
            left = graph[a][b] - amount
            if left:
                graph[a][b] = left
            else:
                del graph[a][b]
        # Present each cycle starting from its smallest key.
        first = nodes.index(min(nodes))
        cycles.append(Cycle(currency, tuple(nodes[first:] + nodes[:first]), amount))


def suggest_netting(debts: Mapping[tuple[str, bytes, bytes], int]) -> Netting:
    """Cancel every cycle of debt, currency by currency; see the module docstring."""
    graphs: dict[str, dict[bytes, dict[bytes, int]]] = {}
    for (currency, debtor, creditor), minor in debts.items():
        if minor > 0 and debtor != creditor:
            graphs.setdefault(currency, {}).setdefault(debtor, {})[creditor] = minor
    cycles: list[Cycle] = []
    remaining: Debts = {}
    for currency in sorted(graphs):
        graph = graphs[currency]
        cycles.extend(_cancel_currency(currency, graph))
        for debtor in sorted(graph):
            for creditor in sorted(graph[debtor]):
                remaining[(currency, debtor, creditor)] = graph[debtor][creditor]
    return Netting(tuple(cycles), remaining)
