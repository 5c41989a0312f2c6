"""The trust-list view: invites, single use, revocation, expiry, reachability, the pool."""

from __future__ import annotations

from samoorg.crdt.framework.exclusion import FORKED_REASON
from samoorg.crdt.framework.reasons import ReasonCode
from samoorg.crdt.kinds.trust import ACCEPTED, CONFIRM, PENDING, REVOKED, TRUST_ACCEPT
from samoorg.protocol.entry import Entry
from samoorg.protocol.ids import peer_id
from samoorg.protocol.invite_code import sign_acceptance
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
        assert views.invalid()[second.id].text.startswith("invite already used by")
        assert views.invalid()[second.id].code is ReasonCode.INVITE_USED


def test_wrong_secret_expired_revoked_and_self() -> None:
    alice, bob, carol, dave = Author(1), Author(2), Author(3), Author(4)
    invite = alice.invite(S1, days=1)
    wrong = bob.accept(invite, S2)
    late = carol.accept(invite, S1, at=invite.timestamp + 2 * DAY)
    own = alice.accept(invite, S1)
    views = views_of(invite, wrong, late, own)
    invalid = views.invalid()
    assert "wrong secret" in invalid[wrong.id].text
    assert invalid[wrong.id].code is ReasonCode.BAD_PROOF
    assert invalid[late.id].text.startswith("invite expired")
    assert invalid[late.id].code is ReasonCode.INVITE_EXPIRED
    assert invalid[own.id].text == "cannot accept your own invite"
    assert invalid[own.id].code is ReasonCode.OWN_INVITE
    assert views.trust.outcome(invite.id).state == PENDING  # type: ignore[union-attr]
    revoke = alice.revoke(invite)
    after = dave.accept(invite, S1, at=revoke.timestamp + 1)
    views.index.add(revoke)
    views.index.add(after)
    assert views.trust.outcome(invite.id).state == REVOKED  # type: ignore[union-attr]
    assert views.invalid()[after.id].text.startswith("invite was revoked")
    assert views.invalid()[after.id].code is ReasonCode.INVITE_REVOKED
    assert views.trust.edges() == []


def confirm(inviter: Author, invite: Entry, invitee: Author) -> Entry:
    """A ``trust.confirm`` of ``invite`` naming ``invitee``."""
    return inviter.write(CONFIRM, {"invite": invite.id, "invitee": invitee.key})


def test_acceptance_names_the_inviter_and_confirmations_name_the_invitee() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    invite = alice.invite(S1)
    body = {"invite": invite.id, "inviter": bob.key, "amount": 100, "currency": "EUR"}
    liar = carol.write(TRUST_ACCEPT, {**body, "proof": sign_acceptance(S1, invite.id, carol.key)})
    accept = bob.accept(invite, S1)
    claims = [
        confirm(alice, invite, bob),
        confirm(alice, invite, carol),
        confirm(carol, invite, bob),
    ]
    views = views_of(invite, liar, accept, *claims)
    invalid = views.invalid()
    assert "as the inviter, but invite" in invalid[liar.id].text
    assert invalid[liar.id].code is ReasonCode.WRONG_INVITER
    assert invalid[claims[1].id].text.startswith("invite was accepted by")
    assert invalid[claims[1].id].code is ReasonCode.WRONG_INVITEE
    assert invalid[claims[2].id].text == "only the inviter can confirm an acceptance"
    assert invalid[claims[2].id].code is ReasonCode.NOT_INVITER_CONFIRM
    outcome = views.trust.outcome(invite.id)
    assert outcome is not None
    assert outcome.confirmed == (claims[0].id,)
    assert views.trust.claims(alice.key) == [] == views.trust.claims(bob.key)


def test_claims_point_at_the_feed_that_completes_an_edge() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    to_bob, to_carol = alice.invite(S1), bob.invite(S2)
    accept = bob.accept(to_bob, S1)  # held without Alice's invite: it claims Alice
    confirmed = confirm(bob, to_carol, carol)  # held without Carol's acceptance: claims Carol
    views = views_of(accept, to_carol, confirmed)
    assert views.trust.claims(bob.key) == [alice.key, carol.key]
    assert views.trust.edges() == []
    views.index.add(to_bob)
    views.index.add(carol.accept(to_carol, S2))
    assert views.trust.claims(bob.key) == []
    assert len(views.trust.edges()) == 2


def test_an_acceptance_of_a_forked_inviter_is_void_whether_or_not_the_invite_is_held() -> None:
    alice, bob = Author(1), Author(2)
    invite = alice.invite(S1)
    accept = bob.accept(invite, S1)
    for held in ([invite, accept], [accept]):
        views = views_of(*held)
        views.digests()
        views.index.add_forked(alice.key)
        reasons = views.invalid()
        assert reasons[accept.id].text.startswith(f"the inviter {peer_id(alice.key)} is flagged")
        assert reasons[accept.id].code is ReasonCode.FORKED_INVITER
        assert views.trust.edges() == []
        assert views.trust.claims(bob.key) == []
        assert reasons.get(invite.id, FORKED_REASON) == FORKED_REASON
