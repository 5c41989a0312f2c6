"""Public agreements: ``agreement new/edit/show/accept/history/blame/list`` and ``members``.

Writes are the actions of :mod:`samoorg.node.actions.agreements` (through the
daemon when one runs): the entries of one command (a large text takes several)
are signed and checked against the views inside one store transaction, so a
refused or interrupted command stores nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from samoorg.cli.community import (
    act,
    hex_prefix,
    load_views,
    peer_label,
    resolve_entry,
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
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.api.shapes import agreement_detail, agreement_summary, held_agreement

if TYPE_CHECKING:
    from samoorg.cli.daemon_client import DaemonClient
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.agreements import Agreement
    from samoorg.node.names import Names

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
FileOption = Annotated[
    Path, typer.Option("--file", "-f", help="UTF-8 text file with the full text ('-': stdin).")
]
IdArgument = Annotated[str, typer.Argument(help="Agreement id (a unique prefix is enough).")]
SHORT = 12
PREVIEW = 40

agreement_app = typer.Typer(
    help="Public agreements written together, accepted, and changed over time.",
    no_args_is_help=True,
)


# -- helpers --------------------------------------------------------------------


def _read_text(path: Path) -> str:
    import sys

    data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RuleViolation(
            f"expected UTF-8 text in {path}, found invalid byte at {exc.start}"
        ) from None


def _open(ctx: typer.Context, prefix: str) -> tuple[Session, Views, Agreement]:
    """The session, its views, and the agreement named by ``prefix``."""
    state = session(ctx)
    views = load_views(state)
    return state, views, _agreement(state, views, prefix)


def _agreement(state: Session, views: Views, prefix: str) -> Agreement:
    from samoorg.crdt.kinds.agreements import AGREEMENT_NEW

    return held_agreement(views, resolve_entry(state, prefix, AGREEMENT_NEW))


def _preview(text: str) -> str:
    flat = " ".join(text.split()) if text.strip() else text.replace("\n", "⏎")
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def _short(value: bytes) -> str:
    return value.hex()[:SHORT]


# -- commands -------------------------------------------------------------------


@agreement_app.command("new")
def new(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="The agreement's title.")],
    file: FileOption,
    as_json: JsonFlag = False,
) -> None:
    """Publish a new agreement with the text of FILE."""
    body = {"title": title, "text": _read_text(file), "source": str(file)}
    _print_written("created agreement", act(session(ctx), "agreement.new", body).shape, as_json)


@agreement_app.command("edit")
def edit(
    ctx: typer.Context, agreement_id: IdArgument, file: FileOption, as_json: JsonFlag = False
) -> None:
    """Change an agreement's text to FILE's (the difference is recorded, not the whole text)."""
    body = {"text": _read_text(file), "source": str(file)}
    shape = act(session(ctx), "agreement.edit", body, agreement_id).shape
    _print_written("recorded edit of", shape, as_json)


def _print_written(verb: str, shape: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(shape)
        return
    typer.echo(
        f'{verb} {shape["agreement"][:SHORT]} "{shape["title"]}": '
        f"+{shape['inserted']} -{shape['deleted']} characters in "
        f"{count(len(shape['entries']), 'entry', 'entries')}"
    )
    typer.echo(f"version {shape['version'][:SHORT]}")


@agreement_app.command("show")
def show(
    ctx: typer.Context,
    agreement_id: IdArgument,
    version: Annotated[
        str | None,
        typer.Option(
            "--version", "-v", help="A version hash or an edit's entry id (prefixes work)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print an agreement's current text, or the text of an earlier version."""
    state = session(ctx)
    prefix = hex_prefix(agreement_id)
    wanted = None if version is None else hex_prefix(version, "a version hash or entry id")

    def local() -> dict[str, Any]:
        views = load_views(state)
        return agreement_detail(views, _agreement(state, views, prefix), wanted)

    shown = state.ask(
        lambda daemon: daemon.get(f"/agreements/{prefix}", {"version": wanted}), local
    )
    if as_json:
        print_json(shown)
        return
    author = peer_label(state.names(), shown["author"])
    typer.echo(f"agreement {shown['agreement'][:SHORT]}  {shown['title']}")
    typer.echo(
        f"by {author}{' FORKED' if shown['forked'] else ''}, {format_time(shown['time'])} UTC; "
        f"this version: {count(shown['version_entries'], 'entry', 'entries')}"
    )
    current = "  (current)" if shown["current"] else "  (not current)"
    typer.echo(f"version {shown['version'][:SHORT]}{current}")
    typer.echo("")
    text = shown["text"]
    typer.echo(text, nl=not text.endswith("\n"))


