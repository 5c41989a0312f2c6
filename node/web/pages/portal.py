"""The portal of goods and services: search listings, one listing, offer, request, deal, review.

``GET /portal`` is ``samoorg listing search`` (and ``listing list``) on the
store's full-text index (:mod:`samoorg.node.listing_index`): the words of
``q`` as prefixes, and the filters offer/request, tag, a price range in a
currency (typed in major units, as the CLI's ``--min-price``), a geohash
prefix, an author (an id, a fragment or a name) and a status (active by
default, as the CLI's; ``any`` for every one), newest first, a page of
:data:`~samoorg.node.web.acting.PAGE` at a time. The question is the API's
(:func:`~samoorg.node.api.portal_shapes.listing_query`), so the page lists
what ``GET /api/v1/listings`` and the CLI answer. Its form publishes an
offer or a request (the action ``listing.new``).

``GET /portal/{id}`` shows one listing with every field, its current version
and number of edits, the pledges made for it (the deals) and its reviews;
the forms pledge for it (``pledge intend --listing``, with the CLI's
``--force``), review the other party of a fulfilled deal (``review``) and,
for its author, edit and close it. Every form calls the action the CLI
calls: a refusal shows the CLI's line next to its field and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from starlette.routing import Route

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.errors import MalformedInput
from samoorg.crdt.kinds.listings import (
    CATEGORIES,
    FREQUENCIES,
    LISTING,
    LISTING_KINDS,
    PRICE_AMOUNT,
    PRICE_EXCHANGE,
    PRICE_GIFT,
    SHOWN_STATUSES,
    SIDES,
    STATUSES,
)
from samoorg.crdt.kinds.pledges import VOID, WAITING, PledgeState
from samoorg.crdt.kinds.reviews import ReviewState
from samoorg.node.actions import pledges as pledge_actions
from samoorg.node.actions.refs import resolve_member
from samoorg.node.api.errors import ApiError
from samoorg.node.api.pages import decode_cursor
from samoorg.node.api.portal_shapes import (
    SEARCH_PARAMS,
    held_listing,
    listing_json,
    listing_query,
    review_json,
    search_page,
)
from samoorg.node.api.routes import names_of
from samoorg.node.api.shapes import jsonable, pledge_row
from samoorg.node.api.times import rfc3339
from samoorg.node.store import now_ms
from samoorg.node.web import forms
from samoorg.node.web.acting import PAGE, field_of, show
from samoorg.node.web.forms import Refusal, act, attempt, done, perform, read_form
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.crdt.kinds.pledges import PledgeOutcome
    from samoorg.crdt.kinds.reviews import Review
    from samoorg.node.actions import Actor, Done
    from samoorg.node.api.routes import ApiContext
    from samoorg.node.web.forms import Form

SEARCH_FIELDS: Final = SEARCH_PARAMS
"""The fields of the search form (``GET /portal?...``): the API's parameters."""
SEARCH_WORDS: Final = {
    "q": ("search text",),
    "side": ("side",),
    "status": ("status",),
    "currency": ("currency",),
}
"""The words of a refusal of the search about each field (else the text's)."""
ANY: Final = "any"
"""The status choice that filters nothing."""
DEFAULT_STATUS: Final = "active"
PRICE_KINDS: Final = (PRICE_GIFT, PRICE_AMOUNT, PRICE_EXCHANGE)
LISTING_FIELDS: Final = {
    "title": ("title",),
    "tags": ("tag", "categor"),
    "currency": ("currency",),
    "price": ("price", "amount", "decimal", "digits"),
    "exchange": ("exchange", "wanted"),
    "frequency": ("frequency",),
    "quantity": ("quantity",),
    "unit": ("unit",),
    "place": ("place",),
    "geohash": ("geohash",),
    "expires": ("expir", "duration", "date"),
    "description": ("description",),
    "status": ("status",),
}
"""The listing form's fields and the words of a refusal about each (else the title's)."""
RESOLVER_ERRORS: Final = frozenset({"not_found", "ambiguous", "bad_identifier"})
DEAL_KINDS: Final = (*PledgeState.kinds, *LISTING_KINDS)
REVIEW_KINDS: Final = (*ReviewState.kinds, *DEAL_KINDS)
_TAG_SPLIT: Final = re.compile(r"[,\s]+")


# -- the search ---------------------------------------------------------------


def _typed_search(request: Request) -> dict[str, str]:
    typed = {name: request.query_params.get(name, "").strip() for name in SEARCH_FIELDS}
    typed["status"] = typed["status"] or DEFAULT_STATUS
    return typed


