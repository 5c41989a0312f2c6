"""Organizations (docs/protocol.md §8.14): who may do what, mutual membership, admins, listings."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.listings import (
    LISTING,
    LISTING_EDIT,
    ListingFields,
    edit_body,
    listing_body,
)
from samoorg.crdt.kinds.orgs import (
    ORG_EDIT,
    ORG_JOIN,
    ORG_REMOVE,
    org_edit_body,
    org_fields,
    org_member_body,
    org_self_body,
)
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author
from tests.kind_kit import any_order, assert_same_views, incremental, rebuild
from tests.org_fixtures import Org


def code(views: Views, entry: Entry) -> str | None:
    reason = views.invalid().get(entry.id)
    return None if reason is None else reason.code.value


def test_the_creator_is_the_first_member_and_admin() -> None:
    ana = Author(1)
    org = Org(ana)
    held = org.views().orgs.get(org.new.id)
    assert held is not None
    assert (held.admins, held.members) == ({ana.key}, {ana.key})
    assert (held.fields.name, held.fields.description) == ("Bakers", "We bake.")


def test_only_admins_invite_and_membership_needs_both_records() -> None:
    ana, ben, cleo = Author(1), Author(2), Author(3)
    org = Org(ana)
    by_stranger = org.invite(ben, cleo)
    views = org.views()
    assert code(views, by_stranger) == "org-not-admin"
    cleo_joins = org.join(cleo)  # asks first: not a member until an admin invites
    held = org.views().orgs.get(org.new.id)
    assert held is not None
    assert cleo.key not in held.members
    assert held.asking == {cleo.key}
    org.invite(ana, ben)
    held = org.views().orgs.get(org.new.id)
    assert held is not None
    assert ben.key not in held.members
    assert held.invited == {ben.key}
    org.join(ben)
    org.invite(ana, cleo)
    views = org.views()
    held = views.orgs.get(org.new.id)
    assert held is not None
    assert held.members == {ana.key, ben.key, cleo.key}
    assert code(views, cleo_joins) is None


def test_leave_and_remove_end_membership_and_a_new_invite_is_needed() -> None:
    ana, ben, cleo = Author(1), Author(2), Author(3)
    org = Org(ana)
    for member in (ben, cleo):
        org.invite(ana, member)
        org.join(member)
    org.leave(ben)
    org.remove(ana, cleo)
    views = org.views()
    held = views.orgs.get(org.new.id)
    assert held is not None
    assert held.members == {ana.key}
    again = org.join(ben)  # the old invite was ended with the membership
    held = org.views().orgs.get(org.new.id)
    assert held is not None
    assert ben.key not in held.members
    assert code(org.views(), again) is None
    org.invite(ana, ben)
    held = org.views().orgs.get(org.new.id)
    assert held is not None
    assert ben.key in held.members
    stranger_leaves = org.leave(Author(4))
    assert code(org.views(), stranger_leaves) == "org-not-member"


def test_the_last_admin_cannot_be_removed_nor_leave_nor_step_down() -> None:
    ana, ben = Author(1), Author(2)
    org = Org(ana)
    org.invite(ana, ben)
    org.join(ben)
    leaves = org.leave(ana)
    steps_down = org.admin(ana, ana, grant=False)
    views = org.views()
    assert (code(views, leaves), code(views, steps_down)) == ("org-last-admin", "org-last-admin")
    made = org.admin(ana, ben)
    removes_ana = org.remove(ben, ana)  # ben is an admin now: ana may go
    removes_ben = org.remove(ben, ben)  # but ben is the last one
    views = org.views()
    assert [code(views, e) for e in (made, removes_ana, removes_ben)] == [
        None,
        None,
        "org-last-admin",
    ]
    held = views.orgs.get(org.new.id)
    assert held is not None
    assert (held.admins, held.members) == ({ben.key}, {ben.key})


def test_admins_are_changed_by_admins_only_and_only_members_become_admins() -> None:
    ana, ben, cleo = Author(1), Author(2), Author(3)
    org = Org(ana)
    org.invite(ana, ben)
    not_member = org.admin(ana, ben)  # invited, not joined
    org.join(ben)
    by_member = org.admin(ben, ben)
    twice = org.invite(ana, ben)
    made = org.admin(ana, ben)
    again = org.admin(ana, ben)
    by_stranger = org.admin(cleo, ana, grant=False)
    views = org.views()
    assert [code(views, e) for e in (not_member, by_member, twice, made, again, by_stranger)] == [
        "org-not-member",
        "org-not-admin",
        "org-no-change",
        None,
        "org-no-change",
        "org-not-admin",
    ]


def test_concurrent_admin_changes_are_judged_in_timestamp_then_id_order() -> None:
    # ana and ben are the two admins; each removes the other "at once". The
    # earlier by (timestamp, id) counts; the later author is no member then.
    ana, ben = Author(1), Author(2)
    org = Org(ana)
    org.invite(ana, ben)
    org.join(ben)
    org.admin(ana, ben)
    at = org.clock + 1000
    first = ana.write(ORG_REMOVE, org_member_body(org.new.id, ben.key), at=at)
    second = ben.write(ORG_REMOVE, org_member_body(org.new.id, ana.key), at=at)
    winner, loser = sorted((first, second), key=lambda e: e.id)
    for order in ([first, second], [second, first]):
        views = Views(EntryIndex([*org.entries, *order]))
        held = views.orgs.get(org.new.id)
        assert held is not None
        assert held.admins == {winner.author}
        assert (code(views, winner), code(views, loser)) == (None, "org-not-admin")


def test_edits_by_admins_win_last_by_timestamp_and_others_are_void() -> None:
    ana, ben = Author(1), Author(2)
    org = Org(ana)
    by_stranger = org.edit(ben, "Hijacked")
    org.invite(ana, ben)
    org.join(ben)
    org.admin(ana, ben)
    late = org.edit(ben, "Bakers United")
    early = ana.write(ORG_EDIT, org_edit_body(org.new.id, org_fields("Old")), at=late.timestamp - 1)
    views = org.views(early)
    held = views.orgs.get(org.new.id)
    assert held is not None
    assert (held.fields.name, held.version) == ("Bakers United", late.id)
    assert code(views, by_stranger) == "org-not-admin"


def test_entries_before_the_creation_and_of_no_org() -> None:
    ana, ben = Author(1), Author(2)
    org = Org(ana)
    early = ben.write(ORG_JOIN, org_self_body(org.new.id), at=org.new.timestamp - 1)
    not_org = ben.write(ORG_JOIN, org_self_body(early.id))
    waits = ben.write(ORG_JOIN, org_self_body(bytes(32)))
    views = org.views(early, not_org, waits)
    assert (code(views, early), code(views, not_org)) == ("org-before-new", "not-an-org")
    assert views.orgs.waiting() == [waits.id]


def _listing(author: Author, org: bytes | None, at: int, title: str = "Bread") -> Entry:
    fields = ListingFields("offer", title, ("food",), org=org)
    return author.write(LISTING, listing_body(fields), at=at)


def test_a_listing_counts_for_the_org_only_while_its_author_is_a_member() -> None:
    ana, ben, cleo = Author(1), Author(2), Author(3)
    org = Org(ana)
    by_stranger = _listing(cleo, org.new.id, org.clock + 500)
    org.invite(ana, ben)
    org.join(ben)
    by_member = _listing(ben, org.new.id, org.clock + 500)
    org.clock += 1000
    by_ana = _listing(ana, org.new.id, org.clock)
    org.leave(ben)
    after_leaving = ben.write(
        LISTING_EDIT,
        edit_body(by_member.id, ListingFields("offer", "Rolls", ("food",), org=org.new.id)),
    )
    views = org.views(by_stranger, by_member, by_ana)
    assert [item.id for item in views.orgs.listings_of(org.new.id)] == [by_ana.id, by_member.id]
    stranger = views.listings.get(by_stranger.id)
    assert stranger is not None  # a valid listing, shown without the org
    assert views.orgs.org_of(stranger) is None
    views = org.views(by_stranger, by_member, by_ana, after_leaving)
    assert [item.id for item in views.orgs.listings_of(org.new.id)] == [by_ana.id]


def _random_history(rng: random.Random) -> list[Entry]:
    authors = [Author(n) for n in range(1, 5)]
    org = Org(authors[0])
    for _ in range(30):
        author, other = rng.choice(authors), rng.choice(authors)
        verb = rng.choice(["invite", "join", "leave", "remove", "admin", "unadmin", "edit"])
        if verb == "invite":
            org.invite(author, other)
        elif verb == "join":
            org.join(author)
        elif verb == "leave":
            org.leave(author)
        elif verb == "remove":
            org.remove(author, other)
        elif verb == "admin":
            org.admin(author, other)
        elif verb == "unadmin":
            org.admin(author, other, grant=False)
        else:
            org.edit(author, f"Name {rng.randrange(9)}")
        if rng.random() < 0.3:  # another author signs at the same millisecond
            org.clock -= 1000
    return org.entries


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 2**32))
def test_any_delivery_order_gives_the_same_orgs_and_always_an_admin(seed: int, order: int) -> None:
    entries = _random_history(random.Random(seed))
    expected = rebuild(entries)
    shuffled = any_order(random.Random(order), entries, duplicates=3)
    assert_same_views(incremental(shuffled, {3, 17}), expected, only="orgs")
    for held in expected.orgs.orgs():
        assert held.admins
        assert held.admins <= held.members
