"""Commands over the local feed and store: init, whoami, log, verify, export, import."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, Final, Protocol

import typer

from samoorg.cli.context import Session, on_terminal, session
from samoorg.cli.output import (
    count,
    fail_line,
    format_time,
    print_json,
    print_table,
)
from samoorg.cli.paging import (
    DEFAULT_LIMIT,
    AllFlag,
    CursorOption,
    LimitOption,
    Page,
    Paging,
    paging,
    print_next_page,
)
from samoorg.node.errors import HomeError, NodeError, StoreError
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.cli.daemon_client import DaemonClient
    from samoorg.node.store import IngestReport, Rejection, Store
    from samoorg.protocol.bundle import Record
    from samoorg.protocol.fork import ForkProof

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IMPORT_BATCH = 2000
READ_CHUNK = 1 << 20


def init(
    ctx: typer.Context,
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help="Protect the key with a passphrase (asked on the terminal). If "
            "SAMOORG_PASSPHRASE is set, the key is always sealed with it.",
        ),
    ] = False,
    join_identity: Annotated[
        str | None,
        typer.Option(
            "--join-identity",
            metavar="CODE",
            help="Join an existing identity as a new device, with the code of 'samoorg device "
            "add' on one of its devices.",
        ),
    ] = None,
) -> None:
    """Create a new identity and an empty store in the home directory."""
    from samoorg.node.keystore import PASSPHRASE_ENV, create_key_file, env_passphrase
    from samoorg.node.store import Store

    home = session(ctx).home
    if home.path.exists() and not home.path.is_dir():
        raise HomeError(
            f"'{home.path}' is a file: give --home a directory, or a path that does not exist yet"
        )
    if home.key_file.exists():
        raise HomeError(f"{home.path} already holds an identity ({home.key_file})")
    secret = env_passphrase()
    if passphrase and secret == "":
        raise typer.BadParameter(
            f"--passphrase asks for a passphrase, but {PASSPHRASE_ENV} is empty"
        )
    if passphrase and secret is None:
        if not on_terminal():
            raise typer.BadParameter(
                f"--passphrase needs a terminal to ask for the passphrase: set {PASSPHRASE_ENV}"
            )
        secret = typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    if join_identity is not None:
        from samoorg.protocol.device_code import parse_device_code

        parse_device_code(join_identity)  # a bad code creates nothing
    signer = create_key_file(home.key_file, secret or None)
    Store(home.store_file).close()
    typer.echo(f"created identity {peer_id(signer.public_key)}")
    typer.echo(f"home: {home.path}")
    if join_identity is not None:
        from samoorg.cli.device_commands import join_identity as join

        join(ctx, join_identity)


def whoami(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show your participant id (your identity) and, if it differs, this device's id.

    An identity is named by the key of its first device; this device's key is
    its libp2p peer id (``docs/protocol.md`` §8.11).
    """
    state = session(ctx)
    device = state.public_key()
    ident = _joined(state) or peer_id(device)
    if as_json:
        print_json({"id": ident, "device": peer_id(device), "home": str(state.home.path)})
    else:
        typer.echo(ident)
        if ident != peer_id(device):
            typer.echo(f"this device: {peer_id(device)}")


def _joined(state: Session) -> str | None:
    """The identity this device joined, as recorded by ``init --join-identity`` (read
    without the store, so ``whoami`` stays light; the views are the authority)."""
    from samoorg.protocol.ids import BadIdentifier, parse_peer_id

    try:
        text = state.home.joined_file.read_text(encoding="utf-8").strip()
        parse_peer_id(text)
    except (OSError, UnicodeDecodeError, BadIdentifier):
        return None
    return text


def _author_option(state: Session, text: str | None) -> bytes | None:
    """The participant ``--author`` names (an id, a fragment of one or a name)."""
    return None if text is None else state.resolve_member(text)