def search_params(ctx: ApiContext, typed: Mapping[str, str], at: list[str]) -> dict[str, str]:
    """The API's parameters of the search typed in the form, as ``listing search`` builds them.

    Prices are typed in major units of the currency (the CLI's
    ``--min-price``), the author as an id, a fragment or a name. Raises the
    CLI's refusal; ``at[0]`` is then the field it is about.
    """
    currency = typed.get("currency", "").upper()
    given = {name: typed[name] for name in ("q", "side", "tag") if typed.get(name)}
    if currency:
        given["currency"] = currency
    for name in ("min_price", "max_price"):
        value = typed.get(name, "")
        if not value:
            continue
        at[0] = name
        if not currency:
            at[0] = "currency"
            raise ApiError("invalid_parameter", "a price range needs a currency")
        given[name] = str(Amount.parse(value, currency).minor)
    if typed.get("geohash"):
        given["geohash"] = typed["geohash"].lower()
    if typed.get("author"):
        at[0] = "author"
        given["author"] = peer_id(resolve_member(names_of(ctx), typed["author"]))
    at[0] = ""
    status = typed.get("status", DEFAULT_STATUS)
    if status and status != ANY:
        given["status"] = status
    return given


def _search_values(request: Request) -> tuple[dict[str, Any], Refusal | None, str]:
    ctx = context(request)
    typed = _typed_search(request)
    start = _start(request)
    values: dict[str, Any] = {
        "search": typed,
        "search_typed": {f"search.{k}": v for k, v in typed.items()},
        "sides": SIDES,
        "statuses": (*SHOWN_STATUSES, ANY),
        "categories": CATEGORIES,
        "price_kinds": PRICE_KINDS,
        "frequencies": FREQUENCIES,
        "items": [],
        "first": 1,
        "previous": None,
        "next": None,
    }
    field = [""]
    trail = _trail(request)
    following: list[int] = []

    def run() -> list[dict[str, Any]]:
        ctx.live.refresh()
        views = ctx.live.views
        query = listing_query(search_params(ctx, typed, field), now_ms(), views)
        items, cursor = search_page(ctx.store, views, query, start, PAGE)
        following.extend([decode_cursor(cursor)] if cursor is not None else [])
        return items

    found = attempt(run)
    if isinstance(found, Refusal):
        return values, found, field[0] or field_of(found.message, SEARCH_WORDS)
    values["items"] = jsonable(found)
    # A page starts at a position among the index's candidates (the views
    # keep some of them), so the pages seen so far ride along in ``trail``:
    # every page but the last holds PAGE listings.
    base = "/portal?" + urlencode({k: v for k, v in typed.items() if v})
    values["first"] = len(trail) * PAGE + 1
    if trail:
        back = {"start": trail[-1], "trail": ".".join(map(str, trail[:-1]))}
        values["previous"] = f"{base}&{urlencode(back)}"
    if following and len(trail) < MAX_TRAIL:
        ahead = {"start": following[0], "trail": ".".join(map(str, [*trail, start]))}
        values["next"] = f"{base}&{urlencode(ahead)}"
    return values, None, ""


MAX_TRAIL: Final = 200
"""Most pages a search is followed through (then it has no next link)."""


def _position(text: str) -> int | None:
    """A page start: a row number of the search index (up to 19 ASCII digits), else None."""
    if not text or len(text) > 19 or not all("0" <= c <= "9" for c in text):
        return None
    return int(text)


def _start(request: Request) -> int:
    """The ``start`` parameter: where this page starts (0, the newest, when absent or bad)."""
    return _position(request.query_params.get("start", "0")) or 0


def _trail(request: Request) -> list[int]:
    """The ``trail`` parameter: the starts of the pages before this one (bad: none)."""
    text = request.query_params.get("trail", "")
    parts = [_position(p) for p in text.split(".")] if text else []
    if len(parts) > MAX_TRAIL:
        return []
    return [p for p in parts if p is not None] if None not in parts else []


async def portal(request: Request) -> Response:
    """``GET /portal?q=&side=&tag=&currency=&min_price=&max_price=&geohash=&author=&status=``."""
    values, refusal, field = _search_values(request)
    return show(
        request,
        "portal.html",
        values,
        active="portal",
        refusal=refusal,
        field=f"search.{field}",
    )


# -- the listing form -----------------------------------------------------------


