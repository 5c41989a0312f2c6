"""Pledge commands: intentions and commitments, help requests, initiatives, the ledger."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from samoorg.cli.community import (
    act,
    load_views,
    now,
    peer_label,
    resolve_entry,
    totals_text,
)
from samoorg.cli.context import Session, session
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
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.api.pages import MAX_LIMIT
from samoorg.node.api.shapes import (
    LEDGER_SECTIONS,
    appeal_detail,
    appeal_row,
    held_appeal,
    ledger_json,
    ledger_of,
    listed_pledges,
    pledge_row,
)
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.pledges import Appeal
    from samoorg.node.actions import Done

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ForceFlag = Annotated[
    bool,
    typer.Option(
        "--force", help="Pledge even to a participant never seen here and not on your trust list."
    ),
]
IdArgument = Annotated[str, typer.Argument(metavar="ID", help="An id or a unique prefix of it.")]

pledge_app = typer.Typer(
    help="Intentions (editable) and commitments (irrevocable).", no_args_is_help=True
)
request_app = typer.Typer(help="Ask for emergency help or regular support.", no_args_is_help=True)
initiative_app = typer.Typer(
    help="Proposals with a price that members back with intentions.", no_args_is_help=True
)


# -- pledges -------------------------------------------------------------------


@pledge_app.command("intend")
def pledge_intend(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="How much you would give, e.g. 50.")],
    currency: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. EUR.")],
    to: Annotated[
        str | None, typer.Option("--to", help="A participant: id, 6+ characters of it, or a name.")
    ] = None,
    request: Annotated[str | None, typer.Option("--request", help="A help request id.")] = None,
    initiative: Annotated[
        str | None, typer.Option("--initiative", help="An initiative id.")
    ] = None,
    force: ForceFlag = False,
    listing: Annotated[
        str | None,
        typer.Option(
            "--listing", help="A portal listing this pays or gives for (--to: its author)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an intention to give; prints its id. You may revise or withdraw it later."""
    targets = {"to": to, "request": request, "initiative": initiative}
    chosen = {name: ref for name, ref in targets.items() if ref is not None}
    if listing is not None and request is None and initiative is None:
        chosen["listing"] = listing
    elif len(chosen) != 1:
        raise typer.BadParameter("expected exactly one of --to, --request or --initiative")
    Amount.parse(amount, currency)  # a malformed amount is bad usage before anything is asked
    body: dict[str, Any] = {"amount": amount, "currency": currency, **chosen}
    if force:
        body["force"] = True
    _done(state := session(ctx), act(state, "pledge.intend", body), as_json, "intention")


def _done(state: Session, done: Done, as_json: bool, what: str) -> None:
    row = done.shape
    if as_json:
        print_json(row)
        return
    typer.echo(row["id"])
    amount = totals_text(row["amount"])
    to = state.names().label_text(row["to"])
    typer.echo(f"{what}: {amount} to {to} ({row['state']})", err=True)


@pledge_app.command("revise")
def pledge_revise(
    ctx: typer.Context,
    pledge: IdArgument,
    amount: Annotated[str, typer.Argument(help="The new amount, same currency.")],
    as_json: JsonFlag = False,
) -> None:
    """Change the amount of an intention (not of a commitment)."""
    _done(
        state := session(ctx),
        act(state, "pledge.revise", {"amount": amount}, pledge),
        as_json,
        "revised",
    )


@pledge_app.command("withdraw")
def pledge_withdraw(ctx: typer.Context, pledge: IdArgument, as_json: JsonFlag = False) -> None:
    """Withdraw an intention (a commitment cannot be withdrawn)."""
    _done(state := session(ctx), act(state, "pledge.withdraw", {}, pledge), as_json, "withdrawn")


