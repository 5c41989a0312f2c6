"""``distribute --org``: an org's profit among its members by utility, exact to the minor unit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.node.api.org_shapes import org_distribute_json
from samoorg.node.api.shapes import distribute_json
from samoorg.protocol.entry import Entry
from samoorg.protocol.ids import peer_id
from tests.community_fixtures import Author
from tests.org_fixtures import Org
from tests.social_fixtures import rate_member, trusted_star

CENTER = Author(1).key
PEOPLE = 7
"""The center, five others on its trust list, and one outsider (no utility)."""


def _history(ratings: list[tuple[int, int, int]], members: list[int]) -> tuple[Org, list[Entry]]:
    people = [Author(n) for n in (1, 2, 3, 4, 5, 6, 9)]
    entries = trusted_star(people[0], people[1:-1])
    for rater, rated, score in ratings:
        if rater != rated:
            entries.append(rate_member(people[rater], people[rated], score))
    admin = people[members[0]]
    org = Org(admin, "Co-op")
    for number in members[1:]:
        org.invite(admin, people[number])
        org.join(people[number])
    return org, [*entries, *org.entries]


def _minor(share: str) -> int:
    return int(share.replace(".", ""))


people_numbers = st.integers(0, PEOPLE - 1)


@settings(max_examples=40, deadline=None)
@given(
    ratings=st.lists(st.tuples(people_numbers, people_numbers, st.integers(1, 5)), max_size=12),
    members=st.lists(people_numbers, min_size=1, max_size=6, unique=True),
    total=st.integers(1, 10**12),
)
def test_shares_sum_to_the_amount_and_only_members_share(
    ratings: list[tuple[int, int, int]], members: list[int], total: int
) -> None:
    org, entries = _history(ratings, members)
    views = Views(EntryIndex(entries))
    social = views.social(CENTER)
    held = views.orgs.get(org.new.id)
    assert held is not None
    amount = Amount("EUR", total)
    utility = social.utility.utility
    if sum(utility.get(k, 0) for k in held.members) == 0:
        with pytest.raises(RuleViolation, match="no member of the org has any utility"):
            org_distribute_json(views, social, org.new.id.hex(), amount)
        return
    shown = org_distribute_json(views, social, "Co-op", amount)
    assert shown["org"] == org.new.id.hex()
    shares = {row["id"]: _minor(row["share"]) for row in shown["shares"]}
    assert set(shares) == {peer_id(k) for k in held.members}
    assert sum(shares.values()) == total
    whole = sum(utility.get(k, 0) for k in held.members)
    for key in held.members:
        low = total * utility.get(key, 0) // whole
        assert shares[peer_id(key)] in (low, low + 1)


def test_an_outsider_member_gets_nothing_and_the_rest_is_exact() -> None:
    _, entries = _history([(1, 2, 5), (2, 1, 3), (3, 1, 4)], [1, 2, 6])
    views = Views(EntryIndex(entries))
    shown = org_distribute_json(views, views.social(CENTER), "co-op", Amount("EUR", 100_001))
    shares = {row["id"]: _minor(row["share"]) for row in shown["shares"]}
    assert sum(shares.values()) == 100_001
    assert shares[peer_id(Author(9).key)] == 0
    assert all(shares[peer_id(Author(n).key)] > 0 for n in (2, 3))


def test_without_an_org_distribute_is_unchanged() -> None:
    people = [Author(n) for n in (1, 2, 3)]
    entries = [
        *trusted_star(people[0], people[1:]),
        rate_member(people[1], people[2], 5),
        rate_member(people[2], people[1], 3),
    ]
    social = Views(EntryIndex(entries)).social(CENTER)
    everyone = distribute_json(social, Amount("EUR", 10_001))
    assert sum(_minor(row["share"]) for row in everyone["shares"]) == 10_001
    assert {row["id"] for row in everyone["shares"]} == {peer_id(k) for k in social.utility.members}
