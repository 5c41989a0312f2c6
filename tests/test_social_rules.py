"""Rules of the forum, ratings and polls: what counts, what is ignored and why."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.exclusion import FORKED_REASON
from samoorg.crdt.framework.reasons import ReasonCode
from samoorg.crdt.kinds import forum, polls, ratings
from tests.community_fixtures import DAY, Author, views_of
from tests.social_fixtures import (
    comment_on,
    open_poll,
    post_idea,
    rate_idea,
    rate_member,
    trusted_star,
    vote_on,
)


def test_latest_rating_by_seq_wins_and_bad_scores_are_ignored() -> None:
    alice, bob = Author(1), Author(2)
    first = rate_member(alice, bob, 2)
    second = rate_member(alice, bob, 4)
    off_scale = rate_member(alice, bob, 9)
    views = views_of(off_scale, second, first)
    counted = views.ratings.view().members[alice.key, bob.key]
    assert (counted.score, counted.entry_id) == (4, second.id)
    assert "0..5" in views.invalid()[off_scale.id].text
    assert views.invalid()[off_scale.id].code is ReasonCode.MALFORMED
    assert first.id not in views.invalid()  # superseded, not invalid


def test_self_ratings_and_own_idea_are_invalid() -> None:
    alice, bob = Author(1), Author(2)
    idea = post_idea(alice, "Portal")
    own = rate_idea(alice, idea, 5)
    me = rate_member(alice, alice, 5)
    fine = rate_idea(bob, idea, 3)
    views = views_of(idea, own, me, fine)
    invalid = views.invalid()
    assert invalid[own.id].text == "a member cannot rate their own idea"
    assert invalid[own.id].code is ReasonCode.OWN_IDEA_RATING
    assert "cannot rate themselves" in invalid[me.id].text
    assert invalid[me.id].code is ReasonCode.SELF_RATING
    assert views.ratings.view().ideas[bob.key, idea.id].score == 3


def test_idea_rating_and_comment_wait_for_the_idea() -> None:
    alice, bob = Author(1), Author(2)
    idea = post_idea(alice, "Portal", "A catalogue of goods")
    rating = rate_idea(bob, idea, 5)
    note = comment_on(bob, idea, "yes")
    views = views_of(rating, note)
    assert [r.entry_id for r in views.ratings.view().pending] == [rating.id]
    assert [c.id for c in views.forum.view().pending] == [note.id]
    assert views.invalid() == {}
    views.index.add(idea)
    assert views.ratings.view().ideas[bob.key, idea.id].entry_id == rating.id
    assert [c.text for c in views.forum.view().comments[idea.id]] == ["yes"]


def test_rating_or_comment_on_a_non_idea_is_invalid() -> None:
    alice, bob = Author(1), Author(2)
    poll = open_poll(alice, "Who?", ["a", "b"])
    rating = rate_idea(bob, poll, 5)
    note = comment_on(bob, poll, "?")
    invalid = views_of(poll, rating, note).invalid()
    assert invalid[rating.id].text == "the rated entry is not a valid idea"
    assert invalid[rating.id].code is ReasonCode.NOT_AN_IDEA
    assert invalid[note.id].text == "the entry commented on is not a valid idea"
    assert invalid[note.id].code is ReasonCode.NOT_AN_IDEA


def test_poll_one_vote_per_member_latest_counts_closing_respected() -> None:
    alice, bob, carol, outsider = Author(1), Author(2), Author(3), Author(9)
    trust = trusted_star(alice, [bob, carol])
    poll = open_poll(alice, "Spokesperson?", ["bob", "carol"], closes=alice.clock + DAY)
    votes = [
        vote_on(bob, poll, 0),
        vote_on(bob, poll, 1),  # bob changes his mind: the latest counts
        vote_on(carol, poll, 1),
        vote_on(carol, poll, 0, at=poll.timestamp + 2 * DAY),  # after closing: ignored
        vote_on(alice, poll, 7),  # unknown option: ignored
        vote_on(outsider, poll, 0),  # not on the trust list: not counted
    ]
    views = views_of(*trust, poll, *votes)
    tally = views.social(alice.key).tally(poll.id)
    assert tally.counts == (0, 2)
    assert tally.leaders == (1,)
    assert tally.counted == {bob.key, carol.key}
    assert outsider.key in tally.ballots
    invalid = views.invalid()
    assert invalid[votes[3].id].text == "vote cast after the poll closed"
    assert invalid[votes[3].id].code is ReasonCode.POLL_CLOSED
    assert "but the poll has 2 options" in invalid[votes[4].id].text
    assert invalid[votes[4].id].code is ReasonCode.NO_SUCH_OPTION


def test_forked_author_is_excluded_everywhere() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    idea = post_idea(bob, "Fork me")
    rating = rate_member(bob, alice, 5)
    vote_poll = open_poll(alice, "Q", ["x", "y"])
    vote = vote_on(bob, vote_poll, 0)
    trust = trusted_star(alice, [bob, carol])
    views = views_of(*trust, idea, rating, vote_poll, vote, rate_member(carol, bob, 5))
    assert views.ratings.view().members
    assert views.social(alice.key).utility.utility[bob.key] > 0
    views.index.add_forked(bob.key)
    social = views.social(alice.key)
    assert bob.key not in social.members
    assert bob.key not in social.utility.standing
    assert social.utility.total_utility == 0
    invalid = views.invalid()
    assert {invalid[e.id] for e in (idea, rating, vote)} == {FORKED_REASON}
    assert [rater for rater, _ in views.ratings.view().members] == [carol.key]
    assert views.forum.view().ideas == {}
    assert views.polls.view().ballots[vote_poll.id] == {}


body_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 7),
    st.sampled_from(["member", "idea", "other", ""]),
    st.binary(min_size=31, max_size=33),
    st.text(max_size=3),
)


@settings(deadline=None)  # shared CI machines stall; examples are small
@given(
    about=body_values, subject=body_values, score=body_values, comment=body_values, data=st.data()
)
def test_rating_parser_fast_path_matches_the_field_checks(
    about: object, subject: object, score: object, comment: object, data: st.DataObject
) -> None:
    fields = {"about": about, "subject": subject, "score": score, "comment": comment}
    body = {k: v for k, v in fields.items() if data.draw(st.booleans(), label=k)}
    entry = Author(1).write(ratings.KIND, body)  # type: ignore[arg-type]
    try:
        expected = ratings._check_body(entry.body)
    except RuleViolation:
        with pytest.raises(RuleViolation):
            ratings.parse_rating(entry)
        return
    rating = ratings.parse_rating(entry)
    assert (rating.about, rating.subject, rating.score, rating.comment) == expected


any_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.binary(max_size=40),
        st.text(max_size=30),
    ),
    lambda inner: st.lists(inner, max_size=25) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=30,
)
FIELDS = ("title", "body", "on", "text", "about", "subject", "score", "comment", "question")
FIELDS += ("options", "closes", "poll", "option")


@settings(deadline=None)
@given(
    kind=st.sampled_from(
        [forum.IDEA_KIND, forum.COMMENT_KIND, ratings.KIND, polls.POLL_KIND, polls.VOTE_KIND]
    ),
    body=st.dictionaries(st.sampled_from(FIELDS), any_value, max_size=6),
)
def test_any_body_is_valid_waiting_or_void_never_a_crash(kind: str, body: dict) -> None:  # type: ignore[type-arg]
    alice = Author(1)
    idea, poll = post_idea(alice, "Idea"), open_poll(alice, "Q", ["a", "b"])
    entry = Author(2).write(kind, body)
    views = views_of(idea, poll, entry)
    reason = views.invalid().get(entry.id)
    social = views.social(alice.key)
    counted = (
        entry.id in social.forum.ideas
        or any(entry.id in {c.id for c in t} for t in social.forum.comments.values())
        or any(r.entry_id == entry.id for r in social.ratings.members.values())
        or any(r.entry_id == entry.id for r in social.ratings.ideas.values())
        or entry.id in social.polls.polls
        or any(v.id == entry.id for b in social.polls.ballots.values() for v in b.values())
    )
    waiting = {r.entry_id for r in social.ratings.pending} | {c.id for c in social.forum.pending}
    waiting |= {v.id for v in social.polls.pending}
    assert [reason is not None, counted, entry.id in waiting].count(True) == 1
