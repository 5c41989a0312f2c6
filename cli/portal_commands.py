"""The portal: ``listing offer|request|edit|close|show|list|search`` and ``review``.

Writes go through the one write path (:func:`samoorg.cli.community.record`);
``list`` and ``search`` ask the store's full-text index (through the daemon
when it runs: ``GET /listings``), ``show`` the listing view (``GET
/listings/{id}``). Shapes are :mod:`samoorg.node.api.portal_shapes`, so
``--json`` equals the API's answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from samoorg.cli.community import load_views, now, record, resolve_entry, resolve_member
from samoorg.cli.context import Session, session
from samoorg.cli.output import format_time, print_json, print_table
from samoorg.cli.paging import (
    DEFAULT_LIMIT,
    AllFlag,
    CursorOption,
    LimitOption,
    Page,
    paging,
    print_next_page,
)
from samoorg.crdt.errors import MalformedInput, RuleViolation
from samoorg.crdt.kinds.listings import (
    CATEGORIES,
    DONE,
    FREQUENCIES,
    LISTING,
    LISTING_EDIT,
    OFFER,
    PRICE_AMOUNT,
    PRICE_EXCHANGE,
    PRICE_GIFT,
    REQUEST,
    SHOWN_STATUSES,
    STATUSES,
    WITHDRAWN,
    Listing,
    ListingFields,
    edit_body,
    listing_body,
)
from samoorg.crdt.money import Amount
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.views import Views

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IdArgument = Annotated[str, typer.Argument(help="The listing's id (or a unique hex prefix).")]
listing_app = typer.Typer(
    help="The portal of goods and services: offers and requests.", no_args_is_help=True
)
_TAG_HELP = f"A tag (repeatable); at least one category: {', '.join(CATEGORIES)}."


def _price(
    price: str | None, currency: str | None, gift: bool, exchange: str | None
) -> dict[str, Any]:
    chosen = sum((price is not None, gift, exchange is not None))
    if chosen > 1:
        raise typer.BadParameter("give one of --price, --gift or --exchange")
    if price is not None:
        if currency is None:
            raise typer.BadParameter("--price needs --currency", param_hint="--currency")
        amount = Amount.parse(price, currency)
        return {"price": PRICE_AMOUNT, "amount": amount.minor, "currency": amount.currency}
    if exchange is not None:
        return {"price": PRICE_EXCHANGE, "wanted": exchange}
    return {"price": PRICE_GIFT} if gift or chosen == 0 else {}


def _when(text: str | None) -> int | None:
    from samoorg.cli.when import parse_when

    return None if text is None else parse_when(text, now())


def _publish(ctx: typer.Context, fields: ListingFields, as_json: bool) -> None:
    state = session(ctx)
    entry = record(state, LISTING, listing_body(fields))
    _show_local(state, entry.id, as_json, f"listing {entry.id.hex()}")


Title = Annotated[str, typer.Argument(help="A short title, e.g. 'Guitar lessons'.")]
Tags = Annotated[list[str], typer.Option("--tag", help=_TAG_HELP)]
Description = Annotated[str, typer.Option("--description", help="What, how, when.")]
PriceOption = Annotated[
    str | None, typer.Option("--price", help="An amount, e.g. 20 or 19.50 (with --currency).")
]
CurrencyOption = Annotated[str | None, typer.Option("--currency", help="ISO 4217 code.")]
GiftFlag = Annotated[bool, typer.Option("--gift", help="Free of charge (the default).")]
ExchangeOption = Annotated[
    str | None, typer.Option("--exchange", help="What you want in return (no money).")
]
PerOption = Annotated[
    str | None, typer.Option("--per", help=f"How often the price is due: {', '.join(FREQUENCIES)}.")
]
QuantityOption = Annotated[int | None, typer.Option("--quantity", min=1, help="How much.")]
UnitOption = Annotated[
    str | None, typer.Option("--unit", help="Unit of the quantity: hours for services, kg, ...")
]
PlaceOption = Annotated[str, typer.Option("--place", help="Where, as text.")]
GeohashOption = Annotated[str, typer.Option("--geohash", help="Where, as a geohash (1-12).")]
FromOption = Annotated[str | None, typer.Option("--from", help="Available from (date).")]
UntilOption = Annotated[str | None, typer.Option("--until", help="Available until (date).")]
ExpiresOption = Annotated[
    str | None, typer.Option("--expires", help="Stop showing it as active: a date or 30d.")
]


def _publisher(side: str, summary: str) -> Any:
    """The ``listing offer`` or ``listing request`` command."""

    def command(
        ctx: typer.Context,
        title: Title,
        tag: Tags,
        description: Description = "",
        price: PriceOption = None,
        currency: CurrencyOption = None,
        gift: GiftFlag = False,
        exchange: ExchangeOption = None,
        per: PerOption = None,
        quantity: QuantityOption = None,
        unit: UnitOption = None,
        place: PlaceOption = "",
        geohash: GeohashOption = "",
        available_from: FromOption = None,
        available_until: UntilOption = None,
        expires: ExpiresOption = None,
        as_json: JsonFlag = False,
    ) -> None:
        fields = ListingFields(
            side=side,
            title=title,
            tags=tuple(tag),
            description=description,
            frequency=per,
            quantity=quantity,
            unit=unit or ("" if quantity is None else "items"),
            place=place,
            geohash=geohash.lower(),
            available_from=_when(available_from),
            available_until=_when(available_until),
            expires=_when(expires),
            **_price(price, currency, gift, exchange),
        )
        _publish(ctx, fields, as_json)

    command.__doc__ = summary
    return command


listing_offer = _publisher(
    OFFER, "Offer goods or a service (a service in hours: --quantity 3 --unit hours)."
)
listing_request = _publisher(REQUEST, "Ask for goods or a service; --price is what you would pay.")


def _own_listing(state: Session, prefix: str) -> tuple[Views, Listing]:
    from samoorg.node.api.portal_shapes import held_listing

    views = load_views(state)
    listing = held_listing(views, resolve_entry(state, prefix, LISTING))
    if listing.author != state.public_key():
        raise RuleViolation("only the listing's author can edit it")
    return views, listing


def _write_edit(state: Session, listing: Listing, fields: ListingFields, as_json: bool) -> None:
    record(state, LISTING_EDIT, edit_body(listing.id, fields))
    _show_local(state, listing.id, as_json, f"listing {listing.id.hex()} edited")


def listing_edit(
    ctx: typer.Context,
    listing: IdArgument,
    title: Annotated[str | None, typer.Option("--title", help="A new title.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Replace the tags.")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    price: PriceOption = None,
    currency: CurrencyOption = None,
    gift: GiftFlag = False,
    exchange: ExchangeOption = None,
    quantity: QuantityOption = None,
    unit: UnitOption = None,
    place: Annotated[str | None, typer.Option("--place")] = None,
    expires: ExpiresOption = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"One of {', '.join(STATUSES)}.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change your listing; what you do not give stays as it is (the last edit wins)."""
    state = session(ctx)
    _, held = _own_listing(state, listing)
    fields = held.fields
    changes: dict[str, Any] = {}
    if price is not None or gift or exchange is not None:
        priced = _price(price, currency or fields.currency, gift, exchange)
        changes.update(amount=None, currency=None, wanted="", frequency=fields.frequency, **priced)
        if priced["price"] != PRICE_AMOUNT:
            changes["frequency"] = None
    given = {
        "title": title,
        "tags": tuple(tag) if tag else None,
        "description": description,
        "quantity": quantity,
        "unit": unit,
        "place": place,
        "expires": _when(expires),
        "status": status,
    }
    changes.update({k: v for k, v in given.items() if v is not None})
    if not changes:
        raise MalformedInput("expected something to change (see 'samoorg listing edit --help')")
    _write_edit(state, held, replace(fields, **changes), as_json)