def log(
    ctx: typer.Context,
    author: Annotated[str | None, typer.Option("--author", help="Only this author's feed.")] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only entries of this kind (repeatable).")
    ] = None,
    invalid: Annotated[
        bool,
        typer.Option("--invalid", help="Only entries the views ignore, with the reason."),
    ] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    every: AllFlag = False,
    cursor: CursorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List stored entries, newest first (one page; --all for every entry)."""
    from samoorg.node.api.shapes import log_page

    state = session(ctx)
    asked = paging(limit, every, cursor)
    before = asked.start or None
    if kind:
        _check_kinds(state, kind)
    if invalid:
        _print_invalid(state, _author_option(state, author), kind or [], asked, as_json)
        return

    def local() -> Page:
        # The daemon resolves --author the same way (``node/names.py``).
        author_key = _author_option(state, author)
        rows = state.store().entries_newest_first(before=before, author=author_key, kinds=kind)
        return Page(*log_page(rows, asked.limit))

    page = state.ask(
        lambda daemon: daemon.page("/log", {"author": author, "kind": kind or None}, asked), local
    )
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    rows = [
        (
            e["id"][:12],
            names.label_text(e["author"]),
            e["seq"],
            format_time(e["timestamp"]),
            e["kind"],
            _summary(e["body"]),
        )
        for e in page.items
    ]
    print_table(None, ["id", "author", "seq", "time (UTC)", "kind", "body"], rows)
    print_next_page(["log"], page)


def _check_kinds(state: Session, kinds: Sequence[str]) -> None:
    """Refuse (as bad usage) a kind that no view reads and no stored entry has."""
    from samoorg.crdt.framework.registry import kind_names

    known = kind_names()
    for name in kinds:
        if name in known:
            continue

        def remote(daemon: DaemonClient, name: str = name) -> bool:
            return bool(daemon.get("/log", {"kind": name, "limit": 1})["items"])

        def local(name: str = name) -> bool:
            return next(state.store().entries(kinds=[name]), None) is not None

        stored = state.ask(remote, local)
        if not stored:
            raise typer.BadParameter(
                f"unknown kind {name!r}; known kinds: {', '.join(sorted(known))}",
                param_hint="'--kind'",
            )


def _print_invalid(
    state: Session, author: bytes | None, kinds: list[str], asked: Paging, as_json: bool
) -> None:
    """``log --invalid``: entries the views ignore and why, newest first."""
    from samoorg.node.api.shapes import invalid_items, log_page

    def local() -> Page:
        reasons = state.live().views.invalid()
        rows = (
            (rowid, entry)
            for rowid, entry in state.store().entries_newest_first(
                before=asked.start or None, author=author, kinds=kinds or None
            )
            if entry.id in reasons
        )
        items, next_cursor = log_page(rows, asked.limit)
        return Page(invalid_items(items, reasons), next_cursor)

    query = {"author": None if author is None else peer_id(author), "kind": kinds or None}
    page = state.ask(lambda daemon: daemon.page("/log", {**query, "invalid": True}, asked), local)
    if as_json:
        print_json(page.as_json())
        return
    names = state.names()
    table = [
        (e["id"][:12], names.label_text(e["author"]), e["seq"], e["kind"], e["invalid"])
        for e in page.items
    ]
    print_table(None, ["id", "author", "seq", "kind", "ignored because"], table)
    print_next_page(["log", "--invalid"], page)


def _summary(body: object, width: int = 60) -> str:
    import json

    from samoorg.cli.output import jsonable

    text = json.dumps(jsonable(body), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Re-verify every stored entry, backlink and fork proof."""
    from samoorg.node.store import RECOVERY

    store = session(ctx).store()
    found = store.verify_report()
    stats = store.stats()
    if as_json:
        print_json(
            {
                "ok": not found.problems,
                "entries": stats.entries,
                "feeds": stats.feeds,
                "fork_proofs": stats.forked,
                "problems": found.problems,
                "warnings": found.warnings,
            }
        )
        if found.problems:
            raise StoreError(
                f"store is NOT consistent: {count(len(found.problems), 'problem')} found"
            )
        return
    for line in found.warnings[:20]:
        typer.echo(f"warning: {line}", err=True)
    if found.problems:
        for line in found.problems[:20]:
            typer.echo(line, err=True)
        raise StoreError(
            f"store is NOT consistent: {count(len(found.problems), 'problem')} found; "
            f"to recover, {RECOVERY}"
        )
    warned = f"; {count(len(found.warnings), 'warning')}" if found.warnings else ""
    typer.echo(
        f"ok: {count(stats.entries, 'entry', 'entries')} in {count(stats.feeds, 'feed')} "
        f"verified; {count(stats.forked, 'fork proof')}{warned}"
    )


