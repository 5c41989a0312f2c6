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

from samoorg.cli.community import flagged_label, hex_prefix, load_views, resolve_entry
from samoorg.cli.context import Session, session
from samoorg.cli.output import Instant, count, format_time, print_json, print_table
from samoorg.crdt.errors import RuleViolation
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.agreement_edits import Step
    from samoorg.crdt.agreements import Accepted, Agreement
    from samoorg.crdt.views import Views
    from samoorg.protocol import dcbor
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
    from samoorg.crdt.agreement_codec import NEW

    entry = resolve_entry(state, prefix, NEW)
    found = views.agreements.get(entry.id)
    if found is None or entry.id in found.invalid:
        reason = views.invalid().get(entry.id, "it is not valid")
        raise RuleViolation(f"agreement {entry.id.hex()[:SHORT]} is ignored: {reason}")
    return found


def _record(
    state: Session, views: Views, steps: Callable[[Sequence[Entry]], Step | None]
) -> list[Entry]:
    """Sign the entries ``steps`` yields and store them if every view accepts them all."""

    def check(made: Sequence[Entry]) -> None:
        for entry in made:
            views.index.add(entry)
        invalid = views.invalid()
        pending = views.agreements.pending()
        for entry in made:
            reason = invalid.get(entry.id) or pending.get(entry.id)
            if reason is not None:
                raise RuleViolation(reason.text, reason.code)

    return state.store().append_chain(state.signer(), steps, check=check)


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
    from samoorg.crdt.agreement_codec import MAX_TITLE, NEW
    from samoorg.crdt.agreement_edits import chain_bodies, plan_edit
    from samoorg.crdt.text import TextDoc

    text = _read_text(file)
    if not text.strip():
        raise RuleViolation(f"expected some text in {file}, found none")
    if not title.strip() or len(title) > MAX_TITLE:
        raise RuleViolation(f"expected a title of 1 to {MAX_TITLE} characters")
    state = session(ctx)
    views = load_views(state)
    groups = plan_edit(TextDoc(), [(0, 0, text)])

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        assert not refs, "a new text names no other entry"
        return NEW, {"title": title, "ops": ops}

    made = _record(state, views, chain_bodies(groups, first, lambda made: made[0].id))
    agreement = views.agreements.get(made[0].id)
    assert agreement is not None
    _print_written("created agreement", agreement, made, as_json)


@agreement_app.command("edit")
def edit(
    ctx: typer.Context, agreement_id: IdArgument, file: FileOption, as_json: JsonFlag = False
) -> None:
    """Change an agreement's text to FILE's (the difference is recorded, not the whole text)."""
    from samoorg.crdt.agreement_codec import EDIT
    from samoorg.crdt.agreement_edits import chain_bodies, diff_edits, plan_edit

    wanted = _read_text(file)
    state, views, agreement = _open(ctx, agreement_id)
    current = agreement.text
    if wanted == current:
        raise RuleViolation(
            f"{file} matches the current text of {_short(agreement.doc)}; nothing to record"
        )
    doc = agreement.doc
    heads: list[dcbor.Value] = [*agreement.heads]
    groups = plan_edit(agreement.replica.doc, diff_edits(current, wanted))

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        return EDIT, {"agreement": doc, "deps": heads, "refs": [*refs], "ops": ops}

    made = _record(state, views, chain_bodies(groups, first, lambda _: doc))
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
    state, views, agreement = _open(ctx, agreement_id)
    if version is None:
        digest, text, heads = agreement.version, agreement.text, agreement.heads
    else:
        digest, text, heads = _find_version(agreement, version)
    current = digest == agreement.version
    if as_json:
        print_json(
            {
                "agreement": agreement.doc.hex(),
                "title": agreement.title,
                "version": digest.hex(),
                "current": current,
                "heads": [h.hex() for h in heads],
                "text": text,
            }
        )
        return
    me = state.public_key()
    assert agreement.root is not None
    typer.echo(f"agreement {_short(agreement.doc)}  {agreement.title}")
    size = len(agreement.replica.closure(heads))
    typer.echo(
        f"by {flagged_label(views, agreement.root.author, me)}, "
        f"{format_time(agreement.root.timestamp)} UTC; "
        f"this version: {count(size, 'entry', 'entries')}"
    )
    typer.echo(f"version {_short(digest)}" + ("  (current)" if current else "  (not current)"))
    typer.echo("")
    typer.echo(text, nl=not text.endswith("\n"))


