"""Rules of the portal: only the author edits, reviews only after fulfilment, once per party."""

from __future__ import annotations

from samoorg.crdt.framework.reasons import ReasonCode
from samoorg.crdt.kinds.listings import DONE, EXPIRED
from samoorg.crdt.kinds.social import social_views
from tests.community_fixtures import T0, Author, views_of
from tests.portal_fixtures import deal, edit, post, review


def test_only_the_author_edits_and_the_last_edit_wins() -> None:
    alice, bob = Author(1), Author(2)
    lessons = post(alice)
    first = edit(alice, lessons, title="Guitar lessons, 4 hours", quantity=4)
    foreign = edit(bob, lessons, status=DONE)
    last = edit(alice, lessons, title="Guitar and ukulele lessons")
    for order in ([lessons, first, foreign, last], [last, foreign, first, lessons]):
        views = views_of(*order)
        listing = views.listings.get(lessons.id)
        assert listing is not None
        assert listing.fields.title == "Guitar and ukulele lessons"
        assert listing.version == last.id
        assert listing.edits == 2
        assert views.invalid()[foreign.id].code is ReasonCode.NOT_LISTING_AUTHOR


def test_an_expired_listing_is_shown_expired_until_its_author_reopens_it() -> None:
    alice = Author(1)
    short = post(alice, expires=T0 + 10_000)
    views = views_of(short)
    listing = views.listings.get(short.id)
    assert listing is not None
    assert listing.effective_status(T0 + 10_000) == EXPIRED
    longer = edit(alice, short, expires=T0 + 20_000)
    listing = views_of(short, longer).listings.get(short.id)
    assert listing is not None
    assert listing.is_active(T0 + 10_000)


def test_reviews_only_by_the_parties_of_a_fulfilled_commitment_once_each() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    lessons = post(alice)
    pledge = bob.write(
        "pledge.intend", {"to": alice.key, "amount": 6000, "currency": "EUR", "listing": lessons.id}
    )
    commit = bob.commit(pledge)
    early = review(bob, pledge, commit, 5)
    views = views_of(lessons, pledge, commit, early)
    assert views.invalid()[early.id].code is ReasonCode.REVIEW_NOT_FULFILLED
    fulfil = alice.close(pledge, commit)
    by_bob = review(bob, pledge, commit, 4)  # bob's first review is the early one
    by_alice = review(alice, pledge, commit, 5, "on time")
    again = review(alice, pledge, commit, 1)
    stranger = review(carol, pledge, commit, 1)
    views = views_of(lessons, pledge, commit, early, fulfil, by_bob, by_alice, again, stranger)
    invalid = views.invalid()
    counted = {r.id: r for r in views.reviews.reviews()}
    assert set(counted) == {early.id, by_alice.id}
    assert invalid[by_bob.id].code is ReasonCode.REVIEW_AGAIN
    assert invalid[again.id].code is ReasonCode.REVIEW_AGAIN
    assert invalid[stranger.id].code is ReasonCode.REVIEW_NOT_PARTY
    assert counted[by_alice.id].subject == bob.key
    assert counted[early.id].subject == alice.key


def test_reviews_feed_utility_as_a_mean_of_rating_minus_one() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    lessons = post(alice)
    entries = [lessons]
    for rating in (5, 2):  # two deals: (4 + 1) // 2 = 2
        pledge, commit, fulfil = deal(bob, alice, lessons)
        entries += [pledge, commit, fulfil, review(bob, pledge, commit, rating)]
    views = views_of(*entries)
    members = [alice.key, bob.key, carol.key]
    social = social_views(views, alice.key, members=members)
    assert social.utility.utility[alice.key] > 0
    assert social.utility.utility[carol.key] == 0
    assert social.raters() == {alice.key: 1}
