"""Views per identity (``docs/protocol.md`` §8.11.1): the records of several devices of one
person count as one participant's, in every view.

The convergence of every family with identities of 1..3 devices is the contract test's
(``tests/test_kind_contract.py`` over :func:`tests.kind_kit.identity_links`); these are the
rules, one by one.
"""

from __future__ import annotations

import pytest

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import DEVICE_REVOKE, revoke_body
from samoorg.crdt.kinds.pledges import COMMITTED, FULFILLED
from samoorg.crdt.kinds.profiles import PROFILE_KIND, profile_body
from samoorg.crdt.kinds.social import rating_weights
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author, join, views_of
from tests.kind_kit import assert_same_views, rebuild
from tests.social_fixtures import open_poll, rate_member, trusted_star, vote_on

SECRET = b"\x09" * 16


def test_a_commitment_from_the_laptop_is_fulfilled_by_the_beneficiarys_phone() -> None:
    ana_laptop, ana_phone, ben_laptop, ben_phone = Author(1), Author(2), Author(3), Author(4)
    links = [*join(ana_laptop, ana_phone, SECRET), *join(ben_laptop, ben_phone, b"\x08" * 16)]
    # Ana pledges from her phone to Ben's phone key; the pledger and beneficiary are identities.
    pledge = ana_phone.intend("40", to=ben_phone.key)
    commit = ana_laptop.commit(pledge)  # another device of the pledger commits it
    views = views_of(*links, pledge, commit)
    outcome = views.pledges.pledge(pledge.id)
    assert outcome is not None
    assert (outcome.state, outcome.author, outcome.beneficiary) == (
        COMMITTED,
        ana_laptop.key,
        ben_laptop.key,
    )
    assert views.pledges.debts() == {("EUR", ana_laptop.key, ben_laptop.key): 4000}
    fulfil = ben_phone.close(pledge, commit)
    views = views_of(*links, pledge, commit, fulfil)
    outcome = views.pledges.pledge(pledge.id)
    assert outcome is not None
    assert outcome.state == FULFILLED
    assert views.pledges.debts() == {}
    assert views.invalid() == {}


def test_a_pledge_to_ones_own_other_device_is_a_pledge_to_oneself() -> None:
    laptop, phone = Author(1), Author(2)
    links = join(laptop, phone, SECRET)
    pledge = phone.intend("5", to=laptop.key)
    views = views_of(*links, pledge)
    assert views.invalid()[pledge.id].code.value == "self-pledge"


def test_two_devices_rating_the_same_member_count_once() -> None:
    laptop, phone, cleo = Author(1), Author(2), Author(3)
    links = join(laptop, phone, SECRET)
    first = rate_member(laptop, cleo, 2)
    phone.clock = laptop.clock + 5_000  # the phone's rating is the later one
    entries = [*links, first, rate_member(phone, cleo, 5)]
    views = views_of(*entries)
    members = views.ratings.view().members
    assert list(members) == [(laptop.key, cleo.key)]
    assert members[laptop.key, cleo.key].score == 5
    assert rating_weights(views.ratings.view()) == {(laptop.key, cleo.key): 5}
    assert views.invalid() == {}  # the laptop's rating is superseded, not void


def test_rating_ones_other_device_is_rating_oneself() -> None:
    laptop, phone = Author(1), Author(2)
    links = join(laptop, phone, SECRET)
    rating = rate_member(phone, laptop, 5)
    views = views_of(*links, rating)
    assert views.invalid()[rating.id].code.value == "self-rating"


def test_two_devices_voting_count_once() -> None:
    laptop, phone, cleo = Author(1), Author(2), Author(3)
    poll = open_poll(cleo, "bread or soup?", ["bread", "soup"])
    entries = [*join(laptop, phone, SECRET), poll, *trusted_star(cleo, [laptop])]
    entries += [
        vote_on(laptop, poll, 0, at=cleo.clock + 1000),
        vote_on(phone, poll, 1, at=cleo.clock + 2000),
    ]
    views = views_of(*entries)
    social = views.social(cleo.key)
    assert social.members == {cleo.key, laptop.key}
    assert list(social.tally(poll.id).counts) == [0, 1]  # one vote, the later one


