"""Reviews: what the two parties of a fulfilled deal say of each other (``review``).

Theory of operation. A ``review`` names a pledge (its ``pledge.intend`` id)
and that pledge's commitment (its ``pledge.commit`` id), with a rating 1..5
and an optional text. Only a deal made through the portal can be reviewed:
the intention names a listing (its optional ``listing`` field, §8.5) whose
author is one of the two parties, and the commitment was marked fulfilled
(by the beneficiary, as every pledge: for an offer that is the listing's
author). The *parties* are the pledge's author and its beneficiary; each may
review the other **once** per commitment: among one reviewer's reviews of a
commitment the one with the lowest ``seq`` in their feed is the one judged,
the later ones are void. Whether a review counts is therefore a pure function
of the set of held entries: any order of delivery gives the same reviews.

Rules, in this order (an entry breaking one is void, with its reason code):

* ``malformed``: the body breaks a field rule;
* while the pledge is not known to the pledge view, or is waiting, or its
  listing is not held, the review *waits*;
* ``review-wrong-commitment``: ``commitment`` is not the pledge's commitment;
* ``review-not-fulfilled``: the pledge is not fulfilled;
* ``review-no-listing``: the intention names no listing, the named entry is
  not a valid listing, or its author is not one of the parties;
* ``review-not-party``: the reviewer is neither party;
* ``review-again``: the reviewer already reviewed this commitment.

A review's *subject* is the other party. Ratings feed utility
(:func:`samoorg.crdt.kinds.social.rating_weights`, ``docs/utility.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.fields import read_id, read_int, read_text
from samoorg.crdt.framework.identity import by_feed
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.crdt.kinds.pledges import FULFILLED, WAITING
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry

REVIEW: Final = "review"
RATING_MIN: Final = 1
RATING_MAX: Final = 5
MAX_REVIEW_TEXT: Final = 2000


@dataclass(frozen=True, slots=True)
class Review:
    """One review that counts."""

    id: bytes
    reviewer: bytes
    subject: bytes
    pledge: bytes
    commitment: bytes
    listing: bytes
    rating: int
    text: str
    timestamp: int
    seq: int


def review_body(
    pledge: bytes, commitment: bytes, rating: int, text: str = ""
) -> dict[str, dcbor.Value]:
    """The body of a new review; raises :class:`RuleViolation` if it breaks a field rule."""
    body: dict[str, dcbor.Value] = {"pledge": pledge, "commitment": commitment, "rating": rating}
    if text:
        body["text"] = text
    parse_review(body)
    return body


def parse_review(body: Mapping[str, dcbor.Value]) -> tuple[bytes, bytes, int, str]:
    """``(pledge, commitment, rating, text)``; raises :class:`RuleViolation`."""
    return (
        read_id(body, "pledge"),
        read_id(body, "commitment"),
        read_int(body, "rating", RATING_MIN, RATING_MAX),
        read_text(body, "text", max_chars=MAX_REVIEW_TEXT, required=False),
    )


def decode_review(entry: Entry) -> tuple[bytes, bytes, int, str]:
    """``(pledge, commitment, rating, text)`` of a ``review`` entry; raises RuleViolation."""
    return parse_review(entry.body)


_Parsed = tuple["Entry", bytes, bytes, int, str]


@dataclass(frozen=True)
class ReviewsView:
    """The reviews that count, void and waiting ones."""

    reviews: dict[bytes, Review]
    invalid: dict[bytes, Reason]
    waiting: tuple[bytes, ...]

    def canonical(self) -> dcbor.Value:
        """Reviews that count, void and waiting ones, sorted (§8.7)."""
        rows: list[dcbor.Value] = [
            [key, self.reviews[key].subject, self.reviews[key].rating]
            for key in sorted(self.reviews)
        ]
        return [rows, digested(self.invalid), [*self.waiting]]


class ReviewState(ResolvedDomain[ReviewsView]):
    """Reviews of fulfilled portal deals, judged against the pledge and listing views."""

    name = "reviews"
    decoders = MappingProxyType({REVIEW: decode_review})

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._held: list[_Parsed] = []

    def _file(self, entry: Entry, record: tuple[bytes, bytes, int, str]) -> None:
        self._held.append((entry, *record))

    def _judge(self, item: _Parsed, seen: set[tuple[bytes, bytes]]) -> Review | Reason | None:
        """The review, the reason it is void, or ``None`` while it waits."""
        entry, pledge_id, commitment, rating, text = item
        views = self.views
        outcome = views.pledges.pledge(pledge_id)
        if outcome is None or outcome.state == WAITING or outcome.record is None:
            return None
        if outcome.commit is None or outcome.commit.id != commitment:
            return Reason(ReasonCode.REVIEW_WRONG_COMMITMENT, "the commitment is not this pledge's")
        if outcome.state != FULFILLED:
            return Reason(
                ReasonCode.REVIEW_NOT_FULFILLED, "only a fulfilled commitment can be reviewed"
            )
        pledger, beneficiary = outcome.author, outcome.beneficiary
        assert pledger is not None
        assert beneficiary is not None
        listing_id = outcome.record.listing
        if listing_id is None:
            return Reason(ReasonCode.REVIEW_NO_LISTING, "the pledge names no listing")
        listing = views.listings.get(listing_id)
        if listing is None:
            if not views.holds(listing_id):
                return None
            return Reason(ReasonCode.REVIEW_NO_LISTING, "the pledge names no valid listing")
        if listing.author not in (pledger, beneficiary):
            return Reason(
                ReasonCode.REVIEW_NO_LISTING, "the listing is by neither party of the pledge"
            )
        author = views.author(entry)
        if author not in (pledger, beneficiary):
            return Reason(
                ReasonCode.REVIEW_NOT_PARTY, "only the parties of a commitment can review it"
            )
        key = (author, commitment)
        if key in seen:
            return Reason(ReasonCode.REVIEW_AGAIN, "one review per party per commitment")
        seen.add(key)
        subject = beneficiary if author == pledger else pledger
        return Review(
            entry.id,
            author,
            subject,
            pledge_id,
            commitment,
            listing_id,
            rating,
            text,
            entry.timestamp,
            entry.seq,
        )

    def _resolve_view(self) -> ReviewsView:
        reviews: dict[bytes, Review] = {}
        invalid = dict(self._malformed)
        waiting: list[bytes] = []
        seen: set[tuple[bytes, bytes]] = set()
        # A reviewer's first review of a commitment (in its identity's feed order) wins.
        for item in by_feed(self._held, self.views.identity):
            judged = self._judge(item, seen)
            if judged is None:
                waiting.append(item[0].id)
            elif isinstance(judged, Reason):
                invalid[item[0].id] = judged
            else:
                reviews[judged.id] = judged
        return ReviewsView(reviews, invalid, tuple(sorted(waiting)))

    def reviews(self) -> list[Review]:
        """Every review that counts, newest first (timestamp, then id, descending)."""
        found = self.view().reviews.values()
        return sorted(found, key=lambda r: (r.timestamp, r.id), reverse=True)

    def of(self, member: bytes) -> list[Review]:
        """The reviews whose subject is ``member``, newest first."""
        return [r for r in self.reviews() if r.subject == member]

    def waiting(self) -> list[bytes]:
        """Reviews that wait for their pledge or listing, by id."""
        return list(self.view().waiting)


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Reviews naming held intentions and commits (or unknown ids)."""
    from hypothesis import strategies as st

    from samoorg.crdt.kinds.pledges import COMMIT, INTEND

    ids = st.binary(min_size=32, max_size=32)
    pledges, commits = ids, ids
    if ctx.of_kind(INTEND):
        pledges = st.sampled_from([e.id for e in ctx.of_kind(INTEND)]) | ids
    if ctx.of_kind(COMMIT):
        commits = st.sampled_from([e.id for e in ctx.of_kind(COMMIT)]) | ids
    ratings = st.integers(RATING_MIN, RATING_MAX)
    texts = st.sampled_from(["", "on time"])
    return st.builds(
        lambda p, c, r, t: (REVIEW, review_body(p, c, r, t)), pledges, commits, ratings, texts
    )


FAMILY: Final = Family(ReviewState, samples, spec="8.10", uses=("listings",))