def _time(text: str) -> str:
    """A date or duration typed in a field, as RFC 3339 (the CLI's ``--expires``)."""
    from samoorg.cli.when import parse_when

    return rfc3339(parse_when(text, now_ms()))


def listing_fields(form: Form, *, editing: bool) -> dict[str, Any]:
    """The API's body of ``listing.new`` (or ``listing.edit``) from the listing form.

    Tags are typed separated by commas or spaces; the price is a gift, an
    amount in a currency (with how often, for a new listing) or an exchange.
    Empty fields are left out of a new listing; an edit sends the fields of
    the form (filled with the listing's current values).
    """
    body: dict[str, Any] = {}
    text_fields = ("title", "description", "place", "unit")
    for name in text_fields if editing else (*text_fields, "geohash"):
        value = form.get(name)
        if value or editing:
            body[name] = value
    tags = [tag for tag in _TAG_SPLIT.split(form.get("tags")) if tag]
    if tags or not editing:
        body["tags"] = tags
    kind = form.get("price_kind", PRICE_GIFT)
    if kind == PRICE_AMOUNT:
        body.update(price=form.get("price"), currency=form.get("currency"))
        if form.get("frequency") and not editing:
            body["frequency"] = form.get("frequency")
    elif kind == PRICE_EXCHANGE:
        body["exchange"] = form.get("exchange")
    else:
        body["gift"] = True
    quantity = form.get("quantity")
    if quantity:
        if not quantity.isdigit() or len(quantity) > 13:
            raise MalformedInput(f"expected a quantity as a whole number, found {quantity[:20]!r}")
        body["quantity"] = int(quantity)
    if form.get("expires"):
        body["expires"] = _time(form.get("expires"))
    if editing and form.get("status"):
        body["status"] = form.get("status")
    if not editing:
        body["side"] = form.get("side")
    return body


async def listing_new(request: Request) -> Response:
    """``POST /portal/new``: publish an offer or a request (``listing.new``)."""
    form = await read_form(request)
    parsed = attempt(lambda: listing_fields(form, editing=False))
    result = parsed if isinstance(parsed, Refusal) else perform(request, "listing.new", parsed)
    if isinstance(result, Refusal):
        values, _, _ = _search_values(request)
        return show(
            request,
            "portal.html",
            values,
            active="portal",
            refusal=result,
            field="new." + field_of(result.message, LISTING_FIELDS),
            typed={f"new.{k}": v for k, v in form.values.items()},
        )
    return done(f"/portal/{result.shape['id']}")


# -- one listing ----------------------------------------------------------------


def _deals(request: Request) -> dict[bytes, list[PledgeOutcome]]:
    """The pledges made for each listing (not waiting nor void), oldest first."""
    live = context(request).live

    def compute() -> dict[bytes, list[PledgeOutcome]]:
        found: dict[bytes, list[PledgeOutcome]] = {}
        for outcome in live.views.pledges.pledges():
            record = outcome.record
            if record is None or record.listing is None or outcome.state in (WAITING, VOID):
                continue
            found.setdefault(record.listing, []).append(outcome)
        return found

    return live.memo(("web.deals",), DEAL_KINDS, compute)


def _reviews(request: Request) -> dict[bytes, list[Review]]:
    """The reviews that count, by listing."""
    live = context(request).live

    def compute() -> dict[bytes, list[Review]]:
        found: dict[bytes, list[Review]] = {}
        for review in live.views.reviews.reviews():
            found.setdefault(review.listing, []).append(review)
        return found

    return live.memo(("web.reviews",), REVIEW_KINDS, compute)


def _current_form(item: Mapping[str, Any]) -> dict[str, str]:
    """The edit form filled with a listing's current fields (keyed ``edit.<field>``)."""
    amount = item.get("amount") or {}
    ((currency, price),) = amount.items() if amount else (("", ""),)
    fields = {
        "title": item["title"],
        "tags": ", ".join(item["tags"]),
        "description": item["description"],
        "price_kind": item["price"],
        "price": price,
        "currency": currency,
        "exchange": item["wanted"] or "",
        "quantity": str(item["quantity"] or ""),
        "unit": item["unit"] or "",
        "place": item["place"] or "",
        "status": item["status"] if item["status"] in STATUSES else "active",
    }
    return {f"edit.{name}": value for name, value in fields.items()}


