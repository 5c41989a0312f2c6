"""The local store: every verified entry and fork proof, in SQLite (WAL mode).

Invariants (each write is one transaction, so they hold after a crash at any
moment, ``kill -9`` included):

* Every row in ``entries`` was decoded and authenticated before it was
  written, and extends its author's feed: the rows of one author are exactly
  seq ``1..head`` with each ``prev`` equal to the id of the row before it.
  A feed is therefore always a prefix of what its author signed.
  *Authenticated* is the one validity rule of ``docs/protocol.md`` §4.1: the
  entry's own signature verifies, or a later stored entry of the same feed
  with a valid signature commits to it through the hash links. Every write
  path applies it (:meth:`Store.ingest` checks every signature and accepts an
  entry without a valid one of its own only when the entry that signs for it
  is stored in the same batch; :meth:`Store.ingest_runs` checks the last
  signature of a hash-linked run). In particular every feed's head carries a
  valid signature of its own.
* ``feeds`` holds each author's head (seq, id) and is updated in the same
  transaction as the rows it describes.
* A fork proof is stored once per author, verifies on its own (§4.3), and
  flags the author.
  After a fork we keep what we had and accept no later entries from that
  author; the proof itself is what gets replicated.
* ``entries.rowid`` increases with arrival, so readers can follow changes
  (``entries(since=...)``) without scanning.

Concurrency: several processes (CLI commands and the daemon) may open the same
store. Writers take ``BEGIN IMMEDIATE``; readers never block writers (WAL).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from samoorg.crdt.algorithms.listing_match import ListingQuery
from samoorg.node import listing_index
from samoorg.node.errors import Ambiguous, NotFound, OwnFeedMissing, StoreDamaged, StoreError
from samoorg.node.own_fork import WAY_OUT, notice_path, write_notice
from samoorg.node.own_head import OwnHeadRecord, RecordedHead
from samoorg.node.sqlite_errors import describe, guarded, guarded_rows, is_damage
from samoorg.node.verifier import Verifier
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import Entry, create_entry, decode_entry
from samoorg.protocol.errors import (
    BadForkProof,
    BadSignature,
    FeedError,
    ProtocolError,
    RemoteProtocolError,
)
from samoorg.protocol.feed import FeedHead, Placement, check_extends
from samoorg.protocol.fork import MAX_FORK_PROOF_DEPTH, MAX_FORK_PROOF_SIZE, ForkProof
from samoorg.protocol.ids import peer_id
from samoorg.protocol.validity import Authenticated, authenticate, linked_runs

SCHEMA_VERSION: Final = 4
# Version 2 dropped the index on ``entries.id``: its keys are random, so every
# batch rewrote pages all over it and a commit cost grew with the store (the
# (author, seq) index already makes rows unique; ids are looked up by scan).
# Version 3 added the search index of portal listings (node/listing_index.py),
# filled from the held entries by the upgrade. Version 4 keeps every version of
# a listing in that index (the views decide which counts), so version 3's
# tables are dropped and the index is built again from the held entries.
_TABLES: Final = (
    """CREATE TABLE IF NOT EXISTS entries (
        rowid     INTEGER PRIMARY KEY,
        author    BLOB    NOT NULL,
        seq       INTEGER NOT NULL,
        id        BLOB    NOT NULL,
        kind      TEXT    NOT NULL,
        timestamp INTEGER NOT NULL,
        raw       BLOB    NOT NULL
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS entries_by_feed ON entries (author, seq)",
    "CREATE INDEX IF NOT EXISTS entries_by_kind ON entries (kind)",
    """CREATE TABLE IF NOT EXISTS feeds (
        author BLOB    PRIMARY KEY,
        seq    INTEGER NOT NULL,
        id     BLOB    NOT NULL,
        forked INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS fork_proofs (
        author   BLOB    PRIMARY KEY,
        proof    BLOB    NOT NULL,
        found_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
)
_FROM_V1: Final = (
    # Rebuild ``entries`` without the UNIQUE id index (rowids kept, so readers
    # following ``since=rowid`` are not disturbed).
    "ALTER TABLE entries RENAME TO entries_v1",
    "DROP INDEX IF EXISTS entries_by_kind",
    _TABLES[0],
    "INSERT INTO entries (rowid, author, seq, id, kind, timestamp, raw) "
    "SELECT rowid, author, seq, id, kind, timestamp, raw FROM entries_v1",
    "DROP TABLE entries_v1",
    *_TABLES[1:3],
)
_TO_V4: Final = listing_index.TABLES


_META_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"
)
"""Created on first use (:meth:`Store.store_id`), so older stores need no schema upgrade."""

_ROWS_ALL: Final = (
    "SELECT author, seq, id, CAST(kind AS BLOB), timestamp, raw FROM entries "
    "WHERE rowid > ? ORDER BY author, seq"
)
"""The rows a check reads, in feed order (the feed index's)."""
_ROWS_SINCE: Final = _ROWS_ALL.replace("FROM entries", "FROM entries NOT INDEXED")
"""The same after a rowid, found by rowid and sorted: with the feed index SQLite would
read every row's key (1.3 s for a thousand new rows at 1M); so are the walk's anchors."""

MAX_HELD: Final = 4096
"""Most entries ``ingest_runs(..., hold_tail=True)`` holds back waiting for a signature."""
FORKED_AUTHOR: Final = "ForkedAuthor"
"""Rejection name for an entry that extends the feed of an author flagged by a fork proof."""
_INSERT_ENTRY: Final = (
    "INSERT INTO entries (author, seq, id, kind, timestamp, raw) VALUES (?, ?, ?, ?, ?, ?)"
)
_UPSERT_FEED: Final = (
    "INSERT INTO feeds (author, seq, id, forked) VALUES (?, ?, ?, ?) ON CONFLICT (author) "
    "DO UPDATE SET seq = excluded.seq, id = excluded.id, forked = max(forked, excluded.forked)"
)


def _proof_entries(data: bytes) -> tuple[bytes, bytes]:
    """The two entries of a stored proof (verified before it was stored)."""
    value = dcbor.decode(data, max_size=MAX_FORK_PROOF_SIZE, max_depth=MAX_FORK_PROOF_DEPTH)
    assert isinstance(value, list)
    a, b = value[1], value[2]
    assert isinstance(a, bytes)
    assert isinstance(b, bytes)
    return a, b


def _rows(entries: Iterable[Entry]) -> list[tuple[bytes, int, bytes, str, int, bytes]]:
    """The ``entries`` rows of many entries (inline: this is the hot path of every write)."""
    return [(e.author, e.seq, e.id, e.kind, e.timestamp, e.raw) for e in entries]


def _feed_order(item: tuple[int, Entry]) -> tuple[bytes, int]:
    return item[1].author, item[1].seq


@dataclass(slots=True)
class _FeedState:
    """What a batch knows of one feed while it writes: its head (seq 0, id None: empty)."""

    seq: int
    id: bytes | None
    forked: bool
    cut: int = 0
    """For a forked feed, the first seq views ignore (§4.4): entries before it are still taken."""
    changed: bool = False
    stored_seq: int = field(init=False)
    stored_id: bytes | None = field(init=False)

    def __post_init__(self) -> None:
        self.stored_seq, self.stored_id = self.seq, self.id


@dataclass(slots=True)
class OwnFeed:
    """Our own feed inside :meth:`Store.own_feed`: its stored head and the entries signed since."""

    signer: Signer
    seq: int
    """Seq of the stored head (0: empty feed)."""
    prev: bytes | None
    last_timestamp: int
    made: list[Entry] = field(default_factory=list)

    def sign(
        self, kind: str, body: Mapping[str, dcbor.Value], *, timestamp: int | None = None
    ) -> Entry:
        """Sign the next entry (stored when the transaction ends, with the others)."""
        last = self.made[-1] if self.made else None
        if timestamp is None:  # one time for a whole chain, never before the head's
            timestamp = last.timestamp if last is not None else max(now_ms(), self.last_timestamp)
        entry = create_entry(
            self.signer,
            seq=self.seq + len(self.made) + 1,
            prev=last.id if last is not None else self.prev,
            timestamp=timestamp,
            kind=kind,
            body=body,
        )
        self.made.append(entry)
        return entry


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one input of a batch was not stored."""

    index: int
    error: str
    message: str
    author: bytes | None = None
    seq: int | None = None

    def describe(self) -> str:
        """One human line."""
        where = f"{peer_id(self.author)[:16]}…#{self.seq}" if self.author else f"item {self.index}"
        return f"{where}: {self.error}: {self.message}"


@dataclass(slots=True)
class IngestReport:
    """What one batch did: new entries (in stored order), duplicates, rejections, forks."""

    new: list[Entry] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    forks: list[ForkProof] = field(default_factory=list)
    held: list[Entry] = field(default_factory=list)
    """``ingest_runs(..., hold_tail=True)`` only: entries waiting for a later one that signs
    for them (neither stored nor rejected)."""

    def merge(self, other: IngestReport) -> None:
        """Add another batch's counts to this report."""
        self.new.extend(other.new)
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.forks.extend(other.forks)
        self.held.extend(other.held)


@dataclass(slots=True)
class VerifyReport:
    """What :meth:`Store.verify_report` found."""

    problems: list[str] = field(default_factory=list)
    """Broken invariants of the store (``samoorg verify`` fails)."""
    warnings: list[str] = field(default_factory=list)
    """Authors who signed over entries they never signed (valid, but worth knowing)."""
    through: int = 0
    """The highest entry rowid of the snapshot checked (0: no entries)."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Sizes for ``samoorg verify`` and the benchmarks."""

    entries: int
    feeds: int
    forked: int
    file_bytes: int


RECOVERY: Final = (
    "move the store aside, then get the feeds back with 'samoorg sync' from a peer or "
    "'samoorg import' of a bundle, or restore a backup"
)
"""How to recover from a damaged store (docs/user-guide.md, "Lost or damaged local state")."""


def damaged(path: Path, reason: str) -> StoreDamaged:
    """The error for a store whose file is damaged, saying how to recover."""
    return StoreDamaged(f"store {path} is damaged ({reason}): {RECOVERY}")


def now_ms() -> int:
    """Wall-clock time in milliseconds, the unit of entry timestamps."""
    return time.time_ns() // 1_000_000


class Store:
    """A node's SQLite store. Not thread-safe: use one instance per thread."""

    def __init__(
        self,
        path: Path,
        *,
        verifier: Verifier | None = None,
        own_head: OwnHeadRecord | None = None,
    ) -> None:
        self.path = path
        # The home's record of our own feed's head (samoorg.node.own_head): appends by
        # its identity are refused while the store holds less of that feed.
        self._own_head = own_head
        self._own_recorded = 0  # the highest own seq known to be recorded (only grows)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against process crashes (kill -9) in WAL mode;
            # only an OS crash or power loss can drop the last transactions.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"store {path} has schema {version}; this samoorg knows up to {SCHEMA_VERSION}"
                )
            if version < SCHEMA_VERSION:
                self._upgrade()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise self.database_error(exc) from None
            raise StoreError(f"cannot open store {path}: {describe(exc)}") from None
        self._verifier = verifier or Verifier()
        self._to_index: list[Entry] = []  # listing entries written in this transaction
        self._unsigned: set[bytes] = set()  # ids of held-back entries found unsigned

    def database_error(self, exc: sqlite3.Error, doing: str = "read") -> StoreError:
        """The one-line error for an SQLite error met while using the store."""
        if is_damage(exc):
            return damaged(self.path, describe(exc))
        return StoreError(f"cannot {doing} store {self.path}: {describe(exc)}")

    def _upgrade(self) -> None:
        # One transaction; the version is read again inside it, so two
        # processes opening an old store at once upgrade it once.
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            steps = {
                0: (*_TABLES, *_TO_V4),
                1: (*_FROM_V1, *_TO_V4),
                2: _TO_V4,
                3: (*listing_index.DROP_OLD, *_TO_V4),
            }.get(version, ())
            for statement in steps:
                db.execute(statement)
            if 0 < version < 4:
                listing_index.rebuild(db)
            db.execute(f"PRAGMA user_version={max(version, SCHEMA_VERSION)}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the database and stop verification threads."""
        self._verifier.close()
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back on any error, SQLite errors as StoreError."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.database_error(exc, "write to") from None
        self._to_index = []
        try:
            yield db
            if self._to_index:
                listing_index.index_entries(db, self._to_index)
            db.execute("COMMIT")
        except BaseException as exc:
            self._to_index = []
            if db.in_transaction:
                # If even ROLLBACK fails the connection is unusable; the
                # original error says why, so that is what propagates.
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self.database_error(exc, "write to") from None
            raise

    def _insert(self, entries: Sequence[Entry]) -> None:
        """Write new entry rows (in feed order) inside a write transaction.

        Listing entries among them are indexed at the end of the transaction,
        all at once (:func:`listing_index.index_entries`).
        """
        self._db.executemany(_INSERT_ENTRY, _rows(entries))
        kinds = listing_index.KINDS
        self._to_index.extend(e for e in entries if e.kind in kinds)

    def append(
        self,
        signer: Signer,
        kind: str,
        body: Mapping[str, dcbor.Value],
        *,
        timestamp: int | None = None,
    ) -> Entry:
        """Sign and store the next entry of ``signer``'s own feed, unchecked by any view.

        For records the views judge, use :mod:`samoorg.node.writer` instead.
        Raises :class:`~samoorg.protocol.errors.LocalProtocolError` for a bad
        kind or body, and :class:`StoreError` if our own feed is flagged as
        forked (the key was used elsewhere with another history).
        """
        with self.own_feed(signer) as feed:
            return feed.sign(kind, body, timestamp=timestamp)

    @contextmanager
    def own_feed(self, signer: Signer) -> Iterator[OwnFeed]:
        """One write transaction on our own feed: entries signed in it are stored at its end.

        ``BEGIN IMMEDIATE`` first, so no other process (CLI or daemon) can
        append or read a newer head in between: two writers never sign the same
        seq. Entries made with :meth:`OwnFeed.sign` are written when the block
        ends normally; an exception stores none of them. Raises
        :class:`StoreError` if our own feed is flagged as forked.

        With an own-head record for ``signer`` (see :mod:`samoorg.node.own_head`),
        the store must hold our feed up to the recorded head, or the write is
        refused with :class:`OwnFeedMissing`; the entries of an append the
        record holds but the store lacks (a kill before the commit) are stored
        first. The record is written before the commit.
        """
        own = self._own_head
        if own is not None and own.public_key != signer.public_key:
            own = None
        with self._transaction() as db:
            row = db.execute(
                "SELECT f.seq, f.id, f.forked, e.timestamp FROM feeds f "
                "LEFT JOIN entries e ON e.author = f.author AND e.seq = f.seq WHERE f.author = ?",
                (signer.public_key,),
            ).fetchone()
            if row is not None and row[2]:
                raise StoreError(
                    "your own feed is flagged as forked: this key signed two histories "
                    "(was the key file copied to another machine?); "
                    + WAY_OUT.format(cut=self._cut(signer.public_key))
                )
            if row is None or row[0] == 0:
                seq, prev, last_ts = 1, None, 0
            else:
                seq, prev, last_ts = row[0] + 1, row[1], row[3]
            if own is not None:
                seq, prev, last_ts = self._catch_up_own(own, seq, prev, last_ts)
            feed = OwnFeed(signer, seq - 1, prev, last_ts)
            yield feed
            if feed.made:
                last = feed.made[-1]
                if own is not None:
                    own.write(RecordedHead(last.seq, last.id, tuple(e.raw for e in feed.made)))
                    self._own_recorded = last.seq
                self._insert(feed.made)
                db.execute(_UPSERT_FEED, (last.author, last.seq, last.id, 0))

    def store_id(self) -> bytes:
        """This store's random identity (16 bytes), created on first use.

        Kept in the ``meta`` table, so a copy of the file keeps it and a new
        store gets another: derived state saved for one store (the views
        checkpoint, :mod:`samoorg.node.checkpoint`) is never applied to another.
        """
        found = self._meta_id()
        if found is not None:
            return found
        with self._transaction() as db:
            db.execute(_META_TABLE)
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?)",
                (secrets.token_bytes(16),),
            )
        found = self._meta_id()
        assert found is not None
        return found

    def _meta_id(self) -> bytes | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
        except sqlite3.OperationalError:  # no meta table yet
            return None
        return bytes(row[0]) if row else None

    def _catch_up_own(
        self, own: OwnHeadRecord, seq: int, prev: bytes | None, last_ts: int
    ) -> tuple[int, bytes | None, int]:
        """Check the store against the own-head record before an own append (in its transaction).

        Returns the next ``(seq, prev, last timestamp)``, after storing the
        entries of an append that the record holds and the store lacks.
        """
        recorded = own.read()
        held = seq - 1
        if recorded is None:
            return seq, prev, last_ts
        if recorded.seq <= held:
            if self._stored_id(own.public_key, recorded.seq) != recorded.id:
                raise OwnFeedMissing(
                    f"your own feed in store {self.path} differs from the one this home signed "
                    f"(entry #{recorded.seq}): was the key file used on another machine?"
                )
            self._own_recorded = max(self._own_recorded, recorded.seq)
            return seq, prev, last_ts
        fresh = self._recorded_tail(recorded, own.public_key, held, prev)
        if not fresh:
            raise OwnFeedMissing(
                f"your own feed ({recorded.seq} entries) is missing from store {self.path}, "
                f"which holds {held}: writing now would sign #{held + 1} a second time (a fork); "
                "get the feed back with 'samoorg sync' from a peer or 'samoorg import' of a "
                "bundle, or restore a backup"
            )
        self._insert(fresh)
        last = fresh[-1]
        self._db.execute(_UPSERT_FEED, (last.author, last.seq, last.id, 0))
        self._own_recorded = max(self._own_recorded, last.seq)
        return last.seq + 1, last.id, last.timestamp

    @staticmethod
    def _recorded_tail(
        recorded: RecordedHead, me: bytes, held: int, prev: bytes | None
    ) -> list[Entry]:
        """The recorded entries after our stored head ``held``, if they extend it to the record."""
        try:
            pending = [decode_entry(raw) for raw in recorded.entries]  # signatures checked
        except ProtocolError:
            return []
        fresh = [entry for entry in pending if entry.seq > held]
        runs = list(linked_runs(fresh))
        if len(runs) != 1 or fresh[0].author != me:
            return []
        if fresh[0].seq != held + 1 or fresh[0].prev != prev:
            return []
        if fresh[-1].seq != recorded.seq or fresh[-1].id != recorded.id:
            return []
        return fresh

    def _note_own_progress(self) -> None:
        """Raise the own-head record to our feed's stored head (inside an ingest transaction).

        Our own entries can arrive from elsewhere (a peer, a bundle, after a
        lost store); from then on the record must not be behind them.
        """
        own = self._own_head
        if own is None:
            return
        row = self._db.execute(
            "SELECT seq, id FROM feeds WHERE author = ? AND seq > 0", (own.public_key,)
        ).fetchone()
        if row is None or row[0] <= self._own_recorded:
            return
        recorded = own.read()
        if recorded is None or recorded.seq < row[0]:
            own.write(RecordedHead(row[0], row[1]))
        self._own_recorded = max(row[0], recorded.seq if recorded is not None else 0)

    @guarded
    def ingest(self, raws: Iterable[bytes]) -> IngestReport:
        """Verify and store a batch of encoded entries in one transaction.

        Entries may come in any order; they are sorted by (author, seq) and each
        must extend its feed. Every signature is checked; an entry whose own
        signature does not verify is still accepted when a later entry of the
        same batch, with a valid signature, commits to it through the hash
        links and is stored too (the validity rule of docs/protocol.md §4.1).
        Everything that fails is reported (rejections in input order), nothing
        unauthenticated is written. Fork evidence is stored as a proof.
        Entries whose exact bytes are already stored count as duplicates
        without a second signature check.
        """
        report = IngestReport()
        decoded: list[tuple[int, Entry]] = []
        for index, raw in enumerate(raws):
            try:
                decoded.append((index, decode_entry(raw, verify_signature=False)))
            except RemoteProtocolError as exc:
                report.rejected.append(Rejection(index, exc.name, str(exc)))
        self._ingest_decoded(decoded, report)
        report.rejected.sort(key=lambda rejection: rejection.index)
        return report

    def _ingest_decoded(self, decoded: list[tuple[int, Entry]], report: IngestReport) -> None:
        decoded = self._without_stored(decoded, report)
        if not decoded:
            return
        decoded.sort(key=_feed_order)
        checks = self._verifier.check([entry for _, entry in decoded])
        failed = any(error is not None for error in checks)
        batch = authenticate(decoded, checks) if failed else Authenticated(decoded)
        report.rejected.extend(
            Rejection(index, error.name, str(error), entry.author, entry.seq)
            for index, entry, error in batch.rejected
        )
        if batch.valid:
            with self._transaction():
                self._write_batch(batch, report)
                self._note_own_progress()

    def _without_stored(
        self, decoded: list[tuple[int, Entry]], report: IngestReport
    ) -> list[tuple[int, Entry]]:
        """``decoded`` less the entries already stored byte for byte (counted as duplicates).

        Only an entry at or below its feed's head can be stored; those are
        looked up by (author, seq), 500 at a time.
        """
        heads: dict[bytes, int] = {}
        candidates: dict[bytes, list[int]] = {}
        for _, entry in decoded:
            author = entry.author
            head = heads.get(author)
            if head is None:
                row = self._db.execute("SELECT seq FROM feeds WHERE author = ?", (author,))
                found = row.fetchone()
                head = heads[author] = found[0] if found else 0
            if entry.seq <= head:
                candidates.setdefault(author, []).append(entry.seq)
        if not candidates:
            return decoded
        stored: set[tuple[bytes, int, bytes]] = set()
        for author, seqs in candidates.items():
            for start in range(0, len(seqs), 500):
                part = seqs[start : start + 500]
                marks = ",".join("?" * len(part))  # only placeholders are interpolated
                sql = f"SELECT seq, id FROM entries WHERE author = ? AND seq IN ({marks})"  # noqa: S608
                stored.update((author, s, i) for s, i in self._db.execute(sql, (author, *part)))
        kept = [item for item in decoded if (item[1].author, item[1].seq, item[1].id) not in stored]
        report.duplicates += len(decoded) - len(kept)
        return kept

    def _write_batch(self, batch: Authenticated, report: IngestReport) -> None:
        # Runs inside the batch transaction, over authenticated entries sorted
        # by (author, seq). Heads are tracked in memory and rows are written
        # with one executemany at the end; ``pending`` lets conflict checks see
        # the rows of this batch that are not written yet.
        feeds: dict[bytes, _FeedState] = {}
        pending: dict[tuple[bytes, int], Entry] = {}
        written: dict[bytes, list[tuple[int, Entry]]] = {}
        for index, entry in batch.valid:
            author = entry.author
            state = feeds.get(author)
            if state is None:
                state = feeds[author] = self._feed_state(author)
            if (
                (not state.forked or entry.seq < state.cut)
                and entry.seq == state.seq + 1
                and entry.prev == state.id
            ):
                # The common case, inline: the next entry of the feed.
                pending[author, entry.seq] = entry
                state.seq, state.id, state.changed = entry.seq, entry.id, True
                written.setdefault(author, []).append((index, entry))
                continue
            if state.forked and entry.seq > state.seq and entry.seq >= state.cut:
                report.rejected.append(
                    Rejection(
                        index,
                        FORKED_AUTHOR,
                        "the author is flagged for a fork; entries from the fork on, beyond "
                        "what we hold, are not accepted",
                        author,
                        entry.seq,
                    )
                )
                continue

            def held(seq: int, author: bytes = author) -> Entry | None:
                return pending.get((author, seq)) or self.get(author, seq)

            head = FeedHead(author, state.seq, state.id) if state.id is not None else None
            try:
                placement = check_extends(head, entry, held)
            except FeedError as exc:
                report.rejected.append(Rejection(index, exc.name, str(exc), author, entry.seq))
                proof = self._evidence(exc.proof, held, batch) if exc.proof is not None else None
                if proof is not None and self._save_fork_proof(proof, author):
                    report.forks.append(proof)
                    state.forked = state.changed = True
                    state.cut = self._cut(author)
                continue
            if placement is Placement.DUPLICATE:
                report.duplicates += 1
                continue
            raise AssertionError(f"unexpected placement {placement}")  # pragma: no cover
        rows: list[Entry] = []
        for author, items in written.items():
            self._trim_unsigned_tail(items, feeds[author], batch, report)
            rows.extend(entry for _, entry in items)
        self._insert(rows)
        self._db.executemany(
            _UPSERT_FEED,
            [
                (a, s.seq, s.id if s.id is not None else b"", int(s.forked))
                for a, s in feeds.items()
                if s.changed
            ],
        )
        report.new.extend(rows)

    @staticmethod
    def _trim_unsigned_tail(
        items: list[tuple[int, Entry]],
        state: _FeedState,
        batch: Authenticated,
        report: IngestReport,
    ) -> None:
        # An entry without a valid signature of its own was accepted because a
        # later entry of the batch signs for it; if that entry was refused (a
        # fork was found meanwhile), so is this one: a stored head always
        # carries a valid signature of its own.
        if not batch.unsigned or not items or items[-1][1].id not in batch.unsigned:
            return
        while items and items[-1][1].id in batch.unsigned:
            index, entry = items.pop()
            report.rejected.append(
                Rejection(
                    index,
                    BadSignature.__name__,
                    "expected a valid signature of the author on this entry or on a stored "
                    "later entry that links to it, found neither (the entry that signs for "
                    "it was refused)",
                    entry.author,
                    entry.seq,
                )
            )
        if items:
            state.seq, state.id = items[-1][1].seq, items[-1][1].id
        else:
            state.seq, state.id = state.stored_seq, state.stored_id
        state.changed = state.forked or state.seq != state.stored_seq

    def _evidence(
        self, proof: ForkProof, held: Callable[[int], Entry | None], batch: Authenticated
    ) -> ForkProof | None:
        """A proof that verifies on its own for the conflict ``proof`` shows, or ``None``.

        The two conflicting entries make the proof unless one of them has no
        valid signature of its own (it was vouched for by a later entry). Then
        the author signed over an entry they never signed, and the first entry
        with a valid signature after it makes a signed-over proof (§4.3).
        """
        try:
            proof.verify()
        except BadForkProof:
            pass
        else:
            return proof
        for raw in (proof.a, proof.b):
            entry = decode_entry(raw, verify_signature=False)
            try:
                entry.verify()
            except BadSignature:
                pass
            else:
                continue
            current: Entry | None = entry
            while current is not None:
                following = batch.vouchers.get((current.author, current.seq, current.id))
                if following is None:
                    candidate = held(current.seq + 1)
                    following = (
                        candidate
                        if candidate is not None and candidate.prev == current.id
                        else None
                    )
                if following is None:
                    break
                try:
                    following.verify()
                except BadSignature:
                    current = following
                    continue
                return ForkProof.of(current, following)
        return None

    def _feed_state(self, author: bytes) -> _FeedState:
        row = self._db.execute(
            "SELECT seq, id, forked FROM feeds WHERE author = ?", (author,)
        ).fetchone()
        if row is None or row[0] == 0:
            forked = bool(row and row[2])
            return _FeedState(0, None, forked=forked, cut=self._cut(author) if forked else 0)
        forked = bool(row[2])
        return _FeedState(row[0], row[1], forked=forked, cut=self._cut(author) if forked else 0)

    def _cut(self, author: bytes) -> int:
        row = self._db.execute(
            "SELECT proof FROM fork_proofs WHERE author = ?", (author,)
        ).fetchone()
        return ForkProof(*_proof_entries(row[0])).cut if row else 1

    def _save_fork_proof(self, proof: ForkProof, author: bytes) -> bool:
        # Called inside a transaction, with a proof that verifies. Returns True
        # if the proof is new or lowers the author's cut (docs/protocol.md §4.4):
        # one proof per author is kept, the one with the lowest cut.
        proof = self._lowest_evidence(proof, author)
        row = self._db.execute(
            "SELECT proof FROM fork_proofs WHERE author = ?", (author,)
        ).fetchone()
        if row is not None and ForkProof(*_proof_entries(row[0])).cut <= proof.cut:
            return False
        self._db.execute(
            "INSERT INTO fork_proofs (author, proof, found_at) VALUES (?, ?, ?) "
            "ON CONFLICT (author) DO UPDATE SET proof = excluded.proof, "
            "found_at = excluded.found_at",
            (author, proof.to_bytes(), now_ms()),
        )
        # A fork proof can arrive before any entry of its author (seq 0).
        self._db.execute(
            "INSERT INTO feeds (author, seq, id, forked) VALUES (?, 0, x'', 1) "
            "ON CONFLICT (author) DO UPDATE SET forked = 1",
            (author,),
        )
        own = self._own_head
        if own is not None and own.public_key == author:
            write_notice(notice_path(own.path.parent), proof.cut)  # node/own_fork.py
        return True

    def _lowest_evidence(self, proof: ForkProof, author: bytes) -> ForkProof:
        """``proof``, or a lower one built with our entry before its cut (§4.4).

        A pinned proof says the histories share the chain ending at its
        anchor. If the entry we hold at ``cut - 1`` is another one, our branch
        parted earlier: that entry and the proof's entry at the cut, which
        links elsewhere, make a backlink proof (cut 1).
        """
        anchor = proof.anchor
        if anchor is None:
            return proof
        ours = self.get(author, proof.cut - 1)
        if ours is None or ours.id == anchor:
            return proof
        lower = ForkProof.of(ours, decode_entry(proof.a, verify_signature=False))
        try:
            lower.verify()
        except BadForkProof:  # our entry is only signed for (§4.1): keep the pinned proof
            return proof
        return lower

    @guarded
    def ingest_fork_proof(self, data: bytes) -> ForkProof | None:
        """Verify and store a fork proof received from elsewhere.

        Returns the proof kept if it is new or lowers the author's cut,
        ``None`` if a proof with a cut at most as low was already stored.
        Raises :class:`RemoteProtocolError` if it proves nothing.
        """
        proof = ForkProof.from_bytes(data)
        with self._transaction():
            new = self._save_fork_proof(proof, proof.author)
        return self.fork_proof(proof.author) if new else None

    def ingest_fork_proofs(
        self, payloads: Sequence[bytes]
    ) -> tuple[list[ForkProof], list[Rejection]]:
        """:meth:`ingest_fork_proof` for each of a bundle's proofs: the ones kept, and a
        :class:`Rejection` (by position) for each that proves nothing."""
        kept: list[ForkProof] = []
        refused: list[Rejection] = []
        for number, payload in enumerate(payloads):
            try:
                proof = self.ingest_fork_proof(payload)
            except RemoteProtocolError as exc:
                refused.append(Rejection(number, exc.name, str(exc)))
            else:
                if proof is not None:
                    kept.append(proof)
        return kept, refused

    @guarded
    def ingest_runs(self, entries: Sequence[Entry], *, hold_tail: bool = False) -> IngestReport:
        """Store hash-linked runs of decoded entries with one signature check per run.

        ``entries`` must come from ``decode_entry(raw, verify_signature=False)``
        (replication decodes each batch once). They are cut into *runs*:
        maximal stretches of consecutive items by one author in which each
        ``seq`` is one more than the one before and each ``prev`` is the id of
        the one before. A run that extends its stored feed (possibly after
        repeating a stretch we hold, which counts as duplicates) is stored
        after checking one signature: its **last** entry's. That signature
        covers, through the hash links, every entry of the run and the stored
        head it extends, so every row stays authenticated by its author's key
        (the validity rule of ``docs/protocol.md`` §4.1; §7.9 argues why this
        stores exactly what checking every signature would).

        A run that does not fit (a gap, a fork, a bad last signature, a
        flagged author) is handed to the per-entry path of :meth:`ingest`,
        which checks every signature and reports each problem. Fast runs are
        written in one transaction, the handed-over runs in a second one.

        With ``hold_tail``, a last run that fits but whose last entries have
        no valid signature of their own is stored up to its last entry that
        has one, and the rest is returned in :attr:`IngestReport.held`
        (neither stored nor rejected, at most :data:`MAX_HELD` entries): a
        later entry that signs for them may come in the next batch, so the
        caller passes them again in front of it.
        """
        report = IngestReport()
        slow: list[tuple[int, Entry]] = []
        runs = list(linked_runs(entries))
        with self._transaction():
            for number, run in enumerate(runs):
                last = hold_tail and number == len(runs) - 1
                if not self._store_run(run, report, hold=last):
                    slow.extend((len(slow), e) for e in run)
            self._note_own_progress()
        if slow:
            self._ingest_decoded(slow, report)
        return report

    def _store_run(self, run: list[Entry], report: IngestReport, *, hold: bool) -> bool:
        # Inside a transaction. Returns False (having written nothing) when the
        # run needs the per-entry path.
        author, first = run[0].author, run[0].seq
        state = self._feed_state(author)
        if state.forked or first > state.seq + 1:
            return False
        if first <= state.seq:
            # The run overlaps what we hold. Equal ids at the last shared seq
            # mean (by the hash links) the whole overlap is what we hold.
            shared = min(run[-1].seq, state.seq)
            held_id = state.id if shared == state.seq else self._stored_id(author, shared)
            if run[shared - first].id != held_id:
                return False
            fresh = run[shared - first + 1 :]
        elif run[0].prev != state.id:
            return False
        else:
            fresh = run
        duplicates = len(run) - len(fresh)
        if fresh:
            try:
                fresh[-1].verify()
            except BadSignature:
                if not hold:
                    return False
                self._unsigned.add(fresh[-1].id)
                signed = self._last_signed(fresh)
                if len(fresh) - signed - 1 > MAX_HELD:
                    return False
                report.held.extend(fresh[signed + 1 :])
                fresh = fresh[: signed + 1]
        if fresh:
            self._insert(fresh)
            self._db.execute(_UPSERT_FEED, (author, fresh[-1].seq, fresh[-1].id, 0))
            report.new.extend(fresh)
        report.duplicates += duplicates
        return True

    def _last_signed(self, run: Sequence[Entry]) -> int:
        """Index of the last entry of ``run`` whose own signature verifies, or -1.

        Entries found unsigned before (held back, then passed again with the
        next batch) are not checked again; the memory of them is bounded.
        """
        unsigned = self._unsigned
        if len(unsigned) > 4 * MAX_HELD:
            unsigned.clear()
        for position in range(len(run) - 1, -1, -1):
            entry = run[position]
            if entry.id in unsigned:
                continue
            try:
                entry.verify()
            except BadSignature:
                unsigned.add(entry.id)
                continue
            return position
        return -1

    def _stored_id(self, author: bytes, seq: int) -> bytes | None:
        row = self._db.execute(
            "SELECT id FROM entries WHERE author = ? AND seq = ?", (author, seq)
        ).fetchone()
        return row[0] if row else None

    # -- reading ---------------------------------------------------------

    @guarded
    def head(self, author: bytes) -> FeedHead | None:
        """The latest entry we hold of ``author``'s feed, or ``None``."""
        row = self._db.execute(
            "SELECT seq, id FROM feeds WHERE author = ? AND seq > 0", (author,)
        ).fetchone()
        return FeedHead(author, row[0], row[1]) if row else None

    @guarded
    def heads(self) -> list[FeedHead]:
        """Every feed we hold, ordered by author."""
        rows = self._db.execute(
            "SELECT author, seq, id FROM feeds WHERE seq > 0 ORDER BY author"
        ).fetchall()
        return [FeedHead(a, s, i) for a, s, i in rows]

    @guarded
    def is_forked(self, author: bytes) -> bool:
        """Whether a fork proof flags ``author``."""
        row = self._db.execute("SELECT forked FROM feeds WHERE author = ?", (author,)).fetchone()
        return bool(row and row[0])

    @guarded
    def forked_authors(self) -> set[bytes]:
        """Every author flagged by a fork proof."""
        return {a for (a,) in self._db.execute("SELECT author FROM fork_proofs")}

    @guarded
    def fork_cuts(self) -> dict[bytes, int]:
        """``{forked author: cut}``: the first seq of each flagged feed that views ignore (§4.4)."""
        rows = self._db.execute("SELECT author, proof FROM fork_proofs").fetchall()
        return {a: ForkProof(*_proof_entries(p)).cut for a, p in rows}

    @guarded
    def fork_proofs(self) -> list[ForkProof]:
        """Every stored fork proof (already verified on arrival)."""
        rows = self._db.execute("SELECT proof FROM fork_proofs ORDER BY author").fetchall()
        return [ForkProof.from_bytes(p) for (p,) in rows]

    @guarded
    def fork_proof(self, author: bytes) -> ForkProof | None:
        """The stored fork proof flagging ``author``, re-verified, or ``None``.

        Raises :class:`RemoteProtocolError` if the stored proof does not verify
        (only a store written by an older version holds such a proof: proofs
        are verified before they are stored, docs/protocol.md §4.3).
        """
        row = self._db.execute(
            "SELECT proof FROM fork_proofs WHERE author = ?", (author,)
        ).fetchone()
        return ForkProof.from_bytes(row[0]) if row else None

    def _entry(self, raw: bytes) -> Entry:
        # Rows were verified before they were written; `samoorg verify`
        # re-checks signatures and links independently of this path. A row
        # that no longer decodes was damaged on disk.
        try:
            return decode_entry(raw, verify_signature=False)
        except ProtocolError as exc:
            raise damaged(self.path, f"a stored entry does not decode: {exc.name}") from None

    @guarded
    def get(self, author: bytes, seq: int) -> Entry | None:
        """The entry at ``seq`` of ``author``'s feed, if held."""
        row = self._db.execute(
            "SELECT raw FROM entries WHERE author = ? AND seq = ?", (author, seq)
        ).fetchone()
        return self._entry(row[0]) if row else None

    @guarded
    def get_by_id(self, entry_id: bytes, until: int | None = None) -> Entry | None:
        """The entry whose id is ``entry_id``, if held (at rowid ``until`` or before, if given;
        a scan: ids are not indexed)."""
        limit = (1 << 63) - 1 if until is None else until
        row = self._db.execute(
            "SELECT raw FROM entries WHERE id = ? AND rowid <= ? LIMIT 1", (entry_id, limit)
        ).fetchone()
        return self._entry(row[0]) if row else None

    @guarded
    def resolve(self, prefix: str, kinds: Sequence[str] = ()) -> Entry:
        """The one entry whose hex id starts with ``prefix`` (at least 4 hex digits).

        With ``kinds``, only entries of those kinds are considered (a prefix that
        is ambiguous among all entries may be unique among pledges). A scan of
        the ids (they are not indexed: see ``SCHEMA_VERSION``), about 20 ms per
        100,000 entries. Callers that name the candidates of an ambiguous prefix
        use :meth:`matching` (``node/names.py``).
        """
        matches = self.matching(prefix, kinds, 2)
        text = prefix.strip().lower()
        if not matches:
            raise NotFound(f"no entry with id starting {text}")
        if len(matches) > 1:
            raise Ambiguous(f"id prefix {text} matches several entries; give more digits")
        return matches[0]

    @guarded
    def matching(self, prefix: str, kinds: Sequence[str] = (), limit: int = 10) -> list[Entry]:
        """At most ``limit`` entries whose hex id starts with ``prefix``, of ``kinds`` if given."""
        text = prefix.strip().lower()
        if len(text) < 4 or any(c not in "0123456789abcdef" for c in text):
            raise NotFound(f"expected an entry id (at least 4 hex digits), found {prefix!r}")
        whole = bytes.fromhex(text[: len(text) // 2 * 2])
        query = "SELECT id, raw FROM entries WHERE substr(id, 1, ?) = ?"
        params: list[object] = [len(whole), whole]
        if kinds:
            query += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kinds)
        found: list[Entry] = []
        for eid, raw in self._db.execute(query, params):
            if eid.hex().startswith(text):
                found.append(self._entry(raw))
                if len(found) >= limit:
                    break
        return found

    def entries(
        self,
        *,
        author: bytes | None = None,
        kinds: Sequence[str] | None = None,
        since: int = 0,
        until: int | None = None,
        limit: int | None = None,
    ) -> Iterator[tuple[int, Entry]]:
        """``(rowid, entry)`` pairs in arrival order, optionally filtered.

        ``since`` is an exclusive rowid lower bound, for following changes;
        ``until`` an inclusive upper bound (the rows a checkpoint covers);
        ``limit`` the most rows read (the first ones).
        """
        before = None if until is None else until + 1
        rows = self._entry_rows(author, kinds, since, before=before, limit=limit)
        return guarded_rows(self, rows)

    @guarded
    def entry_at(self, rowid: int) -> Entry | None:
        """The entry stored at ``rowid``, if any."""
        row = self._db.execute("SELECT raw FROM entries WHERE rowid = ?", (rowid,)).fetchone()
        return self._entry(row[0]) if row else None

    def _entry_rows(
        self,
        author: bytes | None,
        kinds: Sequence[str] | None,
        since: int,
        *,
        before: int | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[int, Entry]]:
        sql = "SELECT rowid, raw FROM entries WHERE rowid > ?"
        params: list[object] = [since]
        if before is not None:
            sql += " AND rowid < ?"
            params.append(before)
        if author is not None:
            sql += " AND author = ?"
            params.append(author)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params.extend(kinds)
        sql += " ORDER BY rowid DESC" if newest_first else " ORDER BY rowid"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        for rowid, raw in self._db.execute(sql, params):
            yield rowid, self._entry(raw)

    def entries_newest_first(
        self,
        *,
        before: int | None = None,
        author: bytes | None = None,
        kinds: Sequence[str] | None = None,
    ) -> Iterator[tuple[int, Entry]]:
        """``(rowid, entry)`` pairs newest first, below rowid ``before`` if given, filtered.

        Read lazily (a page of ``samoorg log`` reads only what it shows).
        """
        rows = self._entry_rows(author, kinds, 0, before=before, newest_first=True)
        return guarded_rows(self, rows)

    @guarded
    def feed_raw(self, author: bytes, after_seq: int, limit: int) -> list[bytes]:
        """Raw entries of ``author`` with seq > ``after_seq``, in order, at most ``limit``."""
        rows = self._db.execute(
            "SELECT raw FROM entries WHERE author = ? AND seq > ? ORDER BY seq LIMIT ?",
            (author, after_seq, limit),
        ).fetchall()
        return [raw for (raw,) in rows]

    @guarded
    def listing_candidates(
        self, query: ListingQuery, *, before: int | None = None, limit: int = 50
    ) -> list[tuple[int, bytes]]:
        """``(row number, id)`` of search candidates, newest first, below row number
        ``before`` (the views decide which match: :func:`samoorg.node.listing_search.search`)."""
        return listing_index.candidates(self._db, query, before=before, limit=limit)

    @guarded
    def listing_count(self) -> int:
        """How many listings the search index holds."""
        return listing_index.count(self._db)

    @guarded
    def change_marker(self) -> tuple[int, int]:
        """Cheap value that changes whenever an entry or fork proof is stored."""
        (rowid,) = self._db.execute("SELECT COALESCE(MAX(rowid), 0) FROM entries").fetchone()
        (proofs,) = self._db.execute("SELECT COUNT(*) FROM fork_proofs").fetchone()
        return int(rowid), int(proofs)

    @guarded
    def stats(self) -> StoreStats:
        """Entry, feed and fork counts, and the size of the database files."""
        (entries,) = self._db.execute("SELECT COUNT(*) FROM entries").fetchone()
        (feeds,) = self._db.execute("SELECT COUNT(*) FROM feeds WHERE seq > 0").fetchone()
        (forked,) = self._db.execute("SELECT COUNT(*) FROM fork_proofs").fetchone()
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return StoreStats(entries, feeds, forked, size)

    @guarded
    def checkpoint(self) -> None:
        """Fold the WAL into the main file (for size measurements and backups)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- checking ----------------------------------------------------------

    def verify_all(self) -> list[str]:
        """Re-verify every stored entry, link and fork proof; return the problems found.

        The problems of :meth:`verify_report` (its warnings are left out).
        """
        return self.verify_report().problems

    @guarded
    def checked_through(self) -> int:
        """The highest entry rowid of the last clean start-up check (:meth:`note_checked`)."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'checked'").fetchone()
        except sqlite3.OperationalError:  # no meta table yet
            return 0
        return int(row[0]) if row and isinstance(row[0], int) else 0

    @guarded
    def note_checked(self, through: int) -> None:
        """Record that a check found the rows up to rowid ``through`` consistent.

        Kept in the ``meta`` table of the file it describes; a later
        ``verify_report(since=...)`` checks only the rows stored after them.
        """
        with self._transaction() as db:
            db.execute(_META_TABLE)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('checked', ?)", (through,))

    @guarded
    def verify_report(self, *, signatures: bool = True, since: int = 0) -> VerifyReport:
        """Re-verify every stored entry, link and fork proof.

        ``since`` (a rowid of an earlier clean check, :meth:`checked_through`)
        limits the rows decoded to those stored after it and the feeds they
        extend: each is walked from its last row before them, whose recorded id
        the check trusts. The file's structure (SQLite's quick check) and the fork
        proofs are checked whole either way; fewer rows than ``since`` is a problem.

        ``signatures=False`` checks everything but the signatures (each was
        checked before its row was written): what ``samoorg node run`` checks
        at start. Damage to an entry's bytes still shows, as an id that is
        not the hash of the bytes or a broken link.

        This is independent of the write path: it decodes every row, checks
        every signature, checks the indexed columns against the bytes, and
        walks every feed from seq 1 to its recorded head. It reads one
        snapshot, so a concurrent writer cannot cause false alarms.

        An entry whose own signature does not verify is authenticated when a
        later entry of its feed with a valid signature links to it (the
        validity rule, docs/protocol.md §4.1): that is a *warning* naming the
        author, who signed over entries they never signed, not a problem of
        the store. Anything else that breaks an invariant is a *problem*.
        """
        result = VerifyReport()
        problems = result.problems
        self._db.execute("BEGIN")  # a read transaction: one WAL snapshot throughout
        try:
            # SQLite's own check of the file's structure (pages, indexes).
            problems.extend(
                f"SQLite: {line}"
                for (line,) in self._db.execute("PRAGMA quick_check(20)")
                if line != "ok"
            )
            result.through = self.change_marker()[0]
            if since > result.through:
                problems.append(
                    f"the store ends at row {result.through}, but row {since} was checked before"
                )
            heads = {h.author: h for h in self.heads()}
            walked = self._verify_rows(result, signatures=signatures, since=since)
            if since:
                heads = {author: heads[author] for author in walked.keys() & heads.keys()}
            for author, head in heads.items():
                if walked.get(author) != (head.seq, head.id):
                    problems.append(
                        f"{peer_id(author)}: recorded head #{head.seq} does not match its rows"
                    )
            for author in walked.keys() - heads.keys():
                problems.append(f"{peer_id(author)}: entries without a recorded head")
            flagged = {a for (a,) in self._db.execute("SELECT author FROM feeds WHERE forked = 1")}
            for author, raw in self._db.execute("SELECT author, proof FROM fork_proofs"):
                try:
                    proof = ForkProof.from_bytes(raw)
                except RemoteProtocolError as exc:
                    problems.append(f"fork proof: {exc.name}: {exc}")
                    continue
                if proof.author != author or author not in flagged:
                    problems.append(f"{peer_id(author)}: fork proof not filed under its author")
        finally:
            self._db.execute("COMMIT")
        return result

    def _verify_rows(
        self, result: VerifyReport, *, signatures: bool, since: int
    ) -> dict[bytes, tuple[int, bytes]]:
        """Check the entry rows after rowid ``since`` in (author, seq) order; return each
        feed's (seq, id) end (only the feeds those rows extend)."""
        walked = self._walk_anchors(since)
        # Per author: the entries since the last one with a valid signature of
        # its own, each with its error; a later valid entry that links to them
        # authenticates them all (warning), the end of the feed does not (problem).
        unsigned: list[tuple[Entry, BadSignature]] = []

        def where(author: bytes, seq: int) -> str:
            # Only when there is something to say: a peer id costs a base58 encoding.
            return f"{peer_id(author)}#{seq}"

        def settle(signed_by: Entry | None) -> None:
            if not unsigned:
                return
            if signed_by is None:
                for entry, error in unsigned:
                    result.problems.append(
                        f"{where(entry.author, entry.seq)}: {error.name}: {error}"
                    )
            else:
                seqs = ", ".join(f"#{entry.seq}" for entry, _ in unsigned[:10])
                more = f" and {len(unsigned) - 10} more" if len(unsigned) > 10 else ""
                one = len(unsigned) == 1
                result.warnings.append(
                    f"{peer_id(signed_by.author)}: {seqs}{more} "
                    f"{'carries' if one else 'carry'} no valid signature of "
                    f"{'its' if one else 'their'} own; #{signed_by.seq} signs for "
                    f"{'it' if one else 'them'} (the author signed over "
                    f"{'an entry' if one else 'entries'} they never signed)"
                )
            unsigned.clear()

        # The kind as bytes: a damaged TEXT value would not even decode.
        rows = self._db.execute(_ROWS_SINCE if since else _ROWS_ALL, (since,))
        while batch := rows.fetchmany(2048):
            entries: list[tuple[bytes, int, Entry]] = []
            for author, seq, eid, kind, stamp, raw in batch:
                try:
                    entry = decode_entry(raw, verify_signature=False)
                except ProtocolError as exc:
                    result.problems.append(f"{where(author, seq)}: {exc.name}: {exc}")
                    continue
                columns = (entry.author, entry.seq, entry.id, entry.kind.encode(), entry.timestamp)
                if (*columns, entry.raw) != (author, seq, eid, kind, stamp, raw):
                    result.problems.append(
                        f"{where(author, seq)}: row columns disagree with its bytes"
                    )
                entries.append((author, seq, entry))
            checks = (
                self._verifier.check([entry for _, _, entry in entries])
                if signatures
                else [None] * len(entries)
            )
            for (author, seq, entry), error in zip(entries, checks, strict=True):
                last_seq, last_id = walked.get(author, (0, None))
                if last_seq == 0 or seq != last_seq + 1 or entry.prev != last_id:
                    settle(None)  # a new feed, or the chain is broken: nothing signs for them
                if seq != last_seq + 1:
                    result.problems.append(
                        f"{where(author, seq)}: expected seq {last_seq + 1} here, a gap"
                    )
                elif entry.prev != last_id:
                    result.problems.append(
                        f"{where(author, seq)}: prev does not link to seq {last_seq}"
                    )
                if error is None:
                    settle(entry)
                else:
                    unsigned.append((entry, error))
                walked[author] = (seq, entry.id)
        settle(None)
        return walked

    def _walk_anchors(self, since: int) -> dict[bytes, tuple[int, bytes]]:
        """For each feed with rows after rowid ``since``: the (seq, recorded id) of its row
        just before them, where :meth:`_verify_rows` walks on from (none: from seq 1)."""
        if not since:
            return {}
        anchors: dict[bytes, tuple[int, bytes]] = {}
        firsts = self._db.execute(
            "SELECT author, MIN(seq) FROM entries NOT INDEXED WHERE rowid > ? GROUP BY author",
            (since,),
        ).fetchall()
        for author, first in firsts:
            row = self._db.execute(
                "SELECT id FROM entries WHERE author = ? AND seq = ?", (author, first - 1)
            ).fetchone()
            if row is not None:
                anchors[bytes(author)] = (first - 1, bytes(row[0]))
        return anchors
