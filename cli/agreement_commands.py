"""Public agreements: ``agreement new/edit/show/accept/history/blame/list`` and ``members``.

Writes go through :func:`_record`: the entries of one command (a large text
takes several) are signed and checked against the views inside one store
transaction, so a refused or interrupted command stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from samoorg.cli.community import (
    flagged_label,
    hex_prefix,
    load_views,
    peer_label,
    resolve_entry,
    writer,
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
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.api.shapes import agreement_detail, agreement_summary, held_agreement
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.agreement_edits import Step
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.agreements import Accepted, Agreement
    from samoorg.node.names import Names
    from samoorg.protocol.entry import Entry

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


def _record(
    state: Session, views: Views, steps: Callable[[Sequence[Entry]], Step | None]
) -> list[Entry]:
    """Sign the entries ``steps`` yields and store them if every view accepts them all."""
    from samoorg.crdt.kinds.agreements import AGREEMENT_KINDS

    assert views is state.live().views, "expected the session's views"
    return writer(state).write_chain(steps, kinds=AGREEMENT_KINDS)


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
    from samoorg.crdt.algorithms.agreement_edits import create_steps
    from samoorg.crdt.kinds.agreements import MAX_TITLE

    text = _read_text(file)
    if not text.strip():
        raise RuleViolation(f"expected some text in {file}, found none")
    if not title.strip() or len(title) > MAX_TITLE:
        raise RuleViolation(f"expected a title of 1 to {MAX_TITLE} characters")
    state = session(ctx)
    views = load_views(state)
    made = _record(state, views, create_steps(title, text))
    agreement = views.agreements.get(made[0].id)
    assert agreement is not None
    _print_written("created agreement", agreement, made, as_json)


@agreement_app.command("edit")
def edit(
    ctx: typer.Context, agreement_id: IdArgument, file: FileOption, as_json: JsonFlag = False
) -> None:
    """Change an agreement's text to FILE's (the difference is recorded, not the whole text)."""
    from samoorg.crdt.algorithms.agreement_edits import edit_steps

    wanted = _read_text(file)
    state, views, agreement = _open(ctx, agreement_id)
    current = agreement.text
    if wanted == current:
        raise RuleViolation(
            f"{file} matches the current text of {_short(agreement.doc)}; nothing to record"
        )
    doc = agreement.doc
    steps = edit_steps(agreement, wanted)
    assert steps is not None, "the texts differ"
    made = _record(state, views, steps)
    updated = views.agreements.get(doc)
    assert updated is not None
    _print_written("recorded edit of", updated, made, as_json)


def _print_written(verb: str, agreement: Agreement, made: Sequence[Entry], as_json: bool) -> None:
    history = {row.entry.id: row for row in agreement.history()}
    inserted = sum(history[e.id].inserted for e in made)
    deleted = sum(history[e.id].deleted for e in made)
    if as_json:
        print_json(
            {
                "agreement": agreement.doc.hex(),
                "title": agreement.title,
                "entries": [e.id.hex() for e in made],
                "inserted": inserted,
                "deleted": deleted,
                "version": agreement.version.hex(),
            }
        )
        return
    typer.echo(
        f'{verb} {_short(agreement.doc)} "{agreement.title}": '
        f"+{inserted} -{deleted} characters in {count(len(made), 'entry', 'entries')}"
    )
    typer.echo(f"version {_short(agreement.version)}")


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
    from samoorg.crdt.kinds.agreements import AGREEMENT_ACCEPT, acceptance_body

    state, views, agreement = _open(ctx, agreement_id)
    doc, version = agreement.doc, agreement.version
    mine = agreement.accepted.get(state.public_key())
    if mine is not None and mine.version == version:
        raise RuleViolation(
            f'you already accepted the current version {_short(version)} of "{agreement.title}"'
        )
    body = acceptance_body(doc, agreement.heads, version)
    made = _record(state, views, lambda made: None if made else (AGREEMENT_ACCEPT, body))
    if as_json:
        print_json({"agreement": doc.hex(), "version": version.hex(), "entry": made[0].id.hex()})
        return
    typer.echo(f'accepted version {_short(version)} of "{agreement.title}" ({_short(doc)})')


@agreement_app.command("history")
def history(ctx: typer.Context, agreement_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Who changed what: every edit with what it inserted and deleted, oldest first."""
    state, views, agreement = _open(ctx, agreement_id)
    names = state.names()
    names = state.names()
    rows = agreement.history()
    held = [
        (e, "pending", agreement.pending[e.id])
        for e in agreement.entries.values()
        if e.id in agreement.pending
    ] + [
        (e, "invalid", agreement.invalid[e.id])
        for e in agreement.entries.values()
        if e.id in agreement.invalid
    ]
    if as_json:
        print_json(
            [
                {
                    "entry": row.entry.id.hex(),
                    "author": peer_id(row.entry.author),
                    "forked": views.is_forked(row.entry.author),
                    "timestamp": Instant(row.entry.timestamp),
                    "inserted": row.inserted,
                    "deleted": row.deleted,
                    "inserted_text": [*row.inserted_pieces],
                    "deleted_text": [*row.deleted_pieces],
                    "deps": [d.hex() for d in row.deps],
                    "status": "applied",
                }
                for row in rows
            ]
            + [
                {
                    "entry": e.id.hex(),
                    "author": peer_id(e.author),
                    "forked": views.is_forked(e.author),
                    "timestamp": Instant(e.timestamp),
                    "status": status,
                    "reason": reason.text,
                    "code": reason.code.value,
                }
                for e, status, reason in held
            ]
        )
        return
    table = [
        (
            format_time(row.entry.timestamp),
            flagged_label(views, names, row.entry.author),
            _short(row.entry.id),
            f"+{row.inserted} -{row.deleted}",
            _preview(" … ".join(row.inserted_pieces)),
            _preview(" … ".join(row.deleted_pieces)),
        )
        for row in rows
    ] + [
        (
            format_time(e.timestamp),
            flagged_label(views, names, e.author),
            _short(e.id),
            status,
            reason.text,
            "",
        )
        for e, status, reason in held
    ]
    print_table(
        f"{agreement.title} ({_short(agreement.doc)})",
        ["time (UTC)", "author", "entry", "change", "inserted", "deleted"],
        table,
    )