@agreement_app.command("accept")
def accept(ctx: typer.Context, agreement_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Sign your acceptance of the agreement's current version (its hash)."""
    shape = act(session(ctx), "agreement.accept", {}, agreement_id).shape
    if as_json:
        print_json(shape)
        return
    typer.echo(
        f'accepted version {shape["version"][:SHORT]} of "{shape["title"]}" '
        f"({shape['agreement'][:SHORT]})"
    )


def _about(ctx: typer.Context, agreement_id: str, what: str) -> tuple[Session, dict[str, Any]]:
    """The ``history`` or ``blame`` (``what``) of an agreement: from the daemon, or the store."""
    from samoorg.node.api import agreement_shapes

    build = {"history": agreement_shapes.history_json, "blame": agreement_shapes.blame_json}[what]
    state = session(ctx)
    prefix = hex_prefix(agreement_id)

    def local() -> dict[str, Any]:
        views = load_views(state)
        agreement = _agreement(state, views, prefix)
        return agreement_shapes.titled(agreement, build(views, agreement))

    return state, state.ask(lambda daemon: daemon.get(f"/agreements/{prefix}/{what}"), local)


def _label(row: dict[str, Any], names: Names) -> str:
    """The author of a row (``author``, ``forked``), as :func:`flagged_label` writes it."""
    label = peer_label(names, row["author"])
    return f"{label} FORKED" if row["forked"] else label


@agreement_app.command("history")
def history(ctx: typer.Context, agreement_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Who changed what: every edit with what it inserted and deleted, oldest first."""
    state, answer = _about(ctx, agreement_id, "history")
    if as_json:
        print_json(answer["items"])
        return
    names = state.names()
    table = [
        (
            format_time(row["timestamp"]),
            _label(row, names),
            row["entry"][:SHORT],
            f"+{row['inserted']} -{row['deleted']}",
            _preview(" … ".join(row["inserted_text"])),
            _preview(" … ".join(row["deleted_text"])),
        )
        if row["status"] == "applied"
        else (
            format_time(row["timestamp"]),
            _label(row, names),
            row["entry"][:SHORT],
            row["status"],
            row["reason"],
            "",
        )
        for row in answer["items"]
    ]
    print_table(
        f"{answer['title']} ({answer['agreement'][:SHORT]})",
        ["time (UTC)", "author", "entry", "change", "inserted", "deleted"],
        table,
    )


@agreement_app.command("blame")
def blame(ctx: typer.Context, agreement_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Authorship line by line: the last edit that touched each line of the current text."""
    state, answer = _about(ctx, agreement_id, "blame")
    if as_json:
        print_json(answer["items"])
        return
    names = state.names()
    rows = [
        (
            line["line"],
            line["entry"][:8],
            _label(line, names),
            format_time(line["timestamp"])[:10],
            line["text"].rstrip("\n"),
        )
        for line in answer["items"]
    ]
    print_table(None, ["line", "entry", "author", "date", "text"], rows)


@agreement_app.command("list")
def list_(
    ctx: typer.Context,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Every agreement held, with its version and how many accepted it."""
    state = session(ctx)
    asked = paging(limit, every, cursor)

    def local() -> Page:
        me = state.me()
        held, next_cursor = page_of(load_views(state).agreements.all(), asked)
        return Page([agreement_summary(a, me) for a in held], next_cursor)

    page = state.ask(lambda daemon: daemon.page("/agreements", {}, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    rows = [
        (
            a["agreement"][:SHORT],
            a["title"],
            a["version"][:SHORT],
            a["entries"],
            f"{a['accepted_current']} of {a['accepted']}",
            a["you"] or "-",
        )
        for a in page.items
    ]
    print_table(None, ["id", "title", "version", "entries", "accepted (current)", "you"], rows)
    print_next_page(["agreement", "list"], page)


def members(
    ctx: typer.Context,
    agreement_id: Annotated[
        str | None, typer.Option("--agreement", "-a", help="Only this agreement's acceptances.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Members are those who accepted the agreements; shows which version each accepted."""
    from samoorg.node.api import agreement_shapes

    state = session(ctx)
    names = state.names()
    prefix = None if agreement_id is None else hex_prefix(agreement_id)

    def local() -> dict[str, Any]:
        views = load_views(state)
        if prefix is None:
            return {"items": agreement_shapes.members_json(views)}
        return agreement_shapes.acceptances_json(views, _agreement(state, views, prefix))

    def remote(daemon: DaemonClient) -> dict[str, Any]:
        if prefix is not None:
            answer: dict[str, Any] = daemon.get("/members", {"agreement": prefix})
            return answer
        return {"items": list(daemon.pages("/members", {}))}  # every page, as offline

    answer = state.ask(remote, local)
    if prefix is not None:
        _print_acceptances(answer, names, as_json)
        return
    if as_json:
        print_json(answer["items"])
        return
    rows = [
        (
            _label({"author": row["member"], "forked": row["forked"]}, names),
            f"{row['accepted']} of {row['of']}",
            f"{row['current']} of {row['of']}",
            row["status"],
        )
        for row in answer["items"]
    ]
    print_table(None, ["participant", "accepted", "current versions", "status"], rows)


def _print_acceptances(answer: dict[str, Any], names: Names, as_json: bool) -> None:
    if as_json:
        print_json(answer)
        return
    rows = [
        (
            _label({"author": a["member"], "forked": a["forked"]}, names),
            a["version"][:SHORT],
            a["status"],
            format_time(a["accepted_at"]),
        )
        for a in answer["members"]
    ]
    print_table(
        f"{answer['title']}: version {answer['version'][:SHORT]}",
        ["member", "accepted version", "status", "accepted at (UTC)"],
        rows,
    )


def register(app: typer.Typer) -> None:
    """Attach ``agreement`` and ``members`` to the root app."""
    app.add_typer(agreement_app, name="agreement")
    app.command()(members)