def test_a_two_device_identity_is_one_member_with_one_guarantee() -> None:
    laptop, phone, cleo, dan = Author(1), Author(2), Author(3), Author(4)
    # Cleo invites the laptop; the phone invites Dan: one chain through one person.
    entries = [*join(laptop, phone, SECRET), *trusted_star(cleo, [laptop])]
    entries += trusted_star(phone, [dan])
    views = views_of(*entries)
    trust = views.trust
    assert trust.members(cleo.key) == {cleo.key, laptop.key, dan.key}
    assert trust.members(phone.key) == trust.members(laptop.key)  # a device stands for its identity
    assert trust.pool(cleo.key).members == 3
    assert trust.pool(cleo.key).totals == {"EUR": 30000}


def test_profiles_last_write_wins_across_devices_by_timestamp() -> None:
    laptop, phone = Author(1), Author(2)
    links = join(laptop, phone, SECRET)
    later = laptop.write(PROFILE_KIND, profile_body("Ana"), at=phone.clock + 60_000)
    earlier = phone.write(PROFILE_KIND, profile_body("Ana (old)"), at=phone.clock + 1000)
    views = views_of(*links, later, earlier)
    profile = views.profiles.profile(phone.key)
    assert profile is not None
    assert profile.name == "Ana"
    assert views.profiles.display_names() == {laptop.key: "Ana"}


def test_a_device_link_arriving_last_refolds_every_view() -> None:
    laptop, phone, cleo = Author(1), Author(2), Author(3)
    links = join(laptop, phone, SECRET)
    rest: list[Entry] = [*trusted_star(cleo, [phone]), rate_member(laptop, cleo, 3)]
    rest.append(rate_member(phone, cleo, 4))
    index = EntryIndex(rest)
    views = Views(index)
    before = views.digests()
    assert views.trust.members(cleo.key) == {cleo.key, phone.key}
    for entry in links:
        index.add(entry)
    assert views.digests() != before
    assert views.trust.members(cleo.key) == {cleo.key, laptop.key}
    assert_same_views(views, rebuild([*links, *rest]))


def test_a_revocation_that_voids_a_link_splits_the_identity_again() -> None:
    laptop, phone, tablet, cleo = Author(1), Author(2), Author(3), Author(4)
    links = [*join(laptop, phone, SECRET), *join(phone, tablet, b"\x07" * 16)]
    ratings = [rate_member(laptop, cleo, 2), rate_member(tablet, cleo, 4)]
    index = EntryIndex([*links, *ratings])
    views = Views(index)
    assert views.identity(tablet.key) == laptop.key
    assert list(views.ratings.view().members) == [(laptop.key, cleo.key)]
    # The phone added the tablet at its seq 2; revoked from seq 2, that link is void.
    revoke = laptop.write(DEVICE_REVOKE, revoke_body(phone.key, 2))
    index.add(revoke)
    assert views.identity(tablet.key) == tablet.key
    assert set(views.ratings.view().members) == {(laptop.key, cleo.key), (tablet.key, cleo.key)}
    assert_same_views(views, rebuild([*links, *ratings, revoke]))


def test_a_trust_view_refolded_by_a_device_link_verifies_no_proof_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from samoorg.crdt.kinds import trust

    checked: list[bytes] = []

    def counted(key: bytes, invite_id: bytes, invitee: bytes, proof: bytes) -> None:
        checked.append(invitee)
        real(key, invite_id, invitee, proof)

    real = trust.verify_acceptance
    monkeypatch.setattr(trust, "verify_acceptance", counted)
    trust._proof_verifies.cache_clear()  # other tests made the same deterministic entries
    laptop, phone, cleo = Author(1), Author(2), Author(3)
    links = join(laptop, phone, SECRET)
    rest = trusted_star(cleo, [phone, Author(4), Author(5)])
    index = EntryIndex(rest)
    views = Views(index)
    assert views.trust.members(cleo.key) == {cleo.key, phone.key, Author(4).key, Author(5).key}
    assert sorted(checked) == sorted([phone.key, Author(4).key, Author(5).key])
    before = views.trust
    for entry in links:  # phone joins laptop's identity: the trust view is rebuilt
        index.add(entry)
    assert views.trust is not before
    assert laptop.key in views.trust.members(cleo.key)
    assert len(checked) == 3  # the proofs' results were remembered
    assert_same_views(views, rebuild([*links, *rest]))
