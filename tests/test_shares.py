"""Profit sharing: shares sum exactly and follow utility (largest remainder)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.algorithms.shares import distribute, largest_remainder
from samoorg.crdt.framework.errors import RuleViolation

keys = st.binary(min_size=32, max_size=32)


@settings(deadline=None)  # shared CI machines stall; examples are small
@given(
    total=st.integers(0, 10**15),
    weights=st.dictionaries(keys, st.integers(0, 10**15), min_size=1, max_size=40).filter(
        lambda w: sum(w.values()) > 0
    ),
)
def test_sum_is_exact_and_each_share_is_floor_or_ceil(
    total: int, weights: dict[bytes, int]
) -> None:
    shares = largest_remainder(total, weights)
    assert sum(shares.values()) == total
    whole = sum(weights.values())
    for key, weight in weights.items():
        low = total * weight // whole
        assert shares[key] in (low, low + 1)
        if weight == 0:
            assert shares[key] == 0
    assert largest_remainder(total, dict(reversed(list(weights.items())))) == shares


def test_tie_break_is_deterministic() -> None:
    a, b, c = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    # 100 cents over three equal weights: 33 each and one left, to the smallest key.
    assert largest_remainder(100, {c: 1, b: 1, a: 1}) == {a: 34, b: 33, c: 33}
    # Equal remainders: the larger utility wins first.
    assert largest_remainder(1, {a: 1, b: 3}) == {a: 0, b: 1}


def test_distribute_amount_and_refusals() -> None:
    a, b = b"\x01" * 32, b"\x02" * 32
    split = distribute(Amount.parse("100", "EUR"), {a: 2, b: 1})
    assert split == {a: Amount("EUR", 6667), b: Amount("EUR", 3333)}
    with pytest.raises(RuleViolation, match="no member of the trust list has any utility"):
        distribute(Amount.parse("10", "EUR"), {a: 0})
    with pytest.raises(RuleViolation, match="positive"):
        distribute(Amount("EUR", 0), {a: 1})
