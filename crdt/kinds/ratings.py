"""Ratings: what participants think of each other and of ideas.

Theory of operation. A ``rating`` entry says "I, the author, give SUBJECT this
score". SUBJECT is either a member (their 32-byte key, ``about = "member"``)
or an idea (the idea entry's id, ``about = "idea"``). The scale is the
integers 0..5:

    0  no visible contribution (also: withdraw an earlier endorsement)
    1  small   2  some   3  solid   4  strong   5  outstanding

Each rater's **latest** rating of a subject wins, where latest means the
highest ``seq`` in the rater's own feed (the order the rater signed, which no
delivery order can change). The state is therefore a last-writer-wins map
keyed by ``(rater, about, subject)`` with ``seq`` as the version: merging
is taking the maximum, so any order of delivery, with duplicates, ends in
the same map.

Rules (an entry breaking one is ignored by the views, with the reason kept):
the score is an integer on the scale; no one rates themselves or their own
idea; the subject of an idea rating must be an ``idea`` entry. A rating of an
idea the node does not hold yet is *pending*, not invalid: it applies as soon
as the idea arrives. A forked author's void ratings never reach this domain, and
their ideas are not held as far as views are concerned (:mod:`samoorg.crdt.framework.views`):
a rating of such an idea is pending on every node. A rating *of* a forked
member stays (it names a key every node knows); utility leaves forked members
out (:mod:`samoorg.crdt.kinds.social`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.digest import sorted_ids
from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.fields import ID_SIZE, read_choice, read_id, read_int, read_text
from samoorg.crdt.framework.identity import latest_per_identity
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry

KIND: Final = "rating"
SCORE_MIN: Final = 0
SCORE_MAX: Final = 5
SCALE_LABELS: Final = (
    "no visible contribution",
    "small",
    "some",
    "solid",
    "strong",
    "outstanding",
)
ABOUT_MEMBER: Final = "member"
ABOUT_IDEA: Final = "idea"
MAX_COMMENT: Final = 2000
_ABOUTS: Final = (ABOUT_MEMBER, ABOUT_IDEA)


@dataclass(frozen=True, slots=True)
class Rating:
    """One valid-looking rating entry."""

    rater: bytes
    seq: int
    about: str
    subject: bytes
    score: int
    comment: str
    timestamp: int
    entry_id: bytes

    @property
    def key(self) -> tuple[bytes, str, bytes]:
        """Ratings with the same key replace each other (latest seq wins)."""
        return self.rater, self.about, self.subject


def rating_body(
    about: str, subject: bytes, score: int, comment: str = "", *, check: bool = True
) -> dict[str, dcbor.Value]:
    """The body of a new rating entry; raises :class:`RuleViolation` if it breaks a rule
    (unless not ``check``: tests write broken ones)."""
    body: dict[str, dcbor.Value] = {"about": about, "subject": subject, "score": score}
    if comment:
        body["comment"] = comment
    if check:
        _check_body(body)
    return body


def _check_body(body: Mapping[str, dcbor.Value]) -> tuple[str, bytes, int, str]:
    about = read_choice(body, "about", _ABOUTS)
    subject = read_id(body, "subject")
    score = read_int(body, "score", SCORE_MIN, SCORE_MAX)
    comment = read_text(body, "comment", max_chars=MAX_COMMENT, required=False)
    return about, subject, score, comment


def parse_rating(entry: Entry) -> Rating:
    """The rating carried by ``entry``; raises :class:`RuleViolation`."""
    body = entry.body
    about, subject, score = body.get("about"), body.get("subject"), body.get("score")
    # Fast path for the common well-formed body without a comment; anything
    # else goes through _check_body, which accepts the same bodies and names
    # the broken field otherwise.
    if not (
        about in _ABOUTS
        and type(subject) is bytes
        and len(subject) == ID_SIZE
        and type(score) is int
        and SCORE_MIN <= score <= SCORE_MAX
        and body.get("comment") is None
    ):
        about, subject, score, comment = _check_body(body)
        return Rating(
            entry.author, entry.seq, about, subject, score, comment, entry.timestamp, entry.id
        )
    return Rating(
        entry.author, entry.seq, str(about), subject, score, "", entry.timestamp, entry.id
    )


@dataclass(frozen=True)
class RatingsView:
    """The ratings that count, after the cross-entry rules."""

    members: dict[tuple[bytes, bytes], Rating]
    """``(rater, member) -> rating``."""
    ideas: dict[tuple[bytes, bytes], Rating]
    """``(rater, idea id) -> rating``."""
    pending: tuple[Rating, ...]
    """Idea ratings whose idea this node does not hold yet."""
    invalid: dict[bytes, Reason]
    idea_authors: Mapping[bytes, bytes]
    """Idea id -> author, for every valid idea."""

    def canonical(self) -> dcbor.Value:
        """A sorted, encodable form of the state for the digest."""
        return {
            "members": [_rating_value(self.members[k]) for k in sorted(self.members)],
            "ideas": [_rating_value(self.ideas[k]) for k in sorted(self.ideas)],
            "pending": sorted_ids(r.entry_id for r in self.pending),
            "invalid": digested(self.invalid),
        }


def _rating_value(rating: Rating) -> dcbor.Value:
    return [rating.rater, rating.subject, rating.seq, rating.score, rating.entry_id]


class RatingsState(ResolvedDomain[RatingsView]):
    """The last-writer-wins map of ratings, resolved lazily against the forum and the index."""

    name = "ratings"
    decoders = MappingProxyType({KIND: parse_rating})

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._latest: dict[tuple[bytes, str, bytes], Rating] = {}

    def _file(self, entry: Entry, record: Rating) -> None:
        """Per ``(rater device, subject)`` the highest ``seq`` wins."""
        held = self._latest.get(record.key)
        if held is None or held.seq < record.seq:
            self._latest[record.key] = record

    def _per_identity(self) -> list[Rating]:
        """One rating per (rater identity, subject) by the rule of §8.11.1, with the rater
        (and a rated member) named by identity; the rest are superseded, not void."""
        identity = self.views.identity
        if not self.views.folds():
            return list(self._latest.values())

        def canonical(r: Rating) -> Rating:
            subject = identity(r.subject) if r.about == ABOUT_MEMBER else r.subject
            return replace(r, rater=identity(r.rater), subject=subject)

        won = latest_per_identity(
            ((r.rater, canonical(r)) for r in self._latest.values()),
            group=lambda pair: pair[1].key,
            device=lambda pair: pair[0],
            seq=lambda pair: pair[1].seq,
            order=lambda pair: (pair[1].timestamp, pair[1].entry_id),
        )
        return [pair[1] for pair in won.values()]

    def _resolve_view(self) -> RatingsView:
        holds = self.views.holds
        idea_authors = self.views.forum.view().idea_authors()
        members: dict[tuple[bytes, bytes], Rating] = {}
        ideas: dict[tuple[bytes, bytes], Rating] = {}
        pending: list[Rating] = []
        invalid = dict(self._malformed)
        for rating in self._per_identity():
            if rating.about == ABOUT_MEMBER:
                if rating.subject == rating.rater:
                    invalid[rating.entry_id] = Reason(
                        ReasonCode.SELF_RATING, "a member cannot rate themselves"
                    )
                else:
                    members[rating.rater, rating.subject] = rating
            elif rating.subject in idea_authors:
                if idea_authors[rating.subject] == rating.rater:
                    invalid[rating.entry_id] = Reason(
                        ReasonCode.OWN_IDEA_RATING, "a member cannot rate their own idea"
                    )
                else:
                    ideas[rating.rater, rating.subject] = rating
            elif holds(rating.subject):
                invalid[rating.entry_id] = Reason(
                    ReasonCode.NOT_AN_IDEA, "the rated entry is not a valid idea"
                )
            else:
                pending.append(rating)
        return RatingsView(members, ideas, tuple(pending), invalid, idea_authors)


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Ratings of members (the authors) and of held entries (mostly ideas) or unknown ids."""
    from hypothesis import strategies as st

    from samoorg.crdt.kinds.forum import IDEA_KIND

    scores = st.integers(SCORE_MIN, SCORE_MAX)
    comments = st.sampled_from(["", "thanks"])
    members = st.builds(
        lambda k, s, c: (KIND, rating_body(ABOUT_MEMBER, k, s, c)),
        st.sampled_from(ctx.keys),
        scores,
        comments,
    )
    subjects = st.binary(min_size=ID_SIZE, max_size=ID_SIZE)
    if ctx.entries:
        ideas = [e.id for e in ctx.of_kind(IDEA_KIND)] or [ctx.entries[-1].id]
        subjects = st.sampled_from(ideas) | subjects
    ideas_rated = st.builds(
        lambda i, s, c: (KIND, rating_body(ABOUT_IDEA, i, s, c)), subjects, scores, comments
    )
    return members | ideas_rated


FAMILY: Final = Family(RatingsState, samples, spec="8.8", uses=("forum",))
