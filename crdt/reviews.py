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
(:func:`samoorg.crdt.social.rating_weights`, ``docs/utility.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from samoorg.crdt.domain import Domain
from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.fields import read_id, read_int, read_text
from samoorg.crdt.pledge_rules import FULFILLED, WAITING
from samoorg.crdt.reasons import Reason, ReasonCode, digested
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from samoorg.crdt.views import Views
    from samoorg.protocol.entry import Entry

REVIEW: Final = "review"
REVIEW_KINDS: Final = (REVIEW,)
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


_Parsed = tuple["Entry", bytes, bytes, int, str]


class ReviewState(Domain):
    """Reviews of fulfilled portal deals, judged against the pledge and listing views."""

    name = "reviews"
    kinds = REVIEW_KINDS

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._held: list[_Parsed] = []
        self._malformed: dict[bytes, Reason] = {}
        self._cache: tuple[int, dict[bytes, Review], dict[bytes, Reason], list[bytes]] | None
        self._cache = None

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new reviews; judging is lazy (it reads the pledge and listing views)."""
        for entry in entries:
            try:
                pledge, commitment, rating, text = parse_review(entry.body)
            except RuleViolation as exc:
                self._malformed[entry.id] = exc.malformed(entry.kind)
                continue
            self._held.append((entry, pledge, commitment, rating, text))
        self._cache = None

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
        if entry.author not in (pledger, beneficiary):
            return Reason(
                ReasonCode.REVIEW_NOT_PARTY, "only the parties of a commitment can review it"
            )
        key = (entry.author, commitment)
        if key in seen:
            return Reason(ReasonCode.REVIEW_AGAIN, "one review per party per commitment")
        seen.add(key)
        subject = beneficiary if entry.author == pledger else pledger
        return Review(
            entry.id,
            entry.author,
            subject,
            pledge_id,
            commitment,
            listing_id,
            rating,
            text,
            entry.timestamp,
            entry.seq,
        )

    def _resolved(self) -> tuple[dict[bytes, Review], dict[bytes, Reason], list[bytes]]:
        version = self.views.index.version
        if self._cache is None or self._cache[0] != version:
            reviews: dict[bytes, Review] = {}
            invalid = dict(self._malformed)
            waiting: list[bytes] = []
            seen: set[tuple[bytes, bytes]] = set()
            # (author, seq): a reviewer's first review of a commitment is judged first.
            for item in sorted(self._held, key=lambda i: (i[0].author, i[0].seq)):
                judged = self._judge(item, seen)
                if judged is None:
                    waiting.append(item[0].id)
                elif isinstance(judged, Reason):
                    invalid[item[0].id] = judged
                else:
                    reviews[judged.id] = judged
            self._cache = (version, reviews, invalid, sorted(waiting))
        return self._cache[1], self._cache[2], self._cache[3]

    def reviews(self) -> list[Review]:
        """Every review that counts, newest first (timestamp, then id, descending)."""
        found = self._resolved()[0].values()
        return sorted(found, key=lambda r: (r.timestamp, r.id), reverse=True)

    def of(self, member: bytes) -> list[Review]:
        """The reviews whose subject is ``member``, newest first."""
        return [r for r in self.reviews() if r.subject == member]

    def waiting(self) -> list[bytes]:
        """Reviews that wait for their pledge or listing, by id."""
        return self._resolved()[2]

    def invalid(self) -> Mapping[bytes, Reason]:
        """Malformed reviews and reviews the rules void."""
        return self._resolved()[1]

    def state(self) -> dcbor.Value:
        """Reviews that count, void and waiting ones, sorted."""
        reviews, invalid, waiting = self._resolved()
        rows: list[dcbor.Value] = [
            [key, reviews[key].subject, reviews[key].rating] for key in sorted(reviews)
        ]
        pending: list[dcbor.Value] = [*waiting]
        return [rows, digested(dict(invalid)), pending]