def listing_close(
    ctx: typer.Context,
    listing: IdArgument,
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Withdrawn (not done): it did not happen.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Mark your listing done (or withdrawn); it no longer shows as active."""
    state = session(ctx)
    _, held = _own_listing(state, listing)
    _write_edit(state, held, replace(held.fields, status=WITHDRAWN if withdraw else DONE), as_json)


def _show_local(state: Session, listing_id: bytes, as_json: bool, summary: str) -> None:
    from samoorg.node.api.portal_shapes import listing_json

    views = load_views(state)
    listing = views.listings.get(listing_id)
    assert listing is not None
    _print_listing(listing_json(views, listing, now()), as_json, summary)


def _price_text(item: dict[str, Any]) -> str:
    if item["price"] == PRICE_AMOUNT:
        ((code, value),) = item["amount"].items()
        per = f" {item['frequency']}" if item["frequency"] else ""
        return f"{value} {code}{per}"
    if item["price"] == PRICE_EXCHANGE:
        return f"exchange for {item['wanted']}"
    return "gift"


def _print_listing(item: dict[str, Any], as_json: bool, summary: str = "") -> None:
    if as_json:
        print_json(item)
        return
    if summary:
        typer.echo(summary)
    quantity = f"{item['quantity']} {item['unit']}" if item["quantity"] else ""
    rows = [
        ("id", item["id"]),
        ("side", item["side"]),
        ("title", item["title"]),
        ("by", item["author"] + (" FORKED" if item["forked"] else "")),
        ("tags", ", ".join(item["tags"])),
        ("price", _price_text(item)),
        ("quantity", quantity),
        ("place", " ".join(p for p in (item["place"], item["geohash"]) if p)),
        ("status", item["status"]),
        ("expires (UTC)", format_time(item["expires"]) if item["expires"] else ""),
        ("posted (UTC)", format_time(item["created"])),
        ("edits", item["edits"]),
        ("description", item["description"]),
    ]
    print_table(None, ["field", "value"], [r for r in rows if r[1] != ""])


def listing_show(ctx: typer.Context, listing: IdArgument, as_json: JsonFlag = False) -> None:
    """One listing with its current fields."""
    state = session(ctx)

    def local() -> dict[str, Any]:
        from samoorg.node.api.portal_shapes import held_listing, listing_json

        views = load_views(state)
        held = held_listing(views, resolve_entry(state, listing, LISTING))
        return listing_json(views, held, now())

    item = state.ask(lambda daemon: daemon.get(f"/listings/{listing.strip()}"), local)
    _print_listing(item, as_json)


def _search(
    ctx: typer.Context, params: dict[str, Any], limit: int, every: bool, cursor: str | None
) -> tuple[Session, Page]:
    state = session(ctx)
    asked = paging(limit, every, cursor)
    given = {k: str(v) for k, v in params.items() if v is not None and v != ""}

    def local() -> Page:
        from samoorg.node.api.portal_shapes import listing_query, search_page

        query = listing_query(given, now())
        views = load_views(state)
        return Page(*search_page(state.store(), views, query, asked.start, asked.limit))

    return state, state.ask(lambda daemon: daemon.page("/listings", given, asked), local)


def _print_page(command: list[str], page: Page, as_json: bool) -> None:
    if as_json:
        print_json(page.as_json())
        return
    print_table(
        None,
        ["listing", "side", "title", "price", "status", "by", "posted (UTC)"],
        [
            (
                r["id"][:12],
                r["side"],
                r["title"],
                _price_text(r),
                r["status"],
                "…" + r["author"][-12:],
                format_time(r["created"]),
            )
            for r in page.items
        ],
    )
    print_next_page(command, page)


SideOption = Annotated[str | None, typer.Option("--side", help="offer or request.")]
TagOption = Annotated[str | None, typer.Option("--tag", help="Only listings with this tag.")]
StatusOption = Annotated[
    str | None, typer.Option("--status", help=f"One of {', '.join(SHOWN_STATUSES)}.")
]
AuthorOption = Annotated[str | None, typer.Option("--author", help="Only this participant's.")]


def listing_list(
    ctx: typer.Context,
    side: SideOption = None,
    tag: TagOption = None,
    status: StatusOption = "active",
    author: AuthorOption = None,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Listings, newest first (active ones unless --status says otherwise)."""
    state = session(ctx)
    key = peer_id(resolve_member(state, author)) if author else None
    params = {"side": side, "tag": tag, "status": status, "author": key}
    _, page = _search(ctx, params, limit, every, cursor)
    _print_page(["listing", "list"], page, as_json)


def listing_search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find in titles, descriptions, tags.")],
    side: SideOption = None,
    tag: TagOption = None,
    currency: Annotated[str | None, typer.Option("--currency", help="Priced in it.")] = None,
    min_price: Annotated[str | None, typer.Option("--min-price", help="At least.")] = None,
    max_price: Annotated[str | None, typer.Option("--max-price", help="At most.")] = None,
    geohash: Annotated[str | None, typer.Option("--near", help="A geohash prefix.")] = None,
    author: AuthorOption = None,
    status: StatusOption = "active",
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Full-text search of listings (every word as a prefix), newest first, with filters."""
    state = session(ctx)
    if (min_price or max_price) and currency is None:
        raise typer.BadParameter("a price range needs --currency", param_hint="--currency")

    def minor(value: str | None) -> int | None:
        return None if value is None or currency is None else Amount.parse(value, currency).minor

    params = {
        "q": text,
        "side": side,
        "tag": tag,
        "currency": currency.upper() if currency else None,
        "min_price": minor(min_price),
        "max_price": minor(max_price),
        "geohash": geohash.lower() if geohash else None,
        "author": peer_id(resolve_member(state, author)) if author else None,
        "status": status,
    }
    _, page = _search(ctx, params, limit, every, cursor)
    _print_page(["listing", "search", text], page, as_json)


def deal_fields(state: Session, prefix: str, to: str | None) -> dict[str, Any]:
    """``{"to": key, "listing": id}`` of a pledge for a listing (``pledge intend --listing``).

    The beneficiary is ``to``, or the listing's author when you are not the
    author; a review needs the listing to be by one of the two parties.
    """
    from samoorg.node.api.portal_shapes import held_listing

    views = load_views(state)
    listing = held_listing(views, resolve_entry(state, prefix, LISTING))
    me = state.public_key()
    key = resolve_member(state, to) if to is not None else listing.author
    if key == me:
        raise RuleViolation("your own listing: name who you pay or give to with --to")
    if listing.author not in (me, key):
        raise RuleViolation("the listing is by neither you nor the one you pledge to")
    return {"to": key, "listing": listing.id}


def review(
    ctx: typer.Context,
    pledge: Annotated[str, typer.Argument(help="The pledge (intention) id of the deal.")],
    rating: Annotated[int, typer.Argument(min=1, max=5, help="1 poor ... 5 excellent.")],
    text: Annotated[str, typer.Option("--text", help="What went well or not.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Review the other party of a fulfilled deal made through a listing (once per deal)."""
    from samoorg.crdt.kinds.reviews import REVIEW, review_body
    from samoorg.crdt.records import INTEND
    from samoorg.node.api.shapes import created_json

    state = session(ctx)
    entry = resolve_entry(state, pledge, INTEND)
    views = load_views(state)
    outcome = views.pledges.pledge(entry.id)
    if outcome is None or outcome.commit is None:
        raise RuleViolation("only a fulfilled commitment can be reviewed")
    made = record(state, REVIEW, review_body(entry.id, outcome.commit.id, rating, text))
    me = state.public_key()
    subject = outcome.beneficiary if outcome.author == me else outcome.author
    assert subject is not None
    shown = created_json(made, subject=peer_id(subject), rating=rating)
    if as_json:
        print_json(shown)
        return
    typer.echo(f"reviewed {shown['subject']}: {rating}/5")
    typer.echo(f"review {shown['id']}")


def register(app: typer.Typer) -> None:
    """Add ``listing`` and ``review`` to ``app``."""
    listing_app.command("offer")(listing_offer)
    listing_app.command("request")(listing_request)
    listing_app.command("edit")(listing_edit)
    listing_app.command("close")(listing_close)
    listing_app.command("show")(listing_show)
    listing_app.command("list")(listing_list)
    listing_app.command("search")(listing_search)
    app.add_typer(listing_app, name="listing")
    app.command("review")(review)
