"""Commands over the local feed and store: init, whoami, log, verify, export, import."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from samoorg.cli.context import session
from samoorg.cli.output import entry_json, format_time, print_json, print_table
from samoorg.node.errors import HomeError
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.node.store import IngestReport
    from samoorg.protocol.entry import Entry

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IMPORT_BATCH = 2000
READ_CHUNK = 1 << 20


def init(
    ctx: typer.Context,
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help="Protect the key with a passphrase (asked, or taken from SAMOORG_PASSPHRASE).",
        ),
    ] = False,
) -> None:
    """Create a new identity and an empty store in the home directory."""
    from samoorg.node.keystore import create_key_file, env_passphrase
    from samoorg.node.store import Store

    home = session(ctx).home
    if home.key_file.exists():
        raise HomeError(f"{home.path} already holds an identity ({home.key_file})")
    secret = env_passphrase()
    if passphrase and secret is None:
        secret = typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    signer = create_key_file(home.key_file, secret if (passphrase or secret) else None)
    Store(home.store_file).close()
    typer.echo(f"created identity {peer_id(signer.public_key)}")
    typer.echo(f"home: {home.path}")


def whoami(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show this node's participant id (its libp2p peer id)."""
    state = session(ctx)
    ident = peer_id(state.public_key())
    if as_json:
        print_json({"id": ident, "home": str(state.home.path)})
    else:
        typer.echo(ident)


def _author_option(text: str | None) -> bytes | None:
    from samoorg.protocol.ids import parse_peer_id

    return None if text is None else parse_peer_id(text)


