"""The social views for one trust list: forum, ratings, polls and utility together.

Theory of operation. The forum, ratings and polls domains (reached through
:class:`~samoorg.crdt.framework.views.Views`) hold state that is the same on every
node holding the same entries. Utility and poll tallies also depend on a
trust list, which is relative to a root member ("everyone reachable from
me"); :func:`social_views` combines both for one root.

Rating weights fed to the utility iteration are, for each ordered pair of
members ``(i, j)``: ``i``'s latest score of ``j`` plus ``i``'s latest scores
of each of ``j``'s ideas (a rating of an idea credits its author), plus
``i``'s review weight of ``j``: the mean of ``rating - 1`` over ``i``'s
reviews of ``j`` (portal deals, :mod:`samoorg.crdt.kinds.reviews`), rounded down,
so 0..4 however many deals the two made (``docs/utility.md``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from samoorg.crdt.algorithms.utility import (
    DEFAULT_PARAMS,
    UtilityParams,
    UtilityResult,
    compute_utility,
)
from samoorg.crdt.framework.digest import sorted_ids, state_digest
from samoorg.crdt.kinds.forum import ForumView
from samoorg.crdt.kinds.polls import PollsView, Tally
from samoorg.crdt.kinds.ratings import SCORE_MAX, RatingsView
from samoorg.crdt.kinds.reviews import RATING_MIN, Review
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views


def review_weights(reviews: Sequence[Review]) -> dict[tuple[bytes, bytes], int]:
    """``(reviewer, subject) -> floor(mean(rating - 1))`` over their reviews."""
    sums: dict[tuple[bytes, bytes], list[int]] = {}
    for review in reviews:
        row = sums.setdefault((review.reviewer, review.subject), [0, 0])
        row[0] += review.rating - RATING_MIN
        row[1] += 1
    return {pair: total // count for pair, (total, count) in sums.items()}


def rating_weights(
    ratings: RatingsView, reviews: Sequence[Review] = ()
) -> dict[tuple[bytes, bytes], int]:
    """``(rater, ratee) -> weight`` for the utility iteration (see the module docstring)."""
    result: dict[tuple[bytes, bytes], int] = {}
    for pair, weight in review_weights(reviews).items():
        if weight:
            result[pair] = weight
    for (rater, member), rating in ratings.members.items():
        result[rater, member] = result.get((rater, member), 0) + rating.score
    for (rater, _), rating in ratings.ideas.items():
        author = ratings.idea_authors[rating.subject]
        result[rater, author] = result.get((rater, author), 0) + rating.score
    return result


@dataclass(frozen=True)
class SocialViews:
    """Forum, ratings, polls and utility as seen with one trust list."""

    members: frozenset[bytes]
    forum: ForumView
    ratings: RatingsView
    polls: PollsView
    utility: UtilityResult
    reviews: tuple[Review, ...] = ()

    def tally(self, poll_id: bytes) -> Tally:
        """The poll's result counting one vote per trust-list member."""
        return self.polls.tally(poll_id, self.members)

    def idea_support(self, idea_id: bytes) -> int:
        """Standing-weighted score of an idea: ``sum(standing_i * score_i) / 5`` over members."""
        total = 0
        for (rater, subject), rating in self.ratings.ideas.items():
            if subject == idea_id and rater in self.members:
                total += self.utility.standing.get(rater, 0) * rating.score
        return total // SCORE_MAX

    def digest(self) -> str:
        """One hash of the root-relative results: members, standing, utility, tallies."""
        tallies: list[dcbor.Value] = [
            [poll_id, list(self.tally(poll_id).counts)] for poll_id in sorted(self.polls.polls)
        ]
        return state_digest(
            {
                "members": sorted_ids(self.members),
                "standing": [[k, self.utility.standing[k]] for k in self.utility.members],
                "utility": [[k, self.utility.utility[k]] for k in self.utility.members],
                "tallies": tallies,
            }
        )

    def raters(self) -> dict[bytes, int]:
        """Member -> how many other members rate them (directly or through their ideas)."""
        counts: dict[bytes, int] = {}
        for (rater, ratee), weight in rating_weights(self.ratings, self.reviews).items():
            if weight > 0 and rater in self.members and ratee in self.members:
                counts[ratee] = counts.get(ratee, 0) + 1
        return counts


def social_views(
    views: Views,
    root: bytes,
    *,
    members: Collection[bytes] | None = None,
    params: UtilityParams = DEFAULT_PARAMS,
) -> SocialViews:
    """The social views seen from ``root``, whose trust list decides whose voice counts.

    ``members`` overrides the trust list (tests and benchmarks); forked
    authors are never members.
    """
    if members is None:
        members = views.trust.members(root)
    trust = frozenset(members) - views.index.forked
    ratings = views.ratings.view()
    reviews = tuple(views.reviews.reviews())
    utility = compute_utility(trust, rating_weights(ratings, reviews), params)
    return SocialViews(trust, views.forum.view(), ratings, views.polls.view(), utility, reviews)
