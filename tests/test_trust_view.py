"""The trust-list view: invites, single use, revocation, expiry, reachability, the pool."""

from __future__ import annotations

from samoorg.crdt.invites import ACCEPTED, PENDING, REVOKED
from tests.community_fixtures import DAY, Author, views_of

S1 = b"\x01" * 16
S2 = b"\x02" * 16


def test_two_members_pool() -> None:
    alice, bob = Author(1), Author(2)
    invite = alice.invite(S1)
    accept = bob.accept(invite, S1)
    views = views_of(invite, accept)
    trust = views.trust
    assert trust.neighbours(alice.key) == {bob.key}
    pool = trust.pool(alice.key)
    assert (pool.members, pool.totals) == (2, {"EUR": 20000})
    assert trust.outcome(invite.id).state == ACCEPTED  # type: ignore[union-attr]
    assert views.invalid() == {}


def test_friend_of_friend_chain_and_hops() -> None:
    a, b, c, d = Author(1), Author(2), Author(3), Author(4)
    entries = []
    for left, right, secret in ((a, b, S1), (b, c, S2), (c, d, b"\x03" * 16)):
        invite = left.invite(secret)
        entries += [invite, right.accept(invite, secret)]
    trust = views_of(*entries).trust
    reach = trust.reachable(a.key)
    assert reach[d.key].distance == 3
    assert reach[d.key].chain == (a.key, b.key, c.key, d.key)
    assert set(trust.reachable(a.key, hops=1)) == {a.key, b.key}
    assert trust.is_member(d.key, a.key)
    assert not trust.is_member(d.key, a.key, hops=2)


def test_guarantee_counted_once_latest_wins() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    i1 = alice.invite(S1, "100")
    i2 = alice.invite(S2, "150")
    entries = [i1, i2, bob.accept(i1, S1, "50"), carol.accept(i2, S2, "70")]
    pool = views_of(*entries).trust.pool(alice.key)
    assert pool.members == 3
    assert pool.totals == {"EUR": 15000 + 5000 + 7000}


def test_race_has_one_winner_whatever_the_order() -> None:
    alice, bob, mallory = Author(1), Author(2), Author(3)
    invite = alice.invite(S1)
    first = mallory.accept(invite, S1, at=invite.timestamp + 10)
    second = bob.accept(invite, S1, at=invite.timestamp + 20)
    for order in ((invite, first, second), (second, first, invite)):
        views = views_of(*order)
        assert views.trust.outcome(invite.id).invitee == mallory.key  # type: ignore[union-attr]
        assert views.invalid()[second.id].startswith("invite already used by")


def test_wrong_secret_expired_revoked_and_self() -> None:
    alice, bob, carol, dave = Author(1), Author(2), Author(3), Author(4)
    invite = alice.invite(S1, days=1)
    wrong = bob.accept(invite, S2)
    late = carol.accept(invite, S1, at=invite.timestamp + 2 * DAY)
    own = alice.accept(invite, S1)
    views = views_of(invite, wrong, late, own)
    invalid = views.invalid()
    assert "wrong secret" in invalid[wrong.id]
    assert invalid[late.id].startswith("invite expired")
    assert invalid[own.id] == "cannot accept your own invite"
    assert views.trust.outcome(invite.id).state == PENDING  # type: ignore[union-attr]
    revoke = alice.revoke(invite)
    after = dave.accept(invite, S1, at=revoke.timestamp + 1)
    views.index.add(revoke)
    views.index.add(after)
    assert views.trust.outcome(invite.id).state == REVOKED  # type: ignore[union-attr]
    assert views.invalid()[after.id].startswith("invite was revoked")
    assert views.trust.edges() == []