def log(
    ctx: typer.Context,
    author: Annotated[str | None, typer.Option("--author", help="Only this author's feed.")] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only entries of this kind (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Show at most N (0 = all).")] = 0,
    invalid: Annotated[
        bool,
        typer.Option("--invalid", help="Only entries the views ignore, with the reason."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List stored entries in arrival order."""
    state = session(ctx)
    store = state.store()
    selected = [
        entry for _, entry in store.entries(author=_author_option(author), kinds=kind or None)
    ]
    if invalid:
        from samoorg.crdt.views import Views

        reasons = Views(state.index()).invalid()
        selected = [e for e in selected if e.id in reasons]
    if limit:
        selected = selected[-limit:]
    if invalid:
        _print_invalid(selected, reasons, as_json)
        return
    if as_json:
        print_json([entry_json(e) for e in selected])
        return
    rows = [
        (
            e.id.hex()[:12],
            peer_id(e.author)[-10:],
            e.seq,
            format_time(e.timestamp),
            e.kind,
            _summary(e.body),
        )
        for e in selected
    ]
    print_table(None, ["id", "author", "seq", "time (UTC)", "kind", "body"], rows)


def _print_invalid(selected: list[Entry], reasons: dict[bytes, str], as_json: bool) -> None:
    if as_json:
        print_json([{**entry_json(e), "invalid": reasons[e.id]} for e in selected])
        return
    rows = [
        (e.id.hex()[:12], peer_id(e.author)[-10:], e.seq, e.kind, reasons[e.id]) for e in selected
    ]
    print_table(None, ["id", "author", "seq", "kind", "ignored because"], rows)


def _summary(body: object, width: int = 60) -> str:
    from samoorg.cli.output import jsonable

    text = json.dumps(jsonable(body), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def verify(ctx: typer.Context) -> None:
    """Re-verify every stored entry, backlink and fork proof."""
    store = session(ctx).store()
    problems = store.verify_all()
    stats = store.stats()
    if problems:
        for line in problems[:20]:
            typer.echo(line, err=True)
        raise HomeError(f"store is NOT consistent: {len(problems)} problem(s) found")
    typer.echo(
        f"ok: {stats.entries} entries in {stats.feeds} feeds verified; {stats.forked} fork proof(s)"
    )


def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Bundle file to write ('-' for stdout).")],
    author: Annotated[str | None, typer.Option("--author", help="Only this author's feed.")] = None,
) -> None:
    """Write feeds and fork proofs to a bundle file (sneakernet sync)."""
    from samoorg.protocol.bundle import BundleWriter, RecordType

    store = session(ctx).store()
    only = _author_option(author)
    writer = BundleWriter()
    count = 0
    out: BinaryIO
    target = None
    if str(file) == "-":
        out = sys.stdout.buffer
    else:
        target = file.with_name(file.name + ".partial")
        out = target.open("wb")
    try:
        out.write(writer.header())
        for head in store.heads():
            if only is not None and head.author != only:
                continue
            after = 0
            while True:
                raws = store.feed_raw(head.author, after, 1000)
                if not raws:
                    break
                for raw in raws:
                    out.write(writer.record(RecordType.ENTRY, raw))
                after += len(raws)
                count += len(raws)
        proofs = [p for p in store.fork_proofs() if only is None or p.author == only]
        for proof in proofs:
            out.write(writer.record(RecordType.FORK_PROOF, proof.to_bytes()))
        out.write(writer.trailer())
        out.flush()
    finally:
        if target is not None:
            out.close()
    if target is not None:
        target.replace(file)  # an interrupted export never leaves a half bundle under FILE
    typer.echo(f"exported {count} entries and {len(proofs)} fork proof(s) to {file}", err=True)


def _read_records(path: Path, *, keep: bool) -> list[tuple[int, bytes]]:
    """Stream the bundle once; return (type, payload) pairs if ``keep``."""
    from samoorg.protocol.bundle import END, BundleDecoder, Record

    decoder = BundleDecoder()
    records: list[tuple[int, bytes]] = []
    with sys.stdin.buffer if str(path) == "-" else path.open("rb") as handle:
        while True:
            item = decoder.next_record()
            if item is END:
                break
            if not isinstance(item, Record):  # NEED_DATA
                decoder.receive_data(handle.read(READ_CHUNK))
            elif keep:
                records.append((int(item.type), item.payload))
    return records


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Bundle file to read ('-' for stdin).")],
    as_json: JsonFlag = False,
) -> None:
    """Verify and import a bundle; report new, already-had and rejected entries."""
    from samoorg.node.store import IngestReport, Rejection
    from samoorg.protocol.bundle import RecordType
    from samoorg.protocol.errors import RemoteProtocolError

    # Structure and checksum first: a truncated or corrupted file imports nothing.
    records = _read_records(file, keep=True)
    store = session(ctx).store()
    report = IngestReport()
    entries = [payload for kind, payload in records if kind == RecordType.ENTRY]
    proofs = [payload for kind, payload in records if kind == RecordType.FORK_PROOF]
    for payload in proofs:
        try:
            proof = store.ingest_fork_proof(payload)
        except RemoteProtocolError as exc:
            report.rejected.append(Rejection(-1, exc.name, str(exc)))
        else:
            if proof is not None:
                report.forks.append(proof)
    pending = entries
    # Batches are sorted per feed, but a bundle may spread a feed over
    # batches in any order: retry gap rejections while that makes progress.
    while pending:
        round_report = IngestReport()
        for start in range(0, len(pending), IMPORT_BATCH):
            round_report.merge(store.ingest(pending[start : start + IMPORT_BATCH]))
        gaps = [r for r in round_report.rejected if r.error == "WrongSequence"]
        report.new.extend(round_report.new)
        report.duplicates += round_report.duplicates
        report.forks.extend(round_report.forks)
        if not gaps or not round_report.new:
            report.rejected.extend(round_report.rejected)
            break
        report.rejected.extend(r for r in round_report.rejected if r.error != "WrongSequence")
        wanted = {(r.author, r.seq) for r in gaps}
        pending = [raw for raw in pending if _feed_key(raw) in wanted]
    _print_import(report, as_json)
    if report.rejected:
        raise typer.Exit(1)


def _feed_key(raw: bytes) -> tuple[bytes | None, int | None]:
    from samoorg.protocol.entry import decode_entry
    from samoorg.protocol.errors import ProtocolError

    try:
        entry = decode_entry(raw, verify_signature=False)
    except ProtocolError:
        return None, None
    return entry.author, entry.seq


def _print_import(report: IngestReport, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "new": len(report.new),
                "already_had": report.duplicates,
                "rejected": [
                    {"error": r.error, "message": r.message, "where": r.describe()}
                    for r in report.rejected
                ],
                "fork_proofs": len(report.forks),
            }
        )
    else:
        typer.echo(
            f"imported {len(report.new)} new entries, {report.duplicates} already had, "
            f"{len(report.rejected)} rejected, {len(report.forks)} new fork proof(s)"
        )
        for rejection in report.rejected[:20]:
            typer.echo(f"  rejected {rejection.describe()}", err=True)
        if len(report.rejected) > 20:
            typer.echo(f"  … and {len(report.rejected) - 20} more", err=True)
    if report.rejected:
        typer.echo(
            f"error: {len(report.rejected)} item(s) of the bundle were rejected; "
            "everything valid was imported",
            err=True,
        )


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.command()(init)
    app.command()(whoami)
    app.command()(log)
    app.command()(verify)
    app.command()(export)
    app.command("import")(import_)
