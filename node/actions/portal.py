"""Portal actions: publish, edit and close a listing; review the other party of a deal.

Each answers the listing's JSON shape (:func:`~samoorg.node.api.portal_shapes.listing_json`,
as ``listing show --json``) or, for a review, :func:`~samoorg.node.api.shapes.created_json`
with the review's subject and rating. Only a listing's author edits or closes it;
a review needs a fulfilled commitment of a pledge for a listing (§8.10).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.actions import Actor, Done, now
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.kinds.listings import Listing, ListingFields
    from samoorg.protocol import dcbor


def price_fields(
    price: str | None, currency: str | None, gift: bool, exchange: str | None
) -> dict[str, Any]:
    """The price fields of a listing from ``--price``/``--currency``, ``--gift``, ``--exchange``.

    Empty when none is given (an edit keeps the price; a new listing is a gift).
    """
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.crdt.kinds.listings import PRICE_AMOUNT, PRICE_EXCHANGE, PRICE_GIFT

    if sum((price is not None, gift, exchange is not None)) > 1:
        raise MalformedInput("expected one of a price, gift or exchange, found several")
    if price is not None:
        if currency is None:
            raise MalformedInput("expected a currency with the price")
        amount = Amount.parse(price, currency)
        return {"price": PRICE_AMOUNT, "amount": amount.minor, "currency": amount.currency}
    if exchange is not None:
        return {"price": PRICE_EXCHANGE, "wanted": exchange}
    return {"price": PRICE_GIFT} if gift else {}


def org_field(actor: Actor, org: str) -> bytes:
    """The id of the org ``org`` names, which we must be a member of (§8.14).

    A peer would show a listing naming an org its author is not a member of
    without the org; we refuse to write one.
    """
    from samoorg.node.api.org_shapes import held_org

    found = held_org(actor.views, org)
    if not found.is_member(actor.me):
        raise RuleViolation(
            f"you are not a member of the org {found.fields.name!r}: "
            "a listing on its behalf would not count for it"
        )
    return found.id


def _shown(actor: Actor, listing_id: bytes, entry: Any) -> Done:
    from samoorg.node.api.portal_shapes import listing_json

    views = actor.views
    listing = views.listings.get(listing_id)
    assert listing is not None
    return Done(listing_json(views, listing, now()), (entry,))


def listing_new(
    actor: Actor,
    *,
    side: str,
    title: str,
    tags: list[str],
    description: str = "",
    price: dict[str, Any],
    frequency: str | None = None,
    quantity: int | None = None,
    unit: str | None = None,
    place: str = "",
    geohash: str = "",
    available_from: int | None = None,
    available_until: int | None = None,
    expires: int | None = None,
    org: str | None = None,
) -> Done:
    """Publish an offer or a request (``price``: the fields of :func:`price_fields`).

    ``org``: on behalf of this org (we must be a member, :func:`org_field`).
    """
    from samoorg.crdt.kinds.listings import LISTING, PRICE_AMOUNT, ListingFields, listing_body

    priced = dict(price) or {"price": "gift"}
    if priced["price"] == PRICE_AMOUNT:
        priced["frequency"] = frequency
    elif frequency is not None:
        raise MalformedInput("expected a frequency only with a price")
    fields = ListingFields(
        side=side,
        title=title,
        tags=tuple(tags),
        description=description,
        quantity=quantity,
        unit=unit or ("" if quantity is None else "items"),
        place=place,
        geohash=geohash.lower(),
        available_from=available_from,
        available_until=available_until,
        expires=expires,
        org=org_field(actor, org) if org is not None else None,
        **priced,
    )
    entry = actor.write(LISTING, listing_body(fields))
    return _shown(actor, entry.id, entry)


def own_listing(actor: Actor, ref: str) -> Listing:
    """The valid listing named by ``ref``, which must be ours."""
    from samoorg.crdt.kinds.listings import LISTING
    from samoorg.node.api.portal_shapes import held_listing

    listing = held_listing(actor.views, actor.entry(ref, LISTING))
    if listing.author != actor.me:
        raise RuleViolation("only the listing's author can edit it")
    return listing


def _write_edit(actor: Actor, listing: Listing, fields: ListingFields) -> Done:
    from samoorg.crdt.kinds.listings import LISTING_EDIT, edit_body

    entry = actor.write(LISTING_EDIT, edit_body(listing.id, fields))
    return _shown(actor, listing.id, entry)


def listing_edit(
    actor: Actor, *, listing: str, changes: dict[str, Any], price: dict[str, Any]
) -> Done:
    """Replace some fields of our listing (``None``: unchanged); the last edit wins.

    ``price`` is :func:`price_fields` of the new price (empty: unchanged).
    """
    from samoorg.crdt.kinds.listings import PRICE_AMOUNT, PRICE_EXCHANGE

    held = own_listing(actor, listing)
    wanted = {k: v for k, v in changes.items() if v is not None}
    if "org" in wanted:
        wanted["org"] = org_field(actor, wanted["org"])
    if wanted.pop("no_org", False):
        wanted["org"] = None
    if "tags" in wanted:
        wanted["tags"] = tuple(wanted["tags"])
    if price:
        wanted.update(price)
        if price["price"] != PRICE_AMOUNT:
            wanted.update(amount=None, currency=None, frequency=None)
        if price["price"] != PRICE_EXCHANGE:
            wanted["wanted"] = ""
    if not wanted:
        raise MalformedInput("expected something to change")
    fields = replace(held.fields, **wanted)
    if fields.quantity is not None and not fields.unit:
        fields = replace(fields, unit="items")
    return _write_edit(actor, held, fields)


def listing_close(actor: Actor, *, listing: str, withdraw: bool = False) -> Done:
    """Mark our listing done (or withdrawn)."""
    from samoorg.crdt.kinds.listings import DONE, WITHDRAWN

    held = own_listing(actor, listing)
    return _write_edit(actor, held, replace(held.fields, status=WITHDRAWN if withdraw else DONE))


def deal_fields(actor: Actor, listing: str, to: str | None) -> dict[str, dcbor.Value]:
    """``{"to": key, "listing": id}`` of a pledge for a listing (``pledge intend --listing``).

    The beneficiary is ``to``, or the listing's author when we are not the
    author; a review needs the listing to be by one of the two parties.
    """
    from samoorg.crdt.kinds.listings import LISTING
    from samoorg.node.api.portal_shapes import held_listing

    held = held_listing(actor.views, actor.entry(listing, LISTING))
    key = actor.member(to) if to is not None else held.author
    if key == actor.me:
        raise RuleViolation("your own listing: name who you pay or give to with --to")
    if held.author not in (actor.me, key):
        raise RuleViolation("the listing is by neither you nor the one you pledge to")
    return {"to": key, "listing": held.id}


def review(actor: Actor, *, pledge: str, rating: int, text: str = "") -> Done:
    """Review the other party of the fulfilled commitment of ``pledge`` (once)."""
    from samoorg.crdt.kinds.pledges import INTEND
    from samoorg.crdt.kinds.reviews import REVIEW, review_body
    from samoorg.node.api.shapes import created_json

    held = actor.entry(pledge, INTEND)
    outcome = actor.views.pledges.pledge(held.id)
    if outcome is None or outcome.commit is None:
        raise RuleViolation("only a fulfilled commitment can be reviewed")
    entry = actor.write(REVIEW, review_body(held.id, outcome.commit.id, rating, text))
    subject = outcome.beneficiary if outcome.author == actor.me else outcome.author
    assert subject is not None
    return Done(created_json(entry, subject=peer_id(subject), rating=rating), (entry,))