def export(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Bundle file to write ('-' for stdout).")],
    author: Annotated[str | None, typer.Option("--author", help="Only this author's feed.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts as JSON (not with '-').")
    ] = False,
) -> None:
    """Write feeds and fork proofs to a bundle file (sneakernet sync)."""
    if as_json and str(file) == "-":
        raise typer.BadParameter("--json needs a FILE: with '-' the bundle itself is on stdout")
    store = session(ctx).store()
    only = _author_option(session(ctx), author)
    if str(file) == "-":
        entries, proofs = _write_bundle(store, only, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        # Written beside the target and renamed at the end, so an interrupted
        # export never leaves a half bundle under FILE.
        partial = file.with_name(file.name + ".partial")
        _check_writable(file)
        try:
            with partial.open("wb") as out:
                entries, proofs = _write_bundle(store, only, out)
            partial.replace(file)
        except OSError as exc:
            # Name the file the user asked for, not our temporary one.
            raise OSError(exc.errno, exc.strerror, str(file)) from None
        finally:
            partial.unlink(missing_ok=True)
    if as_json:
        print_json({"file": str(file), "entries": entries, "fork_proofs": proofs})
        return
    typer.echo(
        f"exported {count(entries, 'entry', 'entries')} and {count(proofs, 'fork proof')} "
        f"to {file}",
        err=True,
    )


def _check_writable(file: Path) -> None:
    """Refuse a target that is a directory, or whose folder is missing, before any work."""
    if file.is_dir():
        raise NodeError(f"'{file}' is a directory: give the path of the bundle file to write")
    if not file.parent.is_dir():
        raise NodeError(f"cannot write '{file}': the folder '{file.parent}' does not exist")


def _write_bundle(store: Store, only: bytes | None, out: BinaryIO) -> tuple[int, int]:
    """Stream every feed (or only one author's) and the fork proofs; return the counts."""
    from samoorg.cli.progress import Progress
    from samoorg.protocol.bundle import BundleWriter, RecordType

    writer = BundleWriter()
    count = 0
    out.write(writer.header())
    heads = [h for h in store.heads() if only is None or h.author == only]
    with Progress("exporting", sum(h.seq for h in heads)) as bar:
        for head in heads:
            after = 0
            while raws := store.feed_raw(head.author, after, 1000):
                for raw in raws:
                    out.write(writer.record(RecordType.ENTRY, raw))
                after += len(raws)
                count += len(raws)
                bar.update(count)
    proofs = [p for p in store.fork_proofs() if only is None or p.author == only]
    for proof in proofs:
        out.write(writer.record(RecordType.FORK_PROOF, proof.to_bytes()))
    out.write(writer.trailer())
    return count, len(proofs)


def _records(handle: BinaryIO) -> Iterator[Record]:
    """Every record of a bundle; raises BadBundle on any framing or checksum error."""
    from samoorg.protocol.bundle import END, BundleDecoder, Record

    decoder = BundleDecoder()
    while True:
        item = decoder.next_record()
        if item is END:
            return
        if isinstance(item, Record):
            yield item
        else:  # NEED_DATA
            decoder.receive_data(handle.read(READ_CHUNK))


@contextmanager
def _open_bundle(file: Path) -> Iterator[BinaryIO]:
    """The bundle as a seekable file.

    A stream that cannot seek (stdin as '-', a pipe such as ``<(...)`` or
    ``/dev/stdin``) is read once, sequentially, into a temporary file first.
    """
    import shutil
    import tempfile

    with ExitStack() as stack:
        source: BinaryIO = (
            sys.stdin.buffer if str(file) == "-" else stack.enter_context(file.open("rb"))
        )
        if source.seekable():
            yield source
            return
        spool = stack.enter_context(tempfile.TemporaryFile())
        shutil.copyfileobj(source, spool, READ_CHUNK)
        spool.seek(0)
        yield spool


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Bundle file to read ('-' for stdin).")],
    as_json: JsonFlag = False,
) -> None:
    """Verify and import a bundle; report new, already-had and rejected entries."""
    from samoorg.cli.progress import Progress, deferred_interrupt
    from samoorg.node.store import IngestReport

    state = session(ctx)
    client = state.daemon()
    # Through the daemon when it runs: its write path verifies, stores, updates
    # its views and announces (POST /import); else on the store directly.
    sink: _Sink = _StoreSink(state.store()) if client is None else _DaemonSink(client, state)
    before = state.own_cut() if client is None else None
    report = IngestReport()
    with _open_bundle(file) as handle:
        # Pass 1, framing and checksum only: a truncated or corrupted file
        # imports nothing. Pass 2 streams the records into the store.
        start, total = handle.tell(), 0
        try:
            with Progress("checking", unit="records") as checking:
                for _ in _records(handle):
                    total += 1
                    if total % IMPORT_BATCH == 0:
                        checking.update(total)
        except KeyboardInterrupt:
            sys.stderr.write("interrupted while checking the bundle: nothing was imported\n")
            raise typer.Exit(130) from None
        handle.seek(start)
        with deferred_interrupt() as interrupt, Progress("importing", total) as bar:

            def step(done: int) -> None:
                bar.update(done, f"{len(report.new)} new")
                if interrupt.requested:
                    raise _Interrupted(done)

            try:
                _import_records(sink, _records(handle), report, step)
            except _Interrupted as stop:
                bar.close()
                _print_import(report, as_json)
                sys.stderr.write(
                    f"interrupted after {stop.done} of {count(total, 'record')} of the bundle; "
                    "what was imported is stored: import the same bundle again to finish\n"
                )
                raise typer.Exit(130) from None
    _print_import(report, as_json)
    if report.rejected:
        first = report.rejected[0]
        message = (
            f"{count(len(report.rejected), 'item')} of the bundle rejected (first: "
            f"{first.describe()}); everything valid was imported"
        )
        sys.stderr.write(fail_line(message) + "\n")
    if isinstance(sink, _DaemonSink):
        if sink.cuts is not None:
            state.end_if_cut_lowered(*sink.cuts)
    else:
        state.end_if_newly_forked(before)
    if report.rejected:
        raise typer.Exit(1)


