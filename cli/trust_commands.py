"""Trust-list commands: ``invite create/accept/list/revoke`` and ``trust list/pool``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samoorg.cli.community import (
    load_views,
    money,
    now,
    peer_label,
    record,
    resolve_entry,
    totals_text,
)
from samoorg.cli.context import Session, session
from samoorg.cli.output import Instant, count, format_time, print_json, print_table
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
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.api.shapes import invite_row, listed_invites, money_json, pool_json, trust_rows
from samoorg.protocol.ids import parse_peer_id, peer_id

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
    from samoorg.crdt.kinds.trust import INVITE, invite_body
    from samoorg.node.daemon_state import advertised_addrs
    from samoorg.protocol.invite_code import InviteCode, new_secret, one_time_key

    state = session(ctx)
    guarantee = Amount.parse(amount, currency)
    lifetime = parse_duration(expires)
    secret = new_secret()
    until = now() + lifetime
    entry = record(state, INVITE, invite_body(guarantee, until, one_time_key(secret), note))
    code = InviteCode(
        inviter=entry.author,
        invite=entry.id,
        secret=secret,
        expires=until,
        amount=guarantee.minor,
        currency=guarantee.currency,
        addrs=tuple(addr or advertised_addrs(state.home)),
    ).format()
    if as_json:
        print_json({"invite": entry.id.hex(), "code": code, "expires": Instant(until)})
        return
    typer.echo(code)
    typer.echo(
        f"invite {entry.id.hex()[:12]}: you guarantee {money(guarantee)}; valid until "
        f"{format_time(until)}. Send the code above privately; it is shown only once.",
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
    from samoorg.crdt.framework.reasons import utc
    from samoorg.crdt.kinds.trust import TRUST_ACCEPT, accept_body
    from samoorg.node.peerbook import remember_inviter
    from samoorg.protocol.invite_code import parse_invite_code, sign_acceptance

    state = session(ctx)
    invite = parse_invite_code(code)
    me = state.public_key()
    if invite.inviter == me:
        raise RuleViolation("cannot accept your own invite")
    if now() > invite.expires:
        raise RuleViolation(f"invite expired at {utc(invite.expires)}")
    offered = Amount(invite.currency, invite.amount)
    guarantee = Amount.parse(amount or offered.format(), currency or offered.currency)
    proof = sign_acceptance(invite.secret, invite.invite, me)
    body = accept_body(invite.invite, invite.inviter, guarantee, proof)
    current = load_views(state)
    before = current.trust.outcome(invite.invite)
    if (before is not None and before.invitee == me) or _accepted_before(state, invite.invite):
        raise RuleViolation(f"you already accepted invite {invite.invite.hex()[:12]}")
    entry = record(state, TRUST_ACCEPT, body)
    remember_inviter(state.home, invite.inviter, invite.addrs)  # in scope; the daemon dials
    outcome = current.trust.outcome(invite.invite)
    held = outcome is not None and outcome.invite is not None
    result = {
        "acceptance": entry.id.hex(),
        "invite": invite.invite.hex(),
        "inviter": peer_id(invite.inviter),
        "their_guarantee": money_json(offered.minor, offered.currency),
        "your_guarantee": money_json(guarantee.minor, guarantee.currency),
        "edge": bool(held and outcome is not None and outcome.invitee == me),
        "addrs": list(invite.addrs),
    }
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"accepted invite {invite.invite.hex()[:12]} from {peer_id(invite.inviter)}: "
        f"they guarantee {money(offered)}, you guarantee {money(guarantee)}"
    )
    if not held:
        typer.echo(
            "the inviter's feed is not here yet: the mutual guarantee appears once it "
            "arrives (a running daemon fetches it; or 'samoorg sync ADDR', or import a bundle)",
            err=True,
        )
    for multiaddr in invite.addrs:
        typer.echo(f"inviter address: {multiaddr}", err=True)


def _accepted_before(state: Session, invite: bytes) -> bool:
    """Whether our own feed already holds an acceptance of ``invite``.

    The views cannot tell while the inviter's feed (and so the invite) is absent.
    """
    from samoorg.crdt.kinds.trust import TRUST_ACCEPT

    mine = state.store().entries(author=state.public_key(), kinds=[TRUST_ACCEPT])
    return any(entry.body.get("invite") == invite for _, entry in mine)


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
    me = state.public_key()
    asked = paging(limit, every, cursor)

    def local() -> Page:
        current, at = load_views(state), now()
        listed, next_cursor = page_of(listed_invites(current, me), asked)
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
    from samoorg.crdt.kinds.trust import INVITE, REVOKE, REVOKED, revoke_body

    state = session(ctx)
    entry = resolve_entry(state, invite_id, INVITE)
    current = load_views(state)
    outcome = current.trust.outcome(entry.id)
    if outcome is not None and outcome.state == REVOKED:
        raise RuleViolation(f"invite {entry.id.hex()[:12]} is already revoked")
    if outcome is not None and outcome.invitee is not None:
        raise RuleViolation(f"invite was already accepted by {peer_id(outcome.invitee)}")
    revoke = record(state, REVOKE, revoke_body(entry.id))
    if as_json:
        revoked = current.trust.outcome(entry.id)
        print_json(
            {
                "invite": entry.id.hex(),
                "revocation": revoke.id.hex(),
                "state": revoked.status(now()) if revoked else REVOKED,
            }
        )
        return
    typer.echo(f"revoked invite {entry.id.hex()[:12]} (entry {revoke.id.hex()[:12]})")


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
    me = state.public_key()
    asked = paging(limit, every, cursor)
    page = state.ask(
        lambda daemon: daemon.page("/trust/list", {"hops": hops}, asked),
        lambda: Page(*page_of(trust_rows(load_views(state), me, hops), asked)),
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
                names.label(key, you=False) + (" (you)" if key == me else ""),
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
        lambda: pool_json(load_views(state), state.public_key(), hops),
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