def _listing_values(request: Request, ident: str) -> dict[str, Any]:
    ctx = context(request)
    actor = forms.actor(request)
    views = ctx.live.views
    held = held_listing(views, actor.entry(ident, LISTING))
    at = now_ms()
    item = jsonable(listing_json(views, held, at))
    me = peer_id(ctx.me)
    deals = [jsonable(pledge_row(views, o, at)) for o in _deals(request).get(held.id, [])]
    reviews = [jsonable(review_json(r)) for r in _reviews(request).get(held.id, [])]
    return {
        "listing": item,
        "mine": held.author == ctx.me,
        "deals": deals,
        "my_deals": [d for d in deals if me in (d["from"], d["to"])],
        "reviews": reviews,
        "current": _current_form(item),
        "price_kinds": PRICE_KINDS,
        "listing_statuses": STATUSES,
        "ratings": range(5, 0, -1),
        "me": me,
    }


async def listing_page(request: Request) -> Response:
    """``GET /portal/{id}``: one listing, its deals and reviews, and its forms."""
    values = _listing_values(request, request.path_params["id"])
    return show(request, "listing.html", values, active="portal")


def _listing_refused(
    request: Request, form: Form, refusal: Refusal, prefix: str, fields: Mapping[str, Any]
) -> Response:
    values = _listing_values(request, request.path_params["id"])
    field = field_of(refusal.message, fields)
    if prefix == "edit" and not values["mine"]:
        field = "form"  # not the author: no form to show it next to
    return show(
        request,
        "listing.html",
        values,
        active="portal",
        refusal=refusal,
        field=f"{prefix}.{field}",
        typed={f"{prefix}.{k}": v for k, v in form.values.items()},
    )


def _after(request: Request) -> Response:
    return done(f"/portal/{request.path_params['id']}")


async def listing_edit(request: Request) -> Response:
    """``POST /portal/{id}/edit``: change one's listing (``listing.edit``)."""
    form = await read_form(request)
    parsed = attempt(lambda: listing_fields(form, editing=True))
    ident = request.path_params["id"]
    result = (
        parsed if isinstance(parsed, Refusal) else perform(request, "listing.edit", parsed, ident)
    )
    if isinstance(result, Refusal):
        return _listing_refused(request, form, result, "edit", LISTING_FIELDS)
    return _after(request)


async def listing_close(request: Request) -> Response:
    """``POST /portal/{id}/close``: mark one's listing done or withdrawn (``listing.close``)."""
    form = await read_form(request)
    body = {"withdraw": True} if form.get("withdraw") == "yes" else {}
    result = perform(request, "listing.close", body, request.path_params["id"])
    if isinstance(result, Refusal):
        return _listing_refused(request, form, result, "close", {"form": ()})
    return _after(request)


PLEDGE_FIELDS: Final = {
    "amount": (),
    "currency": ("currency",),
    "to": ("never seen", "your own listing", "neither", "participant"),
}


async def listing_pledge(request: Request) -> Response:
    """``POST /portal/{id}/pledge``: an intention for the listing (``pledge intend --listing``)."""
    form = await read_form(request)
    ident = request.path_params["id"]

    def run(actor: Actor) -> Done:
        amount = Amount.parse(form.get("amount"), form.get("currency"))
        return pledge_actions.intend(
            actor,
            amount=amount,
            to=form.get("to") or None,
            listing=ident,
            force=form.get("force") == "yes",
        )

    result = act(request, run)
    if isinstance(result, Refusal):
        fields = {"to": ()} if result.name in RESOLVER_ERRORS else PLEDGE_FIELDS
        return _listing_refused(request, form, result, "pledge", fields)
    return _after(request)


async def listing_review(request: Request) -> Response:
    """``POST /portal/{id}/review``: review the other party of a fulfilled deal (``review``)."""
    form = await read_form(request)
    rating = form.get("rating")
    body: dict[str, Any] = {
        "pledge": form.get("pledge"),
        "rating": int(rating) if rating.isdigit() and len(rating) < 3 else rating,
    }
    if form.get("text"):
        body["text"] = form.get("text")
    result = perform(request, "review", body)
    if isinstance(result, Refusal):
        fields = {"pledge": (), "rating": ("rating",), "text": ("text",)}
        return _listing_refused(request, form, result, "review", fields)
    return _after(request)


ROUTES: Final = [
    Route("/portal", portal),
    Route("/portal/new", listing_new, methods=["POST"]),
    Route("/portal/{id}", listing_page),
    Route("/portal/{id}/edit", listing_edit, methods=["POST"]),
    Route("/portal/{id}/close", listing_close, methods=["POST"]),
    Route("/portal/{id}/pledge", listing_pledge, methods=["POST"]),
    Route("/portal/{id}/review", listing_review, methods=["POST"]),
]