class _Interrupted(Exception):
    """Ctrl-C, taken between two batches after ``done`` records."""

    def __init__(self, done: int) -> None:
        super().__init__(done)
        self.done = done


def _import_records(
    sink: _Sink | Store,
    records: Iterable[Record],
    report: IngestReport,
    step: Callable[[int], None] = lambda done: None,
) -> None:
    """Ingest entries in batches, then fork proofs (so a node's export imports cleanly).

    Rejections are numbered by record position in the bundle (from 0).
    ``step(records done)`` runs after each batch (each store transaction); it
    may raise to stop there.
    """
    from dataclasses import replace

    from samoorg.node.store import Store
    from samoorg.protocol.bundle import RecordType
    from samoorg.protocol.errors import BadSignature, WrongSequence

    store = _StoreSink(sink) if isinstance(sink, Store) else sink
    retried = {WrongSequence.__name__, BadSignature.__name__}
    proofs: list[tuple[int, bytes]] = []
    gaps: list[tuple[int, bytes, Rejection]] = []
    batch: list[tuple[int, bytes]] = []

    def flush(items: Sequence[tuple[int, bytes]]) -> list[tuple[int, bytes, Rejection]]:
        # Returns the entries refused for a gap or a signature: their
        # predecessors, or a later entry that signs for them (protocol §4.1),
        # may come later in the bundle (a bundle may hold a feed in any order).
        done = store.ingest([raw for _, raw in items])
        report.new.extend(done.new)
        report.duplicates += done.duplicates
        report.forks.extend(done.forks)
        held_back = []
        for rejection in done.rejected:
            number, raw = items[rejection.index]
            numbered = replace(rejection, index=number)
            if rejection.error in retried:
                held_back.append((number, raw, numbered))
            else:
                report.rejected.append(numbered)
        return held_back

    seen = 0
    for seen, record in enumerate(records, start=1):
        if record.type is RecordType.FORK_PROOF:
            proofs.append((seen - 1, record.payload))
            continue
        batch.append((seen - 1, record.payload))
        if len(batch) >= IMPORT_BATCH:
            gaps += flush(batch)
            batch = []
            step(seen)
    gaps += flush(batch)
    step(seen)
    # Retry the gaps while that makes progress; what is left is a real gap.
    while gaps:
        before = len(report.new)
        still = flush([(number, raw) for number, raw, _ in gaps])
        step(seen)
        if len(report.new) == before:
            report.rejected.extend(rejection for _, _, rejection in still)
            break
        gaps = still
    kept, refused = store.ingest_fork_proofs([payload for _, payload in proofs])
    report.forks.extend(kept)
    report.rejected.extend(replace(r, index=proofs[r.index][0]) for r in refused)
    report.rejected.sort(key=lambda rejection: rejection.index)


