"""Helpers to write social records (ideas, ratings, polls) with in-memory authors."""

from __future__ import annotations

from samoorg.crdt.kinds import forum, polls, ratings
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author


def trusted_star(center: Author, others: list[Author]) -> list[Entry]:
    """Invite and accept entries joining ``center`` to each of ``others`` by mutual guarantee."""
    entries: list[Entry] = []
    for number, other in enumerate(others):
        secret = bytes([number + 1]) * 16
        invite = center.invite(secret)
        entries += [invite, other.accept(invite, secret)]
    return entries


def rate_member(rater: Author, member: Author, score: int) -> Entry:
    """A rating of a member (the body is not checked, so tests can break rules)."""
    body = ratings.rating_body(ratings.ABOUT_MEMBER, member.key, score, check=False)
    return rater.write(ratings.KIND, body)


def rate_idea(rater: Author, idea: Entry, score: int) -> Entry:
    """A rating of an idea."""
    body = ratings.rating_body(ratings.ABOUT_IDEA, idea.id, score, check=False)
    return rater.write(ratings.KIND, body)


def post_idea(author: Author, title: str, body: str = "") -> Entry:
    """A forum idea."""
    return author.write(forum.IDEA_KIND, forum.idea_body(title, body))


def comment_on(author: Author, target: Entry, text: str) -> Entry:
    """A comment on ``target``."""
    return author.write(forum.COMMENT_KIND, forum.comment_body(target.id, text, check=False))


def open_poll(
    author: Author, question: str, options: list[str], closes: int | None = None
) -> Entry:
    """A poll."""
    return author.write(polls.POLL_KIND, polls.poll_body(question, options, closes))


def vote_on(voter: Author, poll: Entry, option: int, at: int | None = None) -> Entry:
    """A vote for option index ``option`` (0-based; not checked)."""
    return voter.write(polls.VOTE_KIND, polls.ballot_body(poll.id, option), at)
