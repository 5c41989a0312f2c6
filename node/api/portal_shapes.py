"""The JSON shapes of the portal (listings, reviews), shared by the CLI's ``--json`` and the API.

:func:`listing_query` reads a search from string parameters (the API's query
string; the CLI builds the same mapping), so both ask the same search
(:mod:`samoorg.node.listing_search`) the same question; :func:`search_page`
answers one page of it, each item shaped from the listing view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from samoorg.crdt.algorithms.listing_match import MAX_QUERY, ListingQuery
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds.listings import CATEGORIES, SHOWN_STATUSES, SIDES, Listing
from samoorg.node.api.errors import ApiError
from samoorg.node.api.org_shapes import held_org
from samoorg.node.api.pages import encode_cursor
from samoorg.node.api.shapes import money_json
from samoorg.node.api.times import Instant, instant
from samoorg.protocol.ids import BadIdentifier, parse_peer_id, peer_id

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.reviews import Review
    from samoorg.node.store import Store
    from samoorg.protocol.entry import Entry

SEARCH_PARAMS: Final = (
    "q",
    "side",
    "tag",
    "currency",
    "min_price",
    "max_price",
    "geohash",
    "author",
    "org",
    "status",
)
"""The query parameters of ``GET /listings`` (and ``samoorg listing search``)."""
__all__ = ["CATEGORIES", "SEARCH_PARAMS", "listing_json", "listing_query", "search_page"]


def _bad(text: str) -> ApiError:
    return ApiError("invalid_parameter", text)


def _minor(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    if not text.isdigit() or len(text) > 16:
        raise _bad(f"expected {name} as minor units (a whole number), found {text[:40]!r}")
    return int(text)


def listing_query(params: Mapping[str, str], now: int, views: Views) -> ListingQuery:
    """The search that ``params`` ask for; ``invalid_parameter`` for a bad value.

    ``org`` (an id, 6+ hex digits of it, or a name) keeps the listings that
    count for the org (§8.14), with the org's memberships from ``views``.
    """
    side, status = params.get("side"), params.get("status")
    if side is not None and side not in SIDES:
        raise _bad(f"expected side one of {', '.join(SIDES)}, found {side[:40]!r}")
    if status is not None and status not in SHOWN_STATUSES:
        raise _bad(f"expected status one of {', '.join(SHOWN_STATUSES)}, found {status[:40]!r}")
    text = params.get("q", "")
    if len(text) > MAX_QUERY:
        raise _bad(f"expected a search text of at most {MAX_QUERY} characters")
    currency = params.get("currency")
    low, high = _minor(params, "min_price"), _minor(params, "max_price")
    if currency is None and (low is not None or high is not None):
        raise _bad("a price range needs a currency")
    author = params.get("author")
    try:
        key = parse_peer_id(author) if author is not None else None
    except BadIdentifier as exc:
        raise _bad(str(exc)) from None
    org = held_org(views, params["org"]) if params.get("org") is not None else None
    return ListingQuery(
        text=text,
        side=side,
        tag=params.get("tag"),
        currency=currency.upper() if currency is not None else None,
        min_price=low,
        max_price=high,
        geohash=params.get("geohash"),
        author=key,
        org=org.id if org is not None else None,
        status=status,
        now=now,
    )


def held_listing(views: Views, entry: Entry) -> Listing:
    """The valid listing ``entry`` creates, or RuleViolation with the reason the views ignore it."""
    listing = views.listings.get(entry.id)
    if listing is None:
        reason = views.invalid().get(entry.id, "the views ignore it")
        raise RuleViolation(f"listing {entry.id.hex()[:12]} is ignored: {reason}")
    return listing


def listing_json(views: Views, listing: Listing, now: int) -> dict[str, Any]:
    """One listing with its current fields and shown status (``listing show --json``)."""
    fields = listing.fields
    org_id = views.orgs.org_of(listing)
    org = views.orgs.get(org_id) if org_id is not None else None
    amount = None
    if fields.amount is not None and fields.currency is not None:
        amount = money_json(fields.amount, fields.currency)
    return {
        "id": listing.id.hex(),
        "author": peer_id(listing.author),
        "forked": views.is_forked(listing.author),
        "side": fields.side,
        "title": fields.title,
        "description": fields.description,
        "tags": list(fields.tags),
        "price": fields.price,
        "amount": amount,
        "frequency": fields.frequency,
        "wanted": fields.wanted or None,
        "quantity": fields.quantity,
        "unit": fields.unit or None,
        "place": fields.place or None,
        "geohash": fields.geohash or None,
        "from": instant(fields.available_from),
        "until": instant(fields.available_until),
        "expires": instant(fields.expires),
        "status": listing.effective_status(now),
        "created": Instant(listing.created),
        "version": listing.version.hex(),
        "edits": listing.edits,
        "org": org.id.hex() if org is not None else None,
        "org_name": org.fields.name if org is not None else None,
    }


def listing_detail_json(views: Views, listing: Listing, now: int) -> dict[str, Any]:
    """``listing show --json``: the listing and the reviews of deals made through it."""
    reviews = [r for r in views.reviews.reviews() if r.listing == listing.id]
    return {**listing_json(views, listing, now), "reviews": [review_json(r) for r in reviews]}


def review_json(review: Review) -> dict[str, Any]:
    """One review that counts (``review list --json``)."""
    return {
        "id": review.id.hex(),
        "reviewer": peer_id(review.reviewer),
        "subject": peer_id(review.subject),
        "listing": review.listing.hex(),
        "pledge": review.pledge.hex(),
        "commitment": review.commitment.hex(),
        "rating": review.rating,
        "text": review.text,
        "time": Instant(review.timestamp),
    }


def search_page(
    store: Store, views: Views, query: ListingQuery, start: int, limit: int | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a search (``limit`` ``None``: every match) and the next page's cursor."""
    from samoorg.node.listing_search import search

    found = search(store, views, query, start=start, limit=limit)
    items = [listing_json(views, listing, query.now) for listing in found.listings]
    return items, None if found.next_start is None else encode_cursor(found.next_start)
