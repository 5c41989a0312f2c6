"""The portal: ``listing offer|request|edit|close|show|list|search`` and ``review``.

Writes go through the one write path (:func:`samoorg.cli.community.act`);
``list`` and ``search`` ask the store's full-text index (through the daemon
when it runs: ``GET /listings``), ``show`` the listing view (``GET
/listings/{id}``). Shapes are :mod:`samoorg.node.api.portal_shapes`, so
``--json`` equals the API's answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from samoorg.cli.community import act, load_views, now, resolve_entry
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
from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.kinds.listings import (
    CATEGORIES,
    FREQUENCIES,
    LISTING,
    OFFER,
    PRICE_AMOUNT,
    PRICE_EXCHANGE,
    REQUEST,
    SHOWN_STATUSES,
    STATUSES,
)
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    pass

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IdArgument = Annotated[str, typer.Argument(help="The listing's id (or a unique hex prefix).")]
listing_app = typer.Typer(
    help="The portal of goods and services: offers and requests.", no_args_is_help=True
)
_TAG_HELP = f"A tag (repeatable); at least one category: {', '.join(CATEGORIES)}."


def _time(text: str | None) -> str | None:
    """A date or duration typed on the command line, as RFC 3339 for the action's body."""
    from samoorg.cli.when import parse_when
    from samoorg.node.api.times import rfc3339

    return None if text is None else rfc3339(parse_when(text, now()))


def _price_body(
    price: str | None, currency: str | None, gift: bool, exchange: str | None
) -> dict[str, Any]:
    if price is not None and currency is None:
        raise typer.BadParameter("--price needs --currency", param_hint="--currency")
    if price is not None:
        Amount.parse(price, currency or "")  # a malformed amount is bad usage
    given = {"price": price, "currency": currency, "gift": gift or None, "exchange": exchange}
    return {k: v for k, v in given.items() if v is not None}


def _write(
    ctx: typer.Context, name: str, body: dict[str, Any], ident: str | None, as_json: bool
) -> None:
    done = act(session(ctx), name, {k: v for k, v in body.items() if v is not None}, ident)
    _print_listing(done.shape, as_json, f"listing {done.shape['id']}")


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
OrgOption = Annotated[
    str | None,
    typer.Option("--org", help="On behalf of an org you are a member of (id, 6+ hex, or name)."),
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
        org: OrgOption = None,
        as_json: JsonFlag = False,
    ) -> None:
        body = {
            "side": side,
            "title": title,
            "tags": list(tag),
            "description": description or None,
            **_price_body(price, currency, gift, exchange),
            "frequency": per,
            "quantity": quantity,
            "unit": unit,
            "place": place or None,
            "geohash": geohash or None,
            "from": _time(available_from),
            "until": _time(available_until),
            "expires": _time(expires),
            "org": org,
        }
        _write(ctx, "listing.new", body, None, as_json)

    command.__doc__ = summary
    return command