class _Sink(Protocol):
    """Where an import's records go: the store, or the running daemon (``POST /import``)."""

    @property
    def local(self) -> Store | None:
        """The store, if records were written to it directly."""

    def ingest(self, raws: Sequence[bytes]) -> IngestReport:
        """:meth:`Store.ingest` of one batch (rejections numbered within it)."""

    def ingest_fork_proofs(
        self, payloads: Sequence[bytes]
    ) -> tuple[list[ForkProof], list[Rejection]]:
        """The new fork proofs kept, and the refused ones (numbered within ``payloads``)."""


@dataclass
class _StoreSink:
    """Records written to the store by this process (no daemon runs)."""

    store: Store

    @property
    def local(self) -> Store | None:
        return self.store

    def ingest(self, raws: Sequence[bytes]) -> IngestReport:
        return self.store.ingest(raws)

    def ingest_fork_proofs(
        self, payloads: Sequence[bytes]
    ) -> tuple[list[ForkProof], list[Rejection]]:
        return self.store.ingest_fork_proofs(payloads)


IMPORT_BODY: Final = 48 * 1024
"""Bytes of base64 records per ``POST /import`` (under the API's 64 KiB body cap)."""
BUSY_RETRIES: Final = 60
"""Times a batch refused for the rate limit is sent again (it did nothing) before giving up."""