def _find_version(agreement: Agreement, prefix: str) -> tuple[bytes, str, tuple[bytes, ...]]:
    """``(hash, text, heads)`` of the version named by a hash or entry id prefix."""
    from samoorg.crdt.agreement_codec import version_hash

    wanted = hex_prefix(prefix, "a version hash or entry id")
    entries = [a for a in agreement.replica.applied if a.hex().startswith(wanted)]
    if len(entries) == 1:
        text = agreement.text_at(entries)
        return version_hash(agreement.doc, text), text, tuple(entries)
    known: dict[bytes, tuple[str, tuple[bytes, ...]] | None] = {
        agreement.version: (agreement.text, agreement.heads)
    }
    for accepted in agreement.accepted.values():
        if all(h in agreement.replica for h in accepted.heads):
            known[accepted.version] = (agreement.text_at(accepted.heads), accepted.heads)
        else:
            known.setdefault(accepted.version, None)
    if not any(v.hex().startswith(wanted) for v in known):
        for entry, digest in agreement.versions():
            known.setdefault(digest, (agreement.text_at((entry.id,)), (entry.id,)))
    matches = [v for v in known if v.hex().startswith(wanted)]
    if len(matches) + len(entries) != 1:
        what = "no version or edit" if not matches and not entries else "several versions or edits"
        raise RuleViolation(f"{what} of {_short(agreement.doc)} match {wanted!r}")
    found = known[matches[0]]
    if found is None:
        raise RuleViolation(
            f"version {wanted} was accepted by someone, but the edits it contains are not here yet"
        )
    return matches[0], found[0], found[1]


@agreement_app.command("accept")
def accept(ctx: typer.Context, agreement_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Sign your acceptance of the agreement's current version (its hash)."""
    from samoorg.crdt.agreement_codec import ACCEPT

    state, views, agreement = _open(ctx, agreement_id)
    doc, version = agreement.doc, agreement.version
    heads: list[dcbor.Value] = [*agreement.heads]
    mine = agreement.accepted.get(state.public_key())
    if mine is not None and mine.version == version:
        raise RuleViolation(
            f'you already accepted the current version {_short(version)} of "{agreement.title}"'
        )
    body: dict[str, dcbor.Value] = {"agreement": doc, "heads": heads, "version": version}
    made = _record(state, views, lambda made: None if made else (ACCEPT, body))
    if as_json:
        print_json({"agreement": doc.hex(), "version": version.hex(), "entry": made[0].id.hex()})
        return
    typer.echo(f'accepted version {_short(version)} of "{agreement.title}" ({_short(doc)})')


@agreement_app.command("history")
def history(ctx: typer.Context, agreement_id: IdArgument, as_json: JsonFlag = False) -> None:
    """Who changed what: every edit with what it inserted and deleted, oldest first."""
    state, views, agreement = _open(ctx, agreement_id)
    me = state.public_key()
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
            flagged_label(views, row.entry.author, me),
            _short(row.entry.id),
            f"+{row.inserted} -{row.deleted}",
            _preview(" … ".join(row.inserted_pieces)),
            _preview(" … ".join(row.deleted_pieces)),
        )
        for row in rows
    ] + [
        (
            format_time(e.timestamp),
            flagged_label(views, e.author, me),
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
    me = state.public_key()
    rows = [
        (
            line.number,
            _short(line.entry.id)[:8],
            flagged_label(views, line.entry.author, me),
            format_time(line.entry.timestamp)[:10],
            line.text.rstrip("\n"),
        )
        for line in lines
    ]
    print_table(None, ["line", "entry", "author", "date", "text"], rows)


@agreement_app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every agreement held, with its version and how many accepted it."""
    state = session(ctx)
    views = load_views(state)
    me = state.public_key()
    agreements = views.agreements.all()
    if as_json:
        print_json([_summary(a, me) for a in agreements])
        return
    rows = []
    for a in agreements:
        mine = a.accepted.get(me)
        current = sum(1 for x in a.accepted.values() if x.status == "current")
        rows.append(
            (
                _short(a.doc),
                a.title,
                _short(a.version),
                len(a.replica.applied),
                f"{current} of {len(a.accepted)}",
                "-" if mine is None else mine.status,
            )
        )
    print_table(None, ["id", "title", "version", "entries", "accepted (current)", "you"], rows)


def _summary(agreement: Agreement, me: bytes) -> dict[str, Any]:
    mine = agreement.accepted.get(me)
    return {
        "agreement": agreement.doc.hex(),
        "title": agreement.title,
        "version": agreement.version.hex(),
        "entries": len(agreement.replica.applied),
        "characters": len(agreement.text),
        "accepted": len(agreement.accepted),
        "accepted_current": sum(1 for x in agreement.accepted.values() if x.status == "current"),
        "you": None if mine is None else mine.status,
    }


def members(
    ctx: typer.Context,
    agreement_id: Annotated[
        str | None, typer.Option("--agreement", "-a", help="Only this agreement's acceptances.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Members are those who accepted the agreements; shows which version each accepted."""
    state = session(ctx)
    views = load_views(state)
    me = state.public_key()
    if agreement_id is not None:
        agreement = _agreement(state, views, agreement_id)
        _print_acceptances(views, agreement, me, as_json)
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
            flagged_label(views, author, me),
            f"{row['accepted']} of {total}",
            f"{row['current']} of {total}",
            row["status"],
        )
        for (author, _), row in zip(
            sorted(people.items(), key=lambda item: peer_id(item[0])), result, strict=True
        )
    ]
    print_table(None, ["participant", "accepted", "current versions", "status"], rows)


def _print_acceptances(views: Views, agreement: Agreement, me: bytes, as_json: bool) -> None:
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
            flagged_label(views, author, me),
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