listing_offer = _publisher(
    OFFER, "Offer goods or a service (a service in hours: --quantity 3 --unit hours)."
)
listing_request = _publisher(REQUEST, "Ask for goods or a service; --price is what you would pay.")


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
    org: OrgOption = None,
    no_org: Annotated[
        bool, typer.Option("--no-org", help="No longer on behalf of an org.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change your listing; what you do not give stays as it is (the last edit wins)."""
    if org is not None and no_org:
        raise typer.BadParameter("expected --org or --no-org, not both", param_hint="--org")
    body = {
        "title": title,
        "tags": tag or None,
        "description": description,
        **_price_body(price, currency, gift, exchange),
        "quantity": quantity,
        "unit": unit,
        "place": place,
        "expires": _time(expires),
        "status": status,
        "org": org,
        "no_org": no_org or None,
    }
    _write(ctx, "listing.edit", body, listing.strip(), as_json)


def listing_close(
    ctx: typer.Context,
    listing: IdArgument,
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="Withdrawn (not done): it did not happen.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Mark your listing done (or withdrawn); it no longer shows as active."""
    _write(ctx, "listing.close", {"withdraw": withdraw or None}, listing.strip(), as_json)


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
        ("for org", f"{item['org_name']} ({item['org'][:12]})" if item.get("org") else ""),
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
        from samoorg.node.api.portal_shapes import held_listing, listing_detail_json

        views = load_views(state)
        held = held_listing(views, resolve_entry(state, listing, LISTING))
        return listing_detail_json(views, held, now())

    item = state.ask(lambda daemon: daemon.get(f"/listings/{listing.strip()}"), local)
    _print_listing(item, as_json)
    if as_json:
        return
    names = state.names()
    reviews = item["reviews"]
    typer.echo(f"{len(reviews)} review{'' if len(reviews) == 1 else 's'} of deals made through it")
    for r in reviews:
        by, about = names.label_text(r["reviewer"]), names.label_text(r["subject"])
        typer.echo(f"  {r['rating']}/5  by {by} of {about}, {format_time(r['time'])} UTC")
        if r["text"]:
            typer.echo(f"        {r['text']}")


def _search(
    ctx: typer.Context, params: dict[str, Any], limit: int, every: bool, cursor: str | None
) -> tuple[Session, Page]:
    state = session(ctx)
    asked = paging(limit, every, cursor)
    given = {k: str(v) for k, v in params.items() if v is not None and v != ""}

    def local() -> Page:
        from samoorg.node.api.portal_shapes import listing_query, search_page

        views = load_views(state)
        query = listing_query(given, now(), views)
        return Page(*search_page(state.store(), views, query, asked.start, asked.limit))

    return state, state.ask(lambda daemon: daemon.page("/listings", given, asked), local)


ORG_WIDTH = 14
"""Characters of an org's name shown in a listing table (longer names end with ``…``)."""


def _org_text(item: dict[str, Any]) -> str:
    """The name of the org a listing counts for, cut to :data:`ORG_WIDTH` (none: empty)."""
    name = item.get("org_name") or ""
    return name if len(name) <= ORG_WIDTH else name[: ORG_WIDTH - 1] + "…"


def _print_page(command: list[str], page: Page, as_json: bool) -> None:
    if as_json:
        print_json(page.as_json())
        return
    print_table(
        None,
        ["listing", "side", "title", "price", "status", "by", "org", "posted (UTC)"],
        [
            (
                r["id"][:12],
                r["side"],
                r["title"],
                _price_text(r),
                r["status"],
                "…" + r["author"][-12:],
                _org_text(r),
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
OrgFilter = Annotated[
    str | None, typer.Option("--org", help="Only listings that count for this org (id or name).")
]


def listing_list(
    ctx: typer.Context,
    side: SideOption = None,
    tag: TagOption = None,
    status: StatusOption = "active",
    author: AuthorOption = None,
    org: OrgFilter = None,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Listings, newest first (active ones unless --status says otherwise)."""
    state = session(ctx)
    key = peer_id(state.resolve_member(author)) if author else None
    params = {"side": side, "tag": tag, "status": status, "author": key, "org": org}
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
    org: OrgFilter = None,
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
        "author": peer_id(state.resolve_member(author)) if author else None,
        "org": org,
        "status": status,
    }
    _, page = _search(ctx, params, limit, every, cursor)
    _print_page(["listing", "search", text], page, as_json)


def review(
    ctx: typer.Context,
    pledge: Annotated[str, typer.Argument(help="The pledge (intention) id of the deal.")],
    rating: Annotated[int, typer.Argument(min=1, max=5, help="1 poor ... 5 excellent.")],
    text: Annotated[str, typer.Option("--text", help="What went well or not.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Review the other party of a fulfilled deal made through a listing (once per deal)."""
    body = {"pledge": pledge, "rating": rating, **({"text": text} if text else {})}
    shown = act(session(ctx), "review", body).shape
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