@agreement_app.command("blame")
def blame(ctx: typer.Context, agreement_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Authorship line by line: the last edit that touched each line of the current text."""
    state, views, agreement = _open(ctx, agreement_id)
    names = state.names()
    lines = agreement.blame()
    if as_json:
        print_json(
            [
                {
                    "line": line.number,
                    "text": line.text,
                    "entry": line.entry.id.hex(),
                    "author": peer_id(line.entry.author),
                    "forked": views.is_forked(line.entry.author),
                    "timestamp": Instant(line.entry.timestamp),
                    "authors": [peer_id(a) for a in line.authors],
                }
                for line in lines
            ]
        )
        return
    names = state.names()
    rows = [
        (
            line.number,
            _short(line.entry.id)[:8],
            flagged_label(views, names, line.entry.author),
            format_time(line.entry.timestamp)[:10],
            line.text.rstrip("\n"),
        )
        for line in lines
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
        me = state.public_key()
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
    state = session(ctx)
    names = state.names()
    views = load_views(state)
    if agreement_id is not None:
        agreement = _agreement(state, views, agreement_id)
        _print_acceptances(views, agreement, names, as_json)
        return
    agreements = views.agreements.all()
    people: dict[bytes, list[Accepted]] = {}
    for agreement in agreements:
        for author, accepted in agreement.accepted.items():
            people.setdefault(author, []).append(accepted)
    total = len(agreements)
    result = [
        {
            "member": peer_id(author),
            "forked": views.is_forked(author),
            "accepted": len(found),
            "current": sum(1 for a in found if a.status == "current"),
            "of": total,
            "status": "member" if len(found) == total else "partial",
        }
        for author, found in sorted(people.items(), key=lambda item: peer_id(item[0]))
    ]
    if as_json:
        print_json(result)
        return
    rows = [
        (
            flagged_label(views, names, author),
            f"{row['accepted']} of {total}",
            f"{row['current']} of {total}",
            row["status"],
        )
        for (author, _), row in zip(
            sorted(people.items(), key=lambda item: peer_id(item[0])), result, strict=True
        )
    ]
    print_table(None, ["participant", "accepted", "current versions", "status"], rows)


def _print_acceptances(views: Views, agreement: Agreement, names: Names, as_json: bool) -> None:
    accepted = sorted(agreement.accepted.items(), key=lambda item: item[1].entry.timestamp)
    if as_json:
        print_json(
            {
                "agreement": agreement.doc.hex(),
                "title": agreement.title,
                "version": agreement.version.hex(),
                "members": [
                    {
                        "member": peer_id(author),
                        "forked": views.is_forked(author),
                        "version": a.version.hex(),
                        "status": a.status,
                        "current": a.status == "current",
                        "accepted_at": Instant(a.entry.timestamp),
                    }
                    for author, a in accepted
                ],
            }
        )
        return
    rows = [
        (
            flagged_label(views, names, author),
            _short(a.version),
            a.status,
            format_time(a.entry.timestamp),
        )
        for author, a in accepted
    ]
    print_table(
        f"{agreement.title}: version {_short(agreement.version)}",
        ["member", "accepted version", "status", "accepted at (UTC)"],
        rows,
    )


def register(app: typer.Typer) -> None:
    """Attach ``agreement`` and ``members`` to the root app."""
    app.add_typer(agreement_app, name="agreement")
    app.command()(members)
