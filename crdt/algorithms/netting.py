"""Netting suggestions: cycles of debt that cancel out (A owes B, B owes C, C owes A).

Theory of operation. Per currency, outstanding commitments form a directed
graph ``debtor -> creditor`` weighted by the amount owed. Any directed cycle
can be reduced by its smallest edge without changing anyone's net position
(each member on the cycle owes that much less and is owed that much less).
:func:`suggest_netting` first cancels cycles of two and three members (the
suggestions easiest to act on), then finds any longer cycles by depth-first
search and cancels each as it is found, until the graph is acyclic.

Determinism: start nodes and neighbours are visited in key order, so every
node computes the same suggestions from the same debts.

Cost: one depth-first search that, after cancelling a cycle, resumes from the
first edge the cancellation removed instead of starting over. Removing edges never creates a
cycle, so a node found to reach none is never entered again. The amounts
owed along the current path are kept beside it, so a cancellation reads
them from a list rather than from the graph. Each cancellation removes at
least one edge; the work is about
O(V + E + cancellations * cycle length * log degree).

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


def _cancel(currency: str, graph: dict[bytes, dict[bytes, int]], nodes: list[bytes]) -> Cycle:
    """Reduce every edge of the cycle ``nodes`` by its smallest amount; drop zero edges."""
    hops = list(zip(nodes, nodes[1:] + nodes[:1], strict=True))
    amount = min(graph[a][b] for a, b in hops)
    for a, b in hops:
        left = graph[a][b] - amount
        if left:
            graph[a][b] = left
        else:
            del graph[a][b]
    first = nodes.index(min(nodes))  # present each cycle from its smallest key
    return Cycle(currency, tuple(nodes[first:] + nodes[:first]), amount)


def _cancel_short(currency: str, graph: dict[bytes, dict[bytes, int]]) -> list[Cycle]:
    # Cycles of two and three members first: the suggestions people can act on
    # most easily. Each is found from its smallest key ``a``; edges may vanish
    # as cycles are cancelled, so membership is re-checked before each use.
    cycles: list[Cycle] = []
    for a in sorted(graph):
        for b in sorted(graph[a]):
            if b > a and b in graph[a] and a in graph.get(b, {}):
                cycles.append(_cancel(currency, graph, [a, b]))
        for b in sorted(graph[a]):
            if b < a:
                continue
            for c in sorted(graph.get(b, {})):
                if b not in graph[a]:
                    break
                if c > a and c in graph[b] and a in graph.get(c, {}):
                    cycles.append(_cancel(currency, graph, [a, b, c]))
    return cycles


def _cancel_currency(currency: str, graph: dict[bytes, dict[bytes, int]]) -> list[Cycle]:
    # Depth-first search over the whole graph. When an edge closes a cycle on
    # the current path, the cycle is cancelled and the search resumes from the
    # cycle's first node. It would walk the cycle's remaining edges again, in
    # the same order: every neighbour a node skipped before the one on the
    # path was gone or done, and stays so. So the path is kept up to the first
    # edge the cancellation removed, and the search goes on from that node's
    # next neighbour, with the same result and without the walk. A node whose
    # neighbours are all exhausted reaches no cycle, and removing edges cannot
    # change that, so it is never entered again.
    cycles = _cancel_short(currency, graph)
    # Each node's creditors in key order, sorted once: a node is entered again
    # after a cancellation drops it from the path, and edges are only removed.
    order = {node: sorted(edges) for node, edges in graph.items()}
    none: list[bytes] = []
    done: set[bytes] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        owed: list[int] = []  # owed[i]: what path[i] owes path[i + 1], as in the graph
        on_path = {start: 0}
        pending = [iter(order[start])]
        while path:
            node = path[-1]
            edges = graph.get(node, {})
            for nxt in pending[-1]:
                if nxt not in edges or nxt in done:
                    continue
                if nxt in on_path:
                    keep = on_path[nxt]
                    owed.append(edges[nxt])
                    path.append(nxt)  # the closing edge's creditor, dropped below
                    cut = _cancel_path(currency, graph, path, owed, keep, cycles)
                    for gone in path[cut + 1 : -1]:
                        del on_path[gone]
                    del path[cut + 1 :]
                    del pending[cut + 1 :]
                    del owed[cut:]
                    break
                on_path[nxt] = len(path)
                path.append(nxt)
                owed.append(edges[nxt])
                pending.append(iter(order.get(nxt, none)))
                break
            else:
                done.add(path.pop())
                del on_path[node]
                pending.pop()
                if owed:
                    owed.pop()
    return cycles


def _cancel_path(
    currency: str,
    graph: dict[bytes, dict[bytes, int]],
    path: list[bytes],
    owed: list[int],
    keep: int,
    cycles: list[Cycle],
) -> int:
    """Cancel the cycle ``path[keep:]`` (its last node is ``path[keep]`` again, its
    amounts ``owed[keep:]``), as :func:`_cancel` would; return the first position
    whose edge it removed. Amounts on the path are updated with the graph's."""
    amount = min(owed[keep:])
    cut = -1
    for j in range(keep, len(owed)):
        debtor, creditor = path[j], path[j + 1]
        left = owed[j] - amount
        if left:
            graph[debtor][creditor] = owed[j] = left
        else:
            del graph[debtor][creditor]
            if cut < 0:
                cut = j
    members = path[keep:-1]
    first = members.index(min(members))  # present each cycle from its smallest key
    cycles.append(Cycle(currency, tuple(members[first:] + members[:first]), amount))
    return cut


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