@pledge_app.command("commit")
def pledge_commit(
    ctx: typer.Context,
    pledge: IdArgument,
    due: Annotated[
        str | None, typer.Option("--due", help="Due date, e.g. 2025-07-01 or 30d.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on a terminal.")
    ] = False,
    force: ForceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Turn your intention into an irrevocable commitment (asks first on a terminal)."""
    from samoorg.cli.when import parse_future
    from samoorg.node.api.times import rfc3339

    state = session(ctx)
    body: dict[str, Any] = {}
    if due is not None:
        body["due"] = rfc3339(parse_future(due, now(), "a due date"))
    if not yes and sys.stdin.isatty():
        _confirm_commit(state, pledge, body.get("due"))
    if force:
        body["force"] = True
    _done(state, act(state, "pledge.commit", body, pledge), as_json, "committed")


def _confirm_commit(state: Session, pledge: str, due: str | None) -> None:
    """Ask before an irrevocable commitment; a "no" records nothing (exit 1)."""
    from samoorg.cli.community import actor
    from samoorg.node.actions import pledges

    row = state.ask(
        lambda daemon: daemon.get(f"/pledges/{quote(pledge, safe='')}"),
        lambda: pledges.show(actor(state), pledge=pledge),
    )
    until = f", due {format_time(due)} UTC" if due is not None else ""
    question = (
        f"Commit {totals_text(row['amount'])} to {row['to']}{until}? "
        "A commitment cannot be withdrawn or changed"
    )
    if not typer.confirm(question, default=False):
        raise RuleViolation("not committed: nothing was recorded")


@pledge_app.command("fulfilled")
def pledge_fulfilled(ctx: typer.Context, pledge: IdArgument, as_json: JsonFlag = False) -> None:
    """Confirm, as its beneficiary, that a commitment was fulfilled."""
    _done(state := session(ctx), act(state, "pledge.fulfil", {}, pledge), as_json, "fulfilled")


@pledge_app.command("forgive")
def pledge_forgive(ctx: typer.Context, pledge: IdArgument, as_json: JsonFlag = False) -> None:
    """Release, as its beneficiary, the giver from a commitment."""
    _done(state := session(ctx), act(state, "pledge.forgive", {}, pledge), as_json, "forgiven")


@pledge_app.command("list")
def pledge_list(
    ctx: typer.Context,
    mine: Annotated[bool, typer.Option("--mine", help="Only pledges you made.")] = False,
    to_me: Annotated[bool, typer.Option("--to-me", help="Only pledges to you.")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue commitments.")] = False,
    everyone: Annotated[
        bool, typer.Option("--everyone", help="Everyone's pledges, not only yours and to you.")
    ] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Intentions and commitments you give or receive (or everyone's), with their state."""
    state = session(ctx)
    asked = paging(limit, every, cursor)
    filters = {"mine": mine, "to_me": to_me, "overdue": overdue, "everyone": everyone}

    def local() -> Page:
        current, at = load_views(state), now()
        listed = listed_pledges(
            current, state.me(), at, mine=mine, to_me=to_me, overdue=overdue, everyone=everyone
        )
        outcomes, next_cursor = page_of(listed, asked)
        return Page([pledge_row(current, o, at) for o in outcomes], next_cursor)

    page = state.ask(lambda daemon: daemon.page("/pledges", filters, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    print_table(
        None,
        ["pledge", "from", "to", "for", "amount", "state", "due (UTC)"],
        [
            (
                r["id"][:12],
                peer_label(names, r["from"]),
                peer_label(names, r["to"]) + (" FORKED" if r["forked"] else ""),
                "person" if r["target"]["kind"] == "to" else r["target"]["id"][:12],
                totals_text(r["amount"]),
                ("OVERDUE " if r["overdue"] else "") + r["state"],
                format_time(r["due"]) if r["due"] else "",
            )
            for r in page.items
        ],
    )
    print_next_page(["pledge", "list"], page)


# -- ledger --------------------------------------------------------------------


def ledger(
    ctx: typer.Context,
    mine: Annotated[bool, typer.Option("--mine", help="Only debts you owe or are owed.")] = False,
    with_member: Annotated[
        str | None, typer.Option("--with", metavar="ID", help="Only debts between you and ID.")
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=1, max=MAX_LIMIT, help="Show at most N rows of each list (one page)."
        ),
    ] = DEFAULT_LIMIT,
    every: Annotated[bool, typer.Option("--all", help="Show every row of each list.")] = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Outstanding commitments per pair, and cycles of debt that could cancel out.

    Each of the three lists (outstanding, netting suggestions, after netting)
    shows one page of at most --limit rows; --cursor continues all three.
    """
    state = session(ctx)
    asked = paging(limit, every, cursor)
    other = state.resolve_member(with_member) if with_member is not None else None
    query = {"mine": mine, "with": peer_id(other) if other is not None else None}

    def local() -> dict[str, Any]:
        current = load_views(state)
        index = ledger_of(current)
        rows = index.rows(state.me(), other, mine)
        return ledger_json(current, index, rows, asked.start, asked.limit)

    result = state.ask(
        lambda daemon: daemon.sections("/ledger", query, asked, LEDGER_SECTIONS), local
    )
    if as_json:
        print_json(result)
        return
    names = state.names()
    totals = result["totals"]

    def title(text: str, section: str) -> str:
        shown, total = len(result[section]), totals[section]
        if shown == total:
            return text
        if not shown:
            return f"{text}: none on this page, {total} in all"
        return f"{text}: {asked.start + 1}-{asked.start + shown} of {total}"

    def table(text: str, section: str) -> None:
        print_table(
            title(text, section),
            ["from", "owes", "amount"],
            [
                (
                    peer_label(names, r["from"]),
                    peer_label(names, r["to"]) + (" FORKED" if r["forked"] else ""),
                    totals_text(r["amount"]),
                )
                for r in result[section]
            ],
        )

    table("Outstanding commitments", "outstanding")
    if not totals["netting"]:
        typer.echo("no cycles of debt to cancel")
    else:
        print_table(
            title(
                "Netting suggestions: each member of a cycle owes the next that much less",
                "netting",
            ),
            ["cycle", "cancel"],
            [
                (
                    " > ".join(peer_label(names, k) for k in (*c["cycle"], c["cycle"][0])),
                    totals_text(c["amount"]),
                )
                for c in result["netting"]
            ],
        )
        table("After netting", "after_netting")
    command = [
        "ledger",
        *(["--mine"] if mine else []),
        *(["--with", with_member] if with_member is not None else []),
    ]
    if limit != DEFAULT_LIMIT:
        command += ["--limit", str(limit)]
    page = Page([], result["next_cursor"])
    shown = f"rows {asked.start + 1}-{asked.start + limit} of each list"
    print_next_page(command, page, shown)


# -- requests and initiatives ---------------------------------------------------


@request_app.command("create")
def request_create(
    ctx: typer.Context,
    amount: Annotated[str, typer.Option("--amount", help="How much you need, e.g. 500.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, e.g. EUR.")],
    reason: Annotated[str, typer.Option("--reason", help="What the help is for.")],
    monthly: Annotated[
        bool, typer.Option("--monthly", help="Regular monthly support, not a one-off.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Ask your trust list for help; prints the request id."""
    Amount.parse(amount, currency)  # a malformed amount is bad usage before anything is asked
    body = {"amount": amount, "currency": currency, "reason": reason, "monthly": monthly}
    _appeal_done(act(session(ctx), "request.create", body), as_json)


def _appeal_done(done: Done, as_json: bool) -> None:
    if as_json:
        print_json(done.shape)
    else:
        typer.echo(done.shape["id"])


def _appeal_page(state: Session, kind: str, limit: int, every: bool, cursor: str | None) -> Page:
    """A page of the requests (``REQUEST``) or initiatives (``INITIATIVE``), oldest first."""
    asked = paging(limit, every, cursor)

    def local() -> Page:
        current, at = load_views(state), now()
        appeals, next_cursor = page_of(current.pledges.appeals(kind), asked)
        return Page([appeal_row(current, a, at) for a in appeals], next_cursor)

    return state.ask(lambda daemon: daemon.page(_appeal_path(kind), {}, asked), local)


def _appeal_path(kind: str) -> str:
    """The API path of the appeals of ``kind`` (the kinds' module is imported only by the
    appeal commands: ``pledge list`` does not pay for it)."""
    from samoorg.crdt.kinds.pledges import INITIATIVE, REQUEST

    return {REQUEST: "/requests", INITIATIVE: "/initiatives"}[kind]


@request_app.command("list")
def request_list(
    ctx: typer.Context,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Help requests with what has been pledged, committed and fulfilled."""
    from samoorg.crdt.kinds.pledges import REQUEST

    state = session(ctx)
    names = state.names()
    page = _appeal_page(state, REQUEST, limit, every, cursor)
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    print_table(
        None,
        ["request", "from", "asks", "pledged", "committed", "fulfilled", "reason"],
        [
            (
                r["id"][:12],
                peer_label(names, r["author"]),
                totals_text(r["goal"]) + (" / month" if r["monthly"] else ""),
                totals_text(r["pledged"]),
                totals_text(r["committed"]),
                totals_text(r["fulfilled"]),
                r["reason"] if len(r["reason"]) <= 40 else r["reason"][:39] + "…",
            )
            for r in page.items
        ],
    )
    print_next_page(["request", "list"], page)


@initiative_app.command("propose")
def initiative_propose(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="A short title.")],
    goal: Annotated[str, typer.Option("--goal", help="The price, e.g. 1200.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, e.g. EUR.")],
    description: Annotated[
        str | None, typer.Option("--description", help="What, why and how.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Read the description from a file.")
    ] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Collect until, e.g. 2025-09-01 or 30d.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose an initiative; members back it with intentions. Prints its id."""
    from samoorg.cli.when import parse_future

    if description is not None and file is not None:
        raise typer.BadParameter("give either --description or --file, not both")
    from samoorg.node.api.times import rfc3339

    text = file.read_text(encoding="utf-8") if file is not None else (description or "")
    Amount.parse(goal, currency)  # a malformed amount is bad usage before anything is asked
    body: dict[str, Any] = {"title": title, "goal": goal, "currency": currency}
    if text:
        body["description"] = text
    if deadline is not None:
        body["deadline"] = rfc3339(parse_future(deadline, now(), "a deadline"))
    _appeal_done(act(session(ctx), "initiative.propose", body), as_json)


@initiative_app.command("list")
def initiative_list(
    ctx: typer.Context,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Initiatives with their status: collecting, goal reached, or expired."""
    from samoorg.crdt.kinds.pledges import INITIATIVE

    state = session(ctx)
    names = state.names()
    page = _appeal_page(state, INITIATIVE, limit, every, cursor)
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    print_table(
        None,
        ["initiative", "title", "by", "goal", "pledged", "backers", "status", "deadline (UTC)"],
        [
            (
                r["id"][:12],
                r["title"],
                peer_label(names, r["author"]),
                totals_text(r["goal"]),
                totals_text(r["pledged"]),
                r["backers"],
                r["status"],
                format_time(r["deadline"]) if r["deadline"] else "",
            )
            for r in page.items
        ],
    )
    print_next_page(["initiative", "list"], page)


@initiative_app.command("show")
def initiative_show(ctx: typer.Context, initiative: IdArgument, as_json: JsonFlag = False) -> None:
    """One initiative: description, totals, status and backers (released ones too)."""
    from samoorg.crdt.kinds.pledges import INITIATIVE

    _show_appeal(ctx, initiative, INITIATIVE, as_json)


@request_app.command("show")
def request_show(ctx: typer.Context, request: IdArgument, as_json: JsonFlag = False) -> None:
    """One help request: reason, totals, status and backers (released ones too)."""
    from samoorg.crdt.kinds.pledges import REQUEST

    _show_appeal(ctx, request, REQUEST, as_json)


def _held_appeal(state: Session, current: Views, prefix: str, kind: str) -> Appeal:
    return held_appeal(current, resolve_entry(state, prefix, kind), kind)


def _show_appeal(ctx: typer.Context, prefix: str, kind: str, as_json: bool) -> None:
    from samoorg.crdt.kinds.pledges import INITIATIVE

    state = session(ctx)

    def local() -> dict[str, Any]:
        current = load_views(state)
        return appeal_detail(current, _held_appeal(state, current, prefix, kind), now())

    row = state.ask(
        lambda daemon: daemon.get(f"{_appeal_path(kind)}/{quote(prefix, safe='')}"), local
    )
    if as_json:
        print_json(row)
        return
    names = state.names()
    if kind == INITIATIVE:
        typer.echo(f"{row['title']}  [{row['status']}]")
    else:
        every = " every month" if row["monthly"] else ""
        typer.echo(f"help request for {totals_text(row['goal'])}{every}  [{row['status']}]")
    typer.echo(f"id: {row['id']}")
    verb = "proposed" if kind == INITIATIVE else "asked"
    typer.echo(f"{verb} by {row['author']} on {format_time(row['created'])} UTC")
    typer.echo(
        f"goal {totals_text(row['goal'])}; pledged {totals_text(row['pledged'])}, "
        f"committed {totals_text(row['committed'])}, fulfilled {totals_text(row['fulfilled'])}"
    )
    if row.get("deadline"):
        typer.echo(f"deadline: {format_time(row['deadline'])} UTC")
    if row["closed"] is not None:
        note = f": {row['close_note']}" if row["close_note"] else ""
        typer.echo(f"closed on {format_time(row['closed'])} UTC{note}")
    text = row.get("description") if kind == INITIATIVE else row["reason"]
    if text:
        typer.echo("")
        typer.echo(text.rstrip())
    typer.echo("")
    print_table(
        "Backers",
        ["pledge", "from", "amount", "state"],
        [
            (b["id"][:12], peer_label(names, b["from"]), totals_text(b["amount"]), b["state"])
            for b in row["backers"]
        ],
    )


def _close_appeal(ctx: typer.Context, prefix: str, kind: str, note: str, as_json: bool) -> None:
    """Record the closing of one's own request or initiative; its intentions are released."""
    from samoorg.crdt.kinds.pledges import LABELS, REQUEST

    name = "request.close" if kind == REQUEST else "initiative.close"
    shape = act(session(ctx), name, {"note": note} if note else {}, prefix).shape
    if as_json:
        print_json(shape)
        return
    typer.echo(shape["closing"])
    typer.echo(
        f"closed {LABELS[kind]} {shape['id'][:12]}: "
        f"{count(len(shape['released']), 'intention')} released; commitments stay",
        err=True,
    )


NoteOption = Annotated[str, typer.Option("--note", help="Why, shown to those who read it.")]


@request_app.command("close")
def request_close(
    ctx: typer.Context, request: IdArgument, note: NoteOption = "", as_json: JsonFlag = False
) -> None:
    """Close your help request: open intentions are released, commitments stay."""
    from samoorg.crdt.kinds.pledges import REQUEST

    _close_appeal(ctx, request, REQUEST, note, as_json)


@initiative_app.command("close")
def initiative_close(
    ctx: typer.Context, initiative: IdArgument, note: NoteOption = "", as_json: JsonFlag = False
) -> None:
    """Close (or cancel) your initiative: open intentions are released, commitments stay."""
    from samoorg.crdt.kinds.pledges import INITIATIVE

    _close_appeal(ctx, initiative, INITIATIVE, note, as_json)


def register(app: typer.Typer) -> None:
    """Attach ``pledge``, ``ledger``, ``request`` and ``initiative`` to the root app."""
    app.add_typer(pledge_app, name="pledge")
    app.command()(ledger)
    app.add_typer(request_app, name="request")
    app.add_typer(initiative_app, name="initiative")
