"""Trust-list commands: ``invite create/accept/list/revoke`` and ``trust list/pool``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samoorg.cli.community import (
    act,
    load_views,
    money,
    now,
    peer_label,
    print_notes,
    totals_text,
)
from samoorg.cli.context import session
from samoorg.cli.output import count, format_time, print_json, print_table
from samoorg.cli.paging import (
    DEFAULT_LIMIT,
    AllFlag,
    CursorOption,
    LimitOption,
    Page,
    page_of,
    paging,
    print_next_page,
)
from samoorg.crdt.algorithms.money import Amount
from samoorg.node.api.shapes import invite_row, listed_invites, pool_json, trust_rows
from samoorg.protocol.ids import parse_peer_id

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
HopsOption = Annotated[
    int | None, typer.Option("--hops", min=1, help="Only members within N personal links.")
]
DEFAULT_EXPIRY = "14d"

invite_app = typer.Typer(
    help="Invite people you know personally to a mutual guarantee.", no_args_is_help=True
)
trust_app = typer.Typer(help="Your trust list and its pool of intentions.", no_args_is_help=True)


@invite_app.command("create")
def invite_create(
    ctx: typer.Context,
    amount: Annotated[str, typer.Option("--amount", help="Your guarantee, e.g. 100.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, e.g. EUR.")],
    note: Annotated[str, typer.Option("--note", help="A personal message.")] = "",
    expires: Annotated[
        str, typer.Option("--expires", help="Validity, e.g. 14d, 48h, 2w.")
    ] = DEFAULT_EXPIRY,
    addr: Annotated[
        list[str] | None,
        typer.Option("--addr", help="A multiaddr where the invitee can reach you (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an invite and print its one-line code; send the code privately."""
    from samoorg.cli.when import parse_duration
    from samoorg.node.api.times import rfc3339

    state = session(ctx)
    guarantee = Amount.parse(amount, currency)
    until = now() + parse_duration(expires)
    body: dict[str, Any] = {"amount": amount, "currency": currency, "expires": rfc3339(until)}
    if note:
        body["note"] = note
    if addr:
        body["addrs"] = addr
    shape = act(state, "invite.create", body).shape
    if as_json:
        print_json(shape)
        return
    typer.echo(shape["code"])
    typer.echo(
        f"invite {shape['invite'][:12]}: you guarantee {money(guarantee)}; valid until "
        f"{format_time(shape['expires'])}. Send the code above privately; it is shown only once.",
        err=True,
    )


@invite_app.command("accept")
def invite_accept(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The invite code you received.")],
    amount: Annotated[
        str | None, typer.Option("--amount", help="Your guarantee (default: the inviter's).")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency (default: the inviter's).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Accept an invite: record your reciprocal guarantee and prove you hold the code."""
    from samoorg.protocol.invite_code import parse_invite_code

    parse_invite_code(code)  # a damaged code is bad usage before anything is asked
    body = {"code": code}
    if amount is not None:
        body["amount"] = amount
    if currency is not None:
        body["currency"] = currency
    done = act(session(ctx), "invite.accept", body)
    result = done.shape
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"accepted invite {result['invite'][:12]} from {result['inviter']}: "
        f"they guarantee {totals_text(result['their_guarantee'])}, "
        f"you guarantee {totals_text(result['your_guarantee'])}"
    )
    print_notes(done)
    for multiaddr in result["addrs"]:
        typer.echo(f"inviter address: {multiaddr}", err=True)


@invite_app.command("list")
def invite_list(
    ctx: typer.Context,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Invites you sent and invites you accepted, with their state."""
    state = session(ctx)
    asked = paging(limit, every, cursor)

    def local() -> Page:
        current, at = load_views(state), now()
        listed, next_cursor = page_of(listed_invites(current, state.me()), asked)
        return Page([invite_row(*invite, at) for invite in listed], next_cursor)

    page = state.ask(lambda daemon: daemon.page("/invites", {}, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    print_table(
        None,
        ["invite", "direction", "with", "guarantee", "state", "expires (UTC)"],
        [
            (
                r["invite"][:12],
                r["direction"],
                peer_label(names, r["with"]),
                totals_text(r["guarantee"]),
                r["state"],
                format_time(r["expires"]) if r["expires"] else "",
            )
            for r in page.items
        ],
    )
    print_next_page(["invite", "list"], page)


@invite_app.command("revoke")
def invite_revoke(
    ctx: typer.Context,
    invite_id: Annotated[str, typer.Argument(metavar="ID", help="Invite id (a unique prefix).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a pending invite you sent: its code can no longer be accepted."""
    shape = act(session(ctx), "invite.revoke", {}, invite_id).shape
    if as_json:
        print_json(shape)
        return
    typer.echo(f"revoked invite {shape['invite'][:12]} (entry {shape['revocation'][:12]})")


@trust_app.command("list")
def trust_list(
    ctx: typer.Context,
    hops: HopsOption = None,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Everyone reachable from you over mutual guarantees, with the chain of contacts.

    Participants flagged by a fork proof follow, marked FORKED: every view
    ignores their entries, so they have no edges (distance null).
    """
    state = session(ctx)
    asked = paging(limit, every, cursor)
    page = state.ask(
        lambda daemon: daemon.page("/trust/list", {"hops": hops}, asked),
        lambda: Page(*page_of(trust_rows(load_views(state), state.me(), hops), asked)),
    )
    if as_json:
        print_json(page.as_json())
        return
    table: list[tuple[Any, ...]] = []
    names = state.names()
    for row in page.items:
        key = parse_peer_id(row["id"])
        if row["distance"] is None:
            table.append((names.label(key, you=False), "", "", "", "FORKED (excluded)"))
            continue
        table.append(
            (
                names.label(key, you=False) + (" (you)" if key == names.me else ""),
                row["distance"],
                " > ".join(peer_label(names, k) for k in row["chain"]),
                totals_text(row["guarantee"]),
                "FORKED" if row["forked"] else "",
            )
        )
    print_table(None, ["member", "distance", "chain of contacts", "guarantee", "flags"], table)
    print_next_page(["trust", "list"], page)


@trust_app.command("pool")
def trust_pool(ctx: typer.Context, hops: HopsOption = None, as_json: JsonFlag = False) -> None:
    """Members of your trust list and their pool of intentions, per currency."""
    state = session(ctx)
    pool = state.ask(
        lambda daemon: daemon.get("/trust/pool", {"hops": hops}),
        lambda: pool_json(load_views(state), state.me(), hops),
    )
    if as_json:
        print_json(pool)
        return
    listed = totals_text(pool["pool"]) or "nothing declared yet"
    typer.echo(f"{count(pool['members'], 'member')}; pool of intentions: {listed}")


def register(app: typer.Typer) -> None:
    """Attach ``invite`` and ``trust`` to the root app."""
    app.add_typer(invite_app, name="invite")
    app.add_typer(trust_app, name="trust")
