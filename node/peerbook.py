"""The peer book: peers this node knows how to reach, feeds it follows, names it gives.

Petnames (``samoorg name set``) are the node's own names for participants:
they never leave the node and are preferred over self-chosen profile names
(``node/names.py`` resolves and shows both).

It lives in ``peers.sqlite`` beside the store, separate from it because it is
local bookkeeping, never replicated. Several processes use it at once (the
daemon records sync results while ``samoorg peer add`` or ``invite accept``
adds a peer), so it is SQLite in WAL mode with one short transaction per
change; nothing here is ever read-modify-written outside a transaction.

A peer's ``source`` says how we learned about it. Every peer with an address
is dialled by the daemon, including one that first dialled us (``inbound``:
its listen addresses come from libp2p's identify exchange), so that either
side of a broken connection can restore it. A one-shot ``samoorg sync``
listens nowhere and so leaves no address to dial.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from samoorg.node.errors import PeerBookError
from samoorg.node.home import Home
from samoorg.node.sqlite_errors import describe, guarded, is_damage
from samoorg.node.store import now_ms

SOURCES: Final = ("invite", "manual", "bootstrap", "mdns", "inbound")
"""How a peer became known, strongest first: a stronger source is never replaced.

``invite`` comes first because it also puts the peer's feed in our
replication scope (we accepted their invite), which must not be lost when
the same peer is later added by hand or found on the LAN."""
MAX_ADDRS: Final = 8
"""Addresses kept per peer (newest first); a peer cannot make us remember more."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS peers (
    peer       BLOB    PRIMARY KEY,
    addrs      TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    added_at   INTEGER NOT NULL,
    last_seen  INTEGER,
    last_sync  INTEGER,
    received   INTEGER NOT NULL DEFAULT 0,
    sent       INTEGER NOT NULL DEFAULT 0,
    rejected   INTEGER NOT NULL DEFAULT 0,
    failures   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS follows (
    author   BLOB    PRIMARY KEY,
    added_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS petnames (
    peer     BLOB    PRIMARY KEY,
    name     TEXT    NOT NULL,
    added_at INTEGER NOT NULL
) WITHOUT ROWID;
"""


_MOVE_ASIDE: Final = (
    "move it aside; a new one is made empty (add peers again with 'samoorg peer add' and "
    "'samoorg follow')"
)


def peer_book_path(home: Home) -> Path:
    """Where the peer book of ``home`` lives."""
    return home.path / "peers.sqlite"


@dataclass(frozen=True, slots=True)
class PeerRecord:
    """One row of the peer book."""

    peer: bytes
    addrs: tuple[str, ...]
    source: str
    added_at: int
    last_seen: int | None
    last_sync: int | None
    received: int
    sent: int
    rejected: int
    failures: int
    last_error: str | None

    @property
    def dialable(self) -> bool:
        """Whether the daemon should dial this peer by itself."""
        return bool(self.addrs)


def _merge_addrs(new: Sequence[str], old: Sequence[str]) -> tuple[str, ...]:
    merged: list[str] = []
    for addr in [*new, *old]:
        if addr not in merged:
            merged.append(addr)
    return tuple(merged[:MAX_ADDRS])


class PeerBook:
    """Known peers and followed feeds of one home (SQLite, safe across processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
        except sqlite3.DatabaseError as exc:
            raise self.database_error(exc, "open") from None

    def database_error(self, exc: sqlite3.Error, doing: str = "use") -> PeerBookError:
        """The one-line error for an SQLite error met while using the peer book."""
        if is_damage(exc):
            return PeerBookError(
                f"peer book {self.path} is damaged ({describe(exc)}): {_MOVE_ASIDE}"
            )
        return PeerBookError(f"cannot {doing} peer book {self.path}: {describe(exc)}")

    @classmethod
    def open(cls, home: Home) -> PeerBook:
        """The peer book of ``home``."""
        return cls(peer_book_path(home))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> PeerBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- peers -------------------------------------------------------------

    @guarded
    def add(self, peer: bytes, addrs: Sequence[str], source: str) -> PeerRecord:
        """Remember ``peer`` at ``addrs`` (merged with what we knew); return the row.

        The recorded source only ever gets stronger (``manual`` beats
        ``inbound``), and a new address resets the failure count so that the
        daemon tries it promptly.
        """
        if source not in SOURCES:
            raise ValueError(f"unknown peer source {source!r}")
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT addrs, source FROM peers WHERE peer = ?", (peer,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO peers (peer, addrs, source, added_at) VALUES (?, ?, ?, ?)",
                    (peer, json.dumps(list(_merge_addrs(addrs, ()))), source, now_ms()),
                )
            else:
                old = tuple(json.loads(row[0]))
                merged = _merge_addrs(addrs, old)
                stronger = min(source, row[1], key=SOURCES.index)
                fresh = any(a not in old for a in addrs)
                db.execute(
                    "UPDATE peers SET addrs = ?, source = ?, "
                    "failures = CASE WHEN ? THEN 0 ELSE failures END WHERE peer = ?",
                    (json.dumps(list(merged)), stronger, fresh, peer),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        record = self.get(peer)
        assert record is not None
        return record

    @guarded
    def remove(self, peer: bytes) -> bool:
        """Forget ``peer``; return whether it was known."""
        cursor = self._db.execute("DELETE FROM peers WHERE peer = ?", (peer,))
        return cursor.rowcount > 0

    @guarded
    def get(self, peer: bytes) -> PeerRecord | None:
        """The row of ``peer``, if known."""
        row = self._db.execute(
            "SELECT peer, addrs, source, added_at, last_seen, last_sync, received, sent, "
            "rejected, failures, last_error FROM peers WHERE peer = ?",
            (peer,),
        ).fetchone()
        return self._record(row) if row else None

    @guarded
    def all(self) -> list[PeerRecord]:
        """Every known peer, most recently seen first."""
        rows = self._db.execute(
            "SELECT peer, addrs, source, added_at, last_seen, last_sync, received, sent, "
            "rejected, failures, last_error FROM peers "
            "ORDER BY COALESCE(last_seen, 0) DESC, added_at DESC"
        ).fetchall()
        return [self._record(row) for row in rows]

    def _record(self, row: tuple[object, ...]) -> PeerRecord:
        peer, addrs, source, added, seen, synced, received, sent, rejected, failures, error = row
        assert isinstance(peer, bytes)
        assert isinstance(addrs, str)
        assert isinstance(source, str)
        try:
            addresses = json.loads(addrs)
        except ValueError:
            addresses = None
        if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
            raise PeerBookError(
                f"peer book {self.path} is damaged (the addresses of a peer are not a JSON "
                f"list): {_MOVE_ASIDE}"
            )
        return PeerRecord(
            peer=peer,
            addrs=tuple(addresses),
            source=source,
            added_at=int(added),  # type: ignore[call-overload]
            last_seen=None if seen is None else int(seen),  # type: ignore[call-overload]
            last_sync=None if synced is None else int(synced),  # type: ignore[call-overload]
            received=int(received),  # type: ignore[call-overload]
            sent=int(sent),  # type: ignore[call-overload]
            rejected=int(rejected),  # type: ignore[call-overload]
            failures=int(failures),  # type: ignore[call-overload]
            last_error=None if error is None else str(error),
        )

    @guarded
    def record_connected(self, peer: bytes) -> None:
        """A connection to ``peer`` succeeded: reset its failure count."""
        self._db.execute(
            "UPDATE peers SET last_seen = ?, failures = 0, last_error = NULL WHERE peer = ?",
            (now_ms(), peer),
        )

    @guarded
    def record_failure(self, peer: bytes, error: str) -> int:
        """A dial or session failed; return the new consecutive failure count."""
        self._db.execute(
            "UPDATE peers SET failures = failures + 1, last_error = ? WHERE peer = ?",
            (error[:300], peer),
        )
        row = self._db.execute("SELECT failures FROM peers WHERE peer = ?", (peer,)).fetchone()
        return int(row[0]) if row else 1

    @guarded
    def record_sync(self, peer: bytes, received: int, sent: int, rejected: int) -> None:
        """Add a sync's counts to ``peer``'s totals and stamp the time."""
        now = now_ms()
        self._db.execute(
            "UPDATE peers SET last_sync = ?, last_seen = ?, received = received + ?, "
            "sent = sent + ?, rejected = rejected + ? WHERE peer = ?",
            (now, now, received, sent, rejected, peer),
        )

    # -- follows -------------------------------------------------------------

    @guarded
    def follow(self, authors: Iterable[bytes]) -> int:
        """Follow each author's feed; return how many were new."""
        now = now_ms()
        added = 0
        for author in authors:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO follows (author, added_at) VALUES (?, ?)", (author, now)
            )
            added += cursor.rowcount
        return added

    @guarded
    def unfollow(self, author: bytes) -> bool:
        """Stop following ``author``; return whether it was followed."""
        return self._db.execute("DELETE FROM follows WHERE author = ?", (author,)).rowcount > 0

    @guarded
    def follows(self) -> set[bytes]:
        """Authors followed explicitly."""
        return {a for (a,) in self._db.execute("SELECT author FROM follows")}

    # -- petnames ---------------------------------------------------------

    @guarded
    def set_petname(self, peer: bytes, name: str) -> None:
        """Give ``peer`` the local name ``name`` (replacing its previous one)."""
        self._db.execute(
            "INSERT INTO petnames (peer, name, added_at) VALUES (?, ?, ?) ON CONFLICT (peer) "
            "DO UPDATE SET name = excluded.name, added_at = excluded.added_at",
            (peer, name, now_ms()),
        )

    @guarded
    def remove_petname(self, peer: bytes) -> bool:
        """Forget the local name of ``peer``; whether it had one."""
        return self._db.execute("DELETE FROM petnames WHERE peer = ?", (peer,)).rowcount > 0

    @guarded
    def petnames(self) -> dict[bytes, str]:
        """Every local name, by participant key."""
        return {bytes(p): str(n) for p, n in self._db.execute("SELECT peer, name FROM petnames")}

    @guarded
    def external_changes(self) -> int:
        """A value that changes whenever another process commits to the peer book."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        return int(version)


def remember_inviter(home: Home, inviter: bytes, addrs: Sequence[str]) -> PeerRecord:
    """Record the inviter of an accepted invite: always in scope, dialled at ``addrs``.

    Addresses may end in ``/p2p/<id>``; those naming someone else are ignored.
    """
    from samoorg.node.transport import BadAddress, split_address

    usable: list[str] = []
    for addr in addrs:
        if "/p2p/" not in addr:
            usable.append(addr)
            continue
        try:
            transport_part, key = split_address(addr)
        except BadAddress:
            continue
        if key == inviter:
            usable.append(transport_part)
    with PeerBook.open(home) as book:
        return book.add(inviter, usable, "invite")
