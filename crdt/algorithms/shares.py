"""Profit sharing: split an amount in proportion to utility, exactly.

Largest remainder (Hamilton) method in integer minor units. Member ``j``
first gets ``floor(total * u_j / U)`` where ``U`` is the sum of utilities.
The units left over (fewer than the number of members) go one each to the
members with the largest remainders ``total * u_j mod U``; ties go to the
larger utility, then to the smaller key. The shares always add up to the
amount exactly, and every node computes the same split.
"""

from __future__ import annotations

from collections.abc import Mapping

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.errors import RuleViolation


def largest_remainder(total: int, weights: Mapping[bytes, int]) -> dict[bytes, int]:
    """Split ``total`` units over the keys of ``weights`` in proportion to the weights."""
    if total < 0:
        raise RuleViolation(f"expected a non-negative amount to split, found {total}")
    if any(w < 0 for w in weights.values()):
        raise RuleViolation("expected non-negative weights for a proportional split")
    whole = sum(weights.values())
    if whole == 0:
        raise RuleViolation(
            "nothing to distribute by: no member of the trust list has any utility yet "
            "(members get utility when other members rate them)"
        )
    shares: dict[bytes, int] = {}
    remainders: list[tuple[int, int, bytes]] = []
    for key, weight in weights.items():
        share, remainder = divmod(total * weight, whole)
        shares[key] = share
        remainders.append((-remainder, -weight, key))
    remainders.sort()
    for _, _, key in remainders[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def distribute(amount: Amount, utility: Mapping[bytes, int]) -> dict[bytes, Amount]:
    """Each member's share of ``amount`` in proportion to ``utility`` (sums exactly)."""
    amount.check_positive()
    split = largest_remainder(amount.minor, utility)
    return {key: Amount(amount.currency, units) for key, units in split.items()}
