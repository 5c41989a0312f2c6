"""The local store: every verified entry and fork proof, in SQLite (WAL mode).

Invariants (each write is one transaction, so they hold after a crash at any
moment, ``kill -9`` included):

* Every row in ``entries`` was decoded and authenticated before it was
  written, and extends its author's feed: the rows of one author are exactly
  seq ``1..head`` with each ``prev`` equal to the id of the row before it.
  A feed is therefore always a prefix of what its author signed.
  *Authenticated* means its own signature verified (:meth:`Store.ingest`,
  :meth:`Store.append`) or, for :meth:`Store.ingest_runs`, the signature of
  a later entry of the same hash-linked run did, which commits to it.
* ``feeds`` holds each author's head (seq, id) and is updated in the same
  transaction as the rows it describes.
* A fork proof is stored once per author, verified, and flags the author.
  After a fork we keep what we had and accept no later entries from that
  author; the proof itself is what gets replicated.
* ``entries.rowid`` increases with arrival, so readers can follow changes
  (``entries(since=...)``) without scanning.

Concurrency: several processes (CLI commands and the daemon) may open the same
store. Writers take ``BEGIN IMMEDIATE``; readers never block writers (WAL).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Final

from samoorg.node.errors import Ambiguous, NotFound, StoreError
from samoorg.node.verifier import Verifier
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import Entry, create_entry, decode_entry
from samoorg.protocol.errors import BadSignature, FeedError, ProtocolError, RemoteProtocolError
from samoorg.protocol.feed import FeedHead, Placement, check_extends
from samoorg.protocol.fork import ForkProof
from samoorg.protocol.ids import peer_id

SCHEMA_VERSION: Final = 1
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS entries (
    rowid     INTEGER PRIMARY KEY,
    author    BLOB    NOT NULL,
    seq       INTEGER NOT NULL,
    id        BLOB    NOT NULL UNIQUE,
    kind      TEXT    NOT NULL,
    timestamp INTEGER NOT NULL,
    raw       BLOB    NOT NULL,
    UNIQUE (author, seq)
);
CREATE INDEX IF NOT EXISTS entries_by_kind ON entries (kind);
CREATE TABLE IF NOT EXISTS feeds (
    author BLOB    PRIMARY KEY,
    seq    INTEGER NOT NULL,
    id     BLOB    NOT NULL,
    forked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fork_proofs (
    author   BLOB    PRIMARY KEY,
    proof    BLOB    NOT NULL,
    found_at INTEGER NOT NULL
) WITHOUT ROWID;
"""


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

    def merge(self, other: IngestReport) -> None:
        """Add another batch's counts to this report."""
        self.new.extend(other.new)
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.forks.extend(other.forks)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Sizes for ``samoorg verify`` and the benchmarks."""

    entries: int
    feeds: int
    forked: int
    file_bytes: int


def now_ms() -> int:
    """Wall-clock time in milliseconds, the unit of entry timestamps."""
    return time.time_ns() // 1_000_000


class Store:
    """A node's SQLite store. Not thread-safe: use one instance per thread."""

    def __init__(self, path: Path, *, verifier: Verifier | None = None) -> None:
        self.path = path
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
                self._db.executescript(
                    f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;"
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open store {path}: {exc}") from None
        self._verifier = verifier or Verifier()

    def close(self) -> None:
        """Close the database and stop verification threads."""
        self._verifier.close()
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------

    def append(
        self,
        signer: Signer,
        kind: str,
        body: Mapping[str, dcbor.Value],
        *,
        timestamp: int | None = None,
    ) -> Entry:
        """Sign and store the next entry of ``signer``'s own feed.

        Raises :class:`~samoorg.protocol.errors.LocalProtocolError` for a bad
        kind or body, and :class:`StoreError` if our own feed is flagged as
        forked (the key was used elsewhere with another history).
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT f.seq, f.id, f.forked, e.timestamp FROM feeds f "
                "JOIN entries e ON e.author = f.author AND e.seq = f.seq WHERE f.author = ?",
                (signer.public_key,),
            ).fetchone()
            if row is not None and row[2]:
                raise StoreError(
                    "your own feed is flagged as forked: this key signed two histories "
                    "(was the key file copied to another machine?)"
                )
            seq, prev, last_ts = (row[0] + 1, row[1], row[3]) if row else (1, None, 0)
            stamp = timestamp if timestamp is not None else max(now_ms(), last_ts)
            entry = create_entry(signer, seq=seq, prev=prev, timestamp=stamp, kind=kind, body=body)
            self._insert(entry)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return entry

    def ingest(self, raws: Iterable[bytes]) -> IngestReport:
        """Verify and store a batch of encoded entries in one transaction.

        Entries may come in any order; they are sorted by (author, seq) and each
        must extend its feed. Everything that fails is reported, nothing
        unverified is written. Fork evidence is stored as a proof.
        """
        report = IngestReport()
        decoded: list[tuple[int, Entry]] = []
        for index, raw in enumerate(raws):
            try:
                decoded.append((index, decode_entry(raw, verify_signature=False)))
            except RemoteProtocolError as exc:
                report.rejected.append(Rejection(index, exc.name, str(exc)))
        checks = self._verifier.check([entry for _, entry in decoded])
        valid: list[tuple[int, Entry]] = []
        for (index, entry), error in zip(decoded, checks, strict=True):
            if error is None:
                valid.append((index, entry))
            else:
                report.rejected.append(
                    Rejection(index, error.name, str(error), entry.author, entry.seq)
                )
        valid.sort(key=lambda item: (item[1].author, item[1].seq))
        self._write_batch(valid, report)
        return report

    def _write_batch(self, valid: Sequence[tuple[int, Entry]], report: IngestReport) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            heads: dict[bytes, FeedHead | None] = {}
            forked: dict[bytes, bool] = {}
            for index, entry in valid:
                author = entry.author
                if author not in heads:
                    heads[author] = self.head(author)
                    forked[author] = self.is_forked(author)
                head = heads[author]
                try:
                    placement = check_extends(head, entry, partial(self.get, author))
                except FeedError as exc:
                    report.rejected.append(Rejection(index, exc.name, str(exc), author, entry.seq))
                    if exc.proof is not None and self._save_fork_proof(exc.proof, author):
                        report.forks.append(exc.proof)
                        forked[author] = True
                    continue
                if placement is Placement.DUPLICATE:
                    report.duplicates += 1
                    continue
                if forked[author]:
                    report.rejected.append(
                        Rejection(
                            index,
                            "ForkedAuthor",
                            "the author is flagged for a fork; later entries are not accepted",
                            author,
                            entry.seq,
                        )
                    )
                    continue
                self._insert(entry)
                heads[author] = FeedHead(author, entry.seq, entry.id)
                report.new.append(entry)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _insert(self, entry: Entry) -> None:
        self._db.execute(
            "INSERT INTO entries (author, seq, id, kind, timestamp, raw) VALUES (?, ?, ?, ?, ?, ?)",
            (entry.author, entry.seq, entry.id, entry.kind, entry.timestamp, entry.raw),
        )
        self._db.execute(
            "INSERT INTO feeds (author, seq, id) VALUES (?, ?, ?) "
            "ON CONFLICT (author) DO UPDATE SET seq = excluded.seq, id = excluded.id",
            (entry.author, entry.seq, entry.id),
        )

    def _save_fork_proof(self, proof: ForkProof, author: bytes) -> bool:
        # Called inside a transaction. Returns True if the proof is new.
        exists = self._db.execute(
            "SELECT 1 FROM fork_proofs WHERE author = ?", (author,)
        ).fetchone()
        if exists:
            return False
        self._db.execute(
            "INSERT INTO fork_proofs (author, proof, found_at) VALUES (?, ?, ?)",
            (author, proof.to_bytes(), now_ms()),
        )
        self._db.execute("UPDATE feeds SET forked = 1 WHERE author = ?", (author,))
        return True

    def ingest_fork_proof(self, data: bytes) -> ForkProof | None:
        """Verify and store a fork proof received from elsewhere.

        Returns the proof if it is new, ``None`` if this author was already
        flagged. Raises :class:`RemoteProtocolError` if it proves nothing.
        """
        proof = ForkProof.from_bytes(data)
        author = proof.author
        self._db.execute("BEGIN IMMEDIATE")
        try:
            new = self._save_fork_proof(proof, author)
            if new:
                # A fork proof can arrive before any entry of its author.
                self._db.execute(
                    "INSERT INTO feeds (author, seq, id, forked) VALUES (?, 0, x'', 1) "
                    "ON CONFLICT (author) DO UPDATE SET forked = 1",
                    (author,),
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return proof if new else None

    def ingest_runs(self, entries: Sequence[Entry]) -> IngestReport:
        """Store hash-linked runs of decoded entries with one signature check per run.

        ``entries`` must come from ``decode_entry(raw, verify_signature=False)``
        (replication decodes each batch once). They are cut into *runs*:
        maximal stretches of consecutive items by one author in which each
        ``seq`` is one more than the one before and each ``prev`` is the id of
        the one before. A run that extends its stored feed (possibly after
        repeating a stretch we hold, which counts as duplicates) is stored
        after checking one signature: its **last** entry's. That signature
        covers, through the hash links, every entry of the run and the stored
        head it extends, so every row stays authenticated by its author's key;
        ``docs/protocol.md`` §7.9 gives the argument and its one caveat.

        A run that does not fit (a gap, a fork, a bad last signature, a
        flagged author) is handed to :meth:`ingest`, which checks every
        signature and reports each problem. Fast runs are written in one
        transaction, the handed-over runs in a second one.
        """
        report = IngestReport()
        slow: list[bytes] = []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for run in _linked_runs(entries):
                if not self._store_run(run, report):
                    slow.extend(e.raw for e in run)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if slow:
            report.merge(self.ingest(slow))
        return report

    def _store_run(self, run: list[Entry], report: IngestReport) -> bool:
        # Inside a transaction. Returns False (having written nothing) when the
        # run needs the per-entry path.
        author, first = run[0].author, run[0].seq
        row = self._db.execute(
            "SELECT seq, id, forked FROM feeds WHERE author = ?", (author,)
        ).fetchone()
        head_seq, head_id, forked = row if row else (0, None, 0)
        if forked or first > head_seq + 1:
            return False
        if first <= head_seq:
            # The run overlaps what we hold. Equal ids at the last shared seq
            # mean (by the hash links) the whole overlap is what we hold.
            shared = min(run[-1].seq, head_seq)
            if shared == head_seq:
                stored = head_id
            else:
                stored = self._db.execute(
                    "SELECT id FROM entries WHERE author = ? AND seq = ?", (author, shared)
                ).fetchone()[0]
            if run[shared - first].id != stored:
                return False
            fresh = run[shared - first + 1 :]
        elif run[0].prev != head_id:
            return False
        else:
            fresh = run
        if fresh:
            try:
                fresh[-1].verify()
            except BadSignature:
                return False
            self._db.executemany(
                "INSERT INTO entries (author, seq, id, kind, timestamp, raw) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(e.author, e.seq, e.id, e.kind, e.timestamp, e.raw) for e in fresh],
            )
            self._db.execute(
                "INSERT INTO feeds (author, seq, id) VALUES (?, ?, ?) "
                "ON CONFLICT (author) DO UPDATE SET seq = excluded.seq, id = excluded.id",
                (author, fresh[-1].seq, fresh[-1].id),
            )
            report.new.extend(fresh)
        report.duplicates += len(run) - len(fresh)
        return True

    # -- reading ---------------------------------------------------------

    def head(self, author: bytes) -> FeedHead | None:
        """The latest entry we hold of ``author``'s feed, or ``None``."""
        row = self._db.execute(
            "SELECT seq, id FROM feeds WHERE author = ? AND seq > 0", (author,)
        ).fetchone()
        return FeedHead(author, row[0], row[1]) if row else None

    def heads(self) -> list[FeedHead]:
        """Every feed we hold, ordered by author."""
        rows = self._db.execute(
            "SELECT author, seq, id FROM feeds WHERE seq > 0 ORDER BY author"
        ).fetchall()
        return [FeedHead(a, s, i) for a, s, i in rows]

    def is_forked(self, author: bytes) -> bool:
        """Whether a fork proof flags ``author``."""
        row = self._db.execute("SELECT forked FROM feeds WHERE author = ?", (author,)).fetchone()
        return bool(row and row[0])

    def forked_authors(self) -> set[bytes]:
        """Every author flagged by a fork proof."""
        return {a for (a,) in self._db.execute("SELECT author FROM fork_proofs")}

    def fork_proofs(self) -> list[ForkProof]:
        """Every stored fork proof (already verified on arrival)."""
        rows = self._db.execute("SELECT proof FROM fork_proofs ORDER BY author").fetchall()
        return [ForkProof.from_bytes(p) for (p,) in rows]

    def fork_proof(self, author: bytes) -> ForkProof | None:
        """The stored fork proof flagging ``author``, re-verified, or ``None``.

        Raises :class:`RemoteProtocolError` if the stored proof no longer
        verifies on its own (see docs/protocol.md §7.9, the caveat).
        """
        row = self._db.execute(
            "SELECT proof FROM fork_proofs WHERE author = ?", (author,)
        ).fetchone()
        return ForkProof.from_bytes(row[0]) if row else None

    @staticmethod
    def _entry(raw: bytes) -> Entry:
        # Rows were verified before they were written; `samoorg verify`
        # re-checks signatures and links independently of this path.
        return decode_entry(raw, verify_signature=False)

    def get(self, author: bytes, seq: int) -> Entry | None:
        """The entry at ``seq`` of ``author``'s feed, if held."""
        row = self._db.execute(
            "SELECT raw FROM entries WHERE author = ? AND seq = ?", (author, seq)
        ).fetchone()
        return self._entry(row[0]) if row else None

    def get_by_id(self, entry_id: bytes) -> Entry | None:
        """The entry whose id is ``entry_id``, if held."""
        row = self._db.execute("SELECT raw FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return self._entry(row[0]) if row else None

    def resolve(self, prefix: str) -> Entry:
        """The one entry whose hex id starts with ``prefix`` (at least 4 hex digits)."""
        text = prefix.strip().lower()
        if len(text) < 4 or any(c not in "0123456789abcdef" for c in text):
            raise NotFound(f"expected an entry id (at least 4 hex digits), found {prefix!r}")
        low = bytes.fromhex(text + "0" * (len(text) % 2))
        high_hex = text + "f" * (len(text) % 2)
        rows = self._db.execute(
            "SELECT raw, id FROM entries WHERE id >= ? AND id <= ? LIMIT 2",
            (low, bytes.fromhex(high_hex) + b"\xff" * 32),
        ).fetchall()
        matches = [raw for raw, eid in rows if eid.hex().startswith(text)]
        if not matches:
            raise NotFound(f"no entry with id starting {text}")
        if len(matches) > 1:
            raise Ambiguous(f"id prefix {text} matches several entries; give more digits")
        return self._entry(matches[0])

    def entries(
        self,
        *,
        author: bytes | None = None,
        kinds: Sequence[str] | None = None,
        since: int = 0,
    ) -> Iterator[tuple[int, Entry]]:
        """``(rowid, entry)`` pairs in arrival order, optionally filtered.

        ``since`` is an exclusive rowid lower bound, for following changes.
        """
        sql = "SELECT rowid, raw FROM entries WHERE rowid > ?"
        params: list[object] = [since]
        if author is not None:
            sql += " AND author = ?"
            params.append(author)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params.extend(kinds)
        sql += " ORDER BY rowid"
        for rowid, raw in self._db.execute(sql, params):
            yield rowid, self._entry(raw)

    def feed_raw(self, author: bytes, after_seq: int, limit: int) -> list[bytes]:
        """Raw entries of ``author`` with seq > ``after_seq``, in order, at most ``limit``."""
        rows = self._db.execute(
            "SELECT raw FROM entries WHERE author = ? AND seq > ? ORDER BY seq LIMIT ?",
            (author, after_seq, limit),
        ).fetchall()
        return [raw for (raw,) in rows]

    def change_marker(self) -> tuple[int, int]:
        """Cheap value that changes whenever an entry or fork proof is stored."""
        (rowid,) = self._db.execute("SELECT COALESCE(MAX(rowid), 0) FROM entries").fetchone()
        (proofs,) = self._db.execute("SELECT COUNT(*) FROM fork_proofs").fetchone()
        return int(rowid), int(proofs)

    def stats(self) -> StoreStats:
        """Entry, feed and fork counts, and the size of the database files."""
        (entries,) = self._db.execute("SELECT COUNT(*) FROM entries").fetchone()
        (feeds,) = self._db.execute("SELECT COUNT(*) FROM feeds WHERE seq > 0").fetchone()
        (forked,) = self._db.execute("SELECT COUNT(*) FROM fork_proofs").fetchone()
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return StoreStats(entries, feeds, forked, size)

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (for size measurements and backups)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- checking ----------------------------------------------------------

    def verify_all(self) -> list[str]:
        """Re-verify every stored entry, link and fork proof; return the problems found.

        This is independent of the write path: it decodes every row with full
        signature verification and walks every feed from seq 1.
        """
        problems: list[str] = []
        heads = {h.author: h for h in self.heads()}
        expected_seq: dict[bytes, int] = {}
        prev_id: dict[bytes, bytes] = {}
        rows = self._db.execute("SELECT author, seq, id, raw FROM entries ORDER BY author, seq")
        batch: list[tuple[bytes, int, bytes, bytes]] = []

        def flush() -> None:
            entries: list[Entry | None] = []
            for author, seq, eid, raw in batch:
                try:
                    entry = decode_entry(raw, verify_signature=False)
                except ProtocolError as exc:
                    problems.append(f"{peer_id(author)}#{seq}: {exc.name}: {exc}")
                    entries.append(None)
                    continue
                if (entry.author, entry.seq, entry.id) != (author, seq, eid):
                    problems.append(f"{peer_id(author)}#{seq}: row columns disagree with its bytes")
                entries.append(entry)
            checks = self._verifier.check([e for e in entries if e is not None])
            it = iter(checks)
            for (author, seq, _, _), maybe in zip(batch, entries, strict=True):
                if maybe is None:
                    continue
                entry = maybe
                error = next(it)
                if error is not None:
                    problems.append(f"{peer_id(author)}#{seq}: {error.name}: {error}")
                want = expected_seq.get(author, 1)
                if seq != want:
                    problems.append(f"{peer_id(author)}: expected seq {want}, found {seq}")
                if entry.prev != prev_id.get(author):
                    problems.append(f"{peer_id(author)}#{seq}: prev does not link to seq {seq - 1}")
                expected_seq[author] = seq + 1
                prev_id[author] = entry.id
            batch.clear()

        for row in rows:
            batch.append(row)
            if len(batch) >= 2048:
                flush()
        flush()
        for author, head in heads.items():
            if prev_id.get(author) != head.id or expected_seq.get(author, 1) - 1 != head.seq:
                problems.append(f"{peer_id(author)}: recorded head #{head.seq} does not match rows")
        for author in expected_seq:
            if author not in heads:
                problems.append(f"{peer_id(author)}: entries without a recorded head")
        for (raw,) in self._db.execute("SELECT proof FROM fork_proofs").fetchall():
            try:
                ForkProof.from_bytes(raw)
            except RemoteProtocolError as exc:
                problems.append(f"fork proof: {exc.name}: {exc}")
        return problems


def _linked_runs(entries: Sequence[Entry]) -> Iterator[list[Entry]]:
    """Cut ``entries`` into maximal hash-linked runs of one author (see ``ingest_runs``)."""
    run: list[Entry] = []
    for entry in entries:
        if run:
            last = run[-1]
            if entry.author == last.author and entry.seq == last.seq + 1 and entry.prev == last.id:
                run.append(entry)
                continue
            yield run
        run = [entry]
    if run:
        yield run
