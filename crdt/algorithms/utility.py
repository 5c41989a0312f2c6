"""Utility: a member's standing in the community, computed from ratings.

Theory of operation (``docs/utility.md`` is the full description). This is
personalised PageRank / EigenTrust with the trust list as the pre-trusted
set, in exact integer fixed-point arithmetic:

* The graph has one node per trust-list member. A rating ``i -> j`` with
  weight ``w > 0`` is an edge; ratings from or to anyone outside the trust
  list are dropped, so accounts outside the list neither gain nor give
  standing however they rate each other.
* Standing ``t`` is a vector of integers summing to exactly ``SCALE``. It
  starts spread evenly over the members and is iterated:

      unit_i = floor(floor(t_i * D_NUM / D_DEN) / W_i)    (W_i: i's total out-weight)
      recv_j = sum_i unit_i * w_ij                          (the ratings' flow)
      t'_j   = recv_j + spread(SCALE - sum_j recv_j)_j

  ``spread`` shares the rest (the teleport part ``1 - d``, the standing of
  members who rate no one, and the rounding remainders) evenly over the
  members: ``floor(rest / n)`` each, and one more unit to the first
  ``rest mod n`` members in ascending key order.
* It stops when the L1 change of ``t`` is at most ``tolerance`` units, or
  after ``max_iterations``. Every step is integer arithmetic on values
  below 2**63, and integer sums do not depend on summation order, so every
  node holding the same entries and the same trust list gets the same
  vector, bit for bit, and stops at the same iteration.
* A member's **utility** is ``recv_j`` of the last iteration: the standing
  that flows to them through other members' ratings, each rater weighted by
  their own standing. A member nobody rates has utility 0 (but still a
  small standing, so their own ratings count).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from operator import mul
from typing import Final

SCALE: Final = 10**15
"""Total standing, in fixed-point units."""


@dataclass(frozen=True, slots=True)
class UtilityParams:
    """The algorithm's parameters; every node must use the same ones."""

    damping_num: int = 4
    damping_den: int = 5
    """Damping ``d = 4/5``: the share of standing that follows ratings (EigenTrust's 1 - a)."""
    scale: int = SCALE
    tolerance: int = SCALE // 10**7
    """Stop when the L1 change of the standing vector is at most this many units."""
    max_iterations: int = 100


DEFAULT_PARAMS: Final = UtilityParams()


@dataclass(frozen=True)
class UtilityResult:
    """Standing and utility of every member, in fixed-point units of ``params.scale``."""

    members: tuple[bytes, ...]
    """The trust list, sorted by key."""
    standing: dict[bytes, int]
    """Sums to exactly ``params.scale``."""
    utility: dict[bytes, int]
    iterations: int
    converged: bool
    last_change: int
    edges: int
    """Rating edges inside the trust list that took part."""
    params: UtilityParams = field(default=DEFAULT_PARAMS)

    @property
    def total_utility(self) -> int:
        """Sum of every member's utility (the basis of proportional shares)."""
        return sum(self.utility.values())


def spread(total: int, count: int) -> list[int]:
    """``total`` units over ``count`` slots: equal floors, the remainder to the first slots."""
    base, extra = divmod(total, count)
    return [base + 1] * extra + [base] * (count - extra)


def compute_utility(
    members: Collection[bytes],
    weights: Mapping[tuple[bytes, bytes], int],
    params: UtilityParams = DEFAULT_PARAMS,
) -> UtilityResult:
    """Run the iteration for ``members`` (the trust list) over rating ``weights``.

    ``weights[(rater, ratee)]`` is a non-negative integer; pairs with a rater
    or ratee outside ``members``, self-pairs and zero weights are ignored.
    """
    order = tuple(sorted(set(members)))
    n = len(order)
    if n == 0:
        return UtilityResult((), {}, {}, 0, True, 0, 0, params)
    position = {key: i for i, key in enumerate(order)}
    sources: list[list[int]] = [[] for _ in range(n)]
    amounts: list[list[int]] = [[] for _ in range(n)]
    out_weight = [0] * n
    edges = 0
    # No sorting needed: each target's sum below is an integer sum, the same
    # in any order.
    for (rater, ratee), weight in weights.items():
        i, j = position.get(rater), position.get(ratee)
        if i is None or j is None or i == j or weight <= 0:
            continue
        sources[j].append(i)
        amounts[j].append(weight)
        out_weight[i] += weight
        edges += 1
    targets = [j for j in range(n) if sources[j]]
    num, den, scale = params.damping_num, params.damping_den, params.scale
    standing = spread(scale, n)
    received = [0] * n
    iterations, change = 0, 0
    converged = False
    while iterations < params.max_iterations:
        iterations += 1
        unit = [
            (t * num // den) // w if w else 0 for t, w in zip(standing, out_weight, strict=True)
        ]
        take = unit.__getitem__
        received = [0] * n
        for j in targets:
            received[j] = sum(map(mul, map(take, sources[j]), amounts[j]))
        rest = spread(scale - sum(received), n)
        new = [r + s for r, s in zip(received, rest, strict=True)]
        change = sum(abs(a - b) for a, b in zip(new, standing, strict=True))
        standing = new
        if change <= params.tolerance:
            converged = True
            break
    return UtilityResult(
        members=order,
        standing=dict(zip(order, standing, strict=True)),
        utility=dict(zip(order, received, strict=True)),
        iterations=iterations,
        converged=converged,
        last_change=change,
        edges=edges,
        params=params,
    )
