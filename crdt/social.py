"""The social views together: forum, ratings, utility, polls, over one entry set.

Theory of operation. :class:`SocialState` folds entries of the social kinds
(``idea``, ``comment``, ``rating``, ``poll``, ``vote``) into three CRDT states;
the fold commutes, so it can run incrementally as entries arrive or all at
once (:meth:`SocialState.from_index`) with the same result. :func:`social_views`
then applies the cross-entry rules against the whole :class:`EntryIndex` and
the trust list, and computes utility.

The trust list (``members``) comes from the trust-graph view; it is the only
input besides the entries. Rating weights fed to the utility iteration are,
for each ordered pair of members ``(i, j)``: ``i``'s latest score of ``j``
plus ``i``'s latest scores of each of ``j``'s ideas (an idea's rating credits
its author).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Final

from samoorg.crdt import forum, polls, ratings
from samoorg.crdt.digest import sorted_ids, state_digest
from samoorg.crdt.forum import ForumState, ForumView, resolve_forum
from samoorg.crdt.index import EntryIndex
from samoorg.crdt.polls import PollsState, PollsView, resolve_polls
from samoorg.crdt.ratings import RatingsState, RatingsView, resolve_ratings
from samoorg.crdt.rejections import Rejected
from samoorg.crdt.utility import DEFAULT_PARAMS, UtilityParams, UtilityResult, compute_utility
from samoorg.protocol.entry import Entry

KINDS: Final = (
    forum.IDEA_KIND,
    forum.COMMENT_KIND,
    ratings.KIND,
    polls.POLL_KIND,
    polls.VOTE_KIND,
)


@dataclass
class SocialState:
    """The folded state of every social kind."""

    forum: ForumState = field(default_factory=ForumState)
    ratings: RatingsState = field(default_factory=RatingsState)
    polls: PollsState = field(default_factory=PollsState)

    def add(self, entry: Entry) -> None:
        """Fold one entry in (kinds that are not social are ignored)."""
        self.forum.add(entry)
        self.ratings.add(entry)
        self.polls.add(entry)

    def add_all(self, entries: Iterable[Entry]) -> None:
        """Fold several entries in."""
        for entry in entries:
            self.add(entry)

    @classmethod
    def from_index(cls, index: EntryIndex) -> SocialState:
        """A full rebuild from ``index``."""
        state = cls()
        state.add_all(index.of_kind(*KINDS))
        return state


def weights(rating_view: RatingsView) -> dict[tuple[bytes, bytes], int]:
    """``(rater, ratee) -> weight`` for the utility iteration (see the module docstring)."""
    result: dict[tuple[bytes, bytes], int] = {}
    for (rater, member), rating in rating_view.members.items():
        result[rater, member] = result.get((rater, member), 0) + rating.score
    for (rater, _), rating in rating_view.ideas.items():
        author = rating_view.idea_authors[rating.subject]
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

    def idea_support(self, idea_id: bytes) -> int:
        """Standing-weighted score of an idea: ``sum(standing_i * score_i) / 5`` over members."""
        total = 0
        for (rater, subject), rating in self.ratings.ideas.items():
            if subject == idea_id and rater in self.members:
                total += self.utility.standing.get(rater, 0) * rating.score
        return total // ratings.SCORE_MAX

    def rejected(self) -> list[Rejected]:
        """Every social entry the views ignore, with the reason, ordered by entry id."""
        return sorted({*self.forum.rejected, *self.ratings.rejected, *self.polls.rejected})

    def digest(self) -> str:
        """One hash of the whole social state (equal states give equal digests)."""
        return state_digest(
            {
                "members": sorted_ids(self.members),
                "forum": self.forum.canonical(),
                "ratings": self.ratings.canonical(),
                "polls": self.polls.canonical(),
                "standing": [[k, self.utility.standing[k]] for k in self.utility.members],
                "utility": [[k, self.utility.utility[k]] for k in self.utility.members],
            }
        )


def social_views(
    index: EntryIndex,
    members: Collection[bytes],
    *,
    state: SocialState | None = None,
    params: UtilityParams = DEFAULT_PARAMS,
) -> SocialViews:
    """Resolve the social views of ``index`` for the trust list ``members``.

    ``state`` is an incrementally maintained fold of the same entries; when
    omitted it is rebuilt from ``index``.
    """
    folded = state if state is not None else SocialState.from_index(index)
    forked = index.forked
    trust = frozenset(members) - forked
    forum_view = resolve_forum(folded.forum, held=index, forked=forked)
    rating_view = resolve_ratings(
        folded.ratings, idea_authors=forum_view.idea_authors(), held=index, forked=forked
    )
    poll_view = resolve_polls(folded.polls, members=trust, held=index, forked=forked)
    utility = compute_utility(trust, weights(rating_view), params)
    return SocialViews(trust, forum_view, rating_view, poll_view, utility)