@dataclass
class _DaemonSink:
    """Records sent to the running daemon, in requests under the API's body cap.

    A record too large for one request (an entry near 64 KiB, in base64) is
    written on the store directly: the store's one write transaction makes
    both paths correct, and the daemon reads it from the store.
    """

    client: DaemonClient
    state: Session
    cuts: tuple[int | None, int | None] | None = None
    """Our own feed's fork cut before the first request and after the last (the daemon's)."""
    local: Store | None = None
    gone: bool = False
    """The daemon stopped answering: the rest goes to the store directly."""

    def ingest(self, raws: Sequence[bytes]) -> IngestReport:
        from dataclasses import replace

        from samoorg.node.api.ingest_shapes import rejection_from_json
        from samoorg.node.store import IngestReport
        from samoorg.protocol.entry import decode_entry

        report = IngestReport()
        for start, stop in _chunks(raws):
            part = raws[start:stop]
            too_large = stop - start == 1 and _encoded_size(raws[start]) > IMPORT_BODY
            answer = None if too_large else self._post({"entries": [_b64(raw) for raw in part]})
            if answer is None:
                done = self._store().ingest(part)
            else:
                done = IngestReport()
                new = set(answer["new_ids"])
                done.new = [
                    entry
                    for entry in (decode_entry(raw, verify_signature=False) for raw in part)
                    if entry.id.hex() in new
                ]
                done.duplicates = answer["duplicates"]
                done.rejected = [rejection_from_json(r) for r in answer["rejected"]]
            report.new.extend(done.new)
            report.duplicates += done.duplicates
            report.forks.extend(done.forks)
            report.rejected.extend(replace(r, index=r.index + start) for r in done.rejected)
        return report

    def ingest_fork_proofs(
        self, payloads: Sequence[bytes]
    ) -> tuple[list[ForkProof], list[Rejection]]:
        from samoorg.node.api.ingest_shapes import rejection_from_json
        from samoorg.node.store import Rejection
        from samoorg.protocol.fork import ForkProof

        kept: list[ForkProof] = []
        refused: list[Rejection] = []
        for number, payload in enumerate(payloads):  # few; each may be up to two entries large
            too_large = _encoded_size(payload) > IMPORT_BODY
            answer = None if too_large else self._post({"fork_proofs": [_b64(payload)]})
            if answer is None:
                more, bad = _StoreSink(self._store()).ingest_fork_proofs([payload])
            else:
                more = [ForkProof.from_bytes(payload)] if answer["forks"] else []
                bad = [rejection_from_json(r) for r in answer["rejected_proofs"]]
            kept += more
            refused += [Rejection(number, r.error, r.message) for r in bad]
        return kept, refused

    def _store(self) -> Store:
        self.local = self.state.store()
        return self.local

    def _post(self, body: dict[str, list[str]]) -> dict[str, Any] | None:
        """The daemon's answer, or ``None`` once it no longer answers (use the store)."""
        import json
        import time

        from samoorg.cli.daemon_client import DaemonBusy, DaemonUnavailable
        from samoorg.node.api.ingest_shapes import OWN_CUT_BEFORE_HEADER, OWN_CUT_HEADER

        for _ in range(BUSY_RETRIES):
            if self.gone:
                return None
            try:
                answer, headers = self.client.post_answer("/import", body)
            except DaemonBusy as busy:  # refused before anything was done: send it again
                time.sleep(min(busy.retry_after, 2.0))
                continue
            except DaemonUnavailable as exc:  # nothing was sent: the store takes the rest
                sys.stderr.write(f"warning: the daemon did not answer ({exc}); using the store\n")
                self.gone = True
                return None
            before = json.loads(headers.get(OWN_CUT_BEFORE_HEADER, "null"))
            after = json.loads(headers.get(OWN_CUT_HEADER, "null"))
            self.cuts = (before if self.cuts is None else self.cuts[0], after)
            assert isinstance(answer, dict)
            return answer
        raise NodeError("the daemon stayed busy (rate limited): import the bundle again later")


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")


def _encoded_size(raw: bytes) -> int:
    return (len(raw) + 2) // 3 * 4 + 4


def _chunks(raws: Sequence[bytes]) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` runs of ``raws`` whose base64 fits in :data:`IMPORT_BODY`."""
    start, size = 0, 0
    for index, raw in enumerate(raws):
        grown = size + _encoded_size(raw)
        if index > start and grown > IMPORT_BODY:
            yield start, index
            start, grown = index, _encoded_size(raw)
        size = grown
    if start < len(raws):
        yield start, len(raws)


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
        return
    typer.echo(
        f"imported {count(len(report.new), 'new entry', 'new entries')}, "
        f"{report.duplicates} already had, {len(report.rejected)} rejected, "
        f"{count(len(report.forks), 'new fork proof')}"
    )
    for rejection in report.rejected[:20]:
        typer.echo(f"  rejected {rejection.describe()}")
    if len(report.rejected) > 20:
        typer.echo(f"  … and {len(report.rejected) - 20} more")


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.command()(init)
    app.command()(whoami)
    app.command()(log)
    app.command()(verify)
    app.command()(export)
    app.command("import")(import_)
