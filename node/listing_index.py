"""The store's search index of portal listings: SQLite FTS5 plus filter columns.

Theory of operation. The index is derived state kept *inside* the store's
write transactions: every path that inserts entry rows (our own appends,
ingested batches, replicated runs, the own-head catch-up) queues the new
listing entries, and the store calls :func:`index_entries` with them just
before the transaction commits. So the index never lags the entries and a
crash leaves both or neither.

The index **proposes; the listing view decides**
(:mod:`samoorg.crdt.algorithms.listing_match`). It applies none of the view's
rules (who may edit, which edit wins, fork cuts, revoked devices, which keys
are one person), because those can change when other entries arrive. Instead
it keeps every *version* of a listing, the ``listing`` entry and each
``listing.edit`` naming it whoever wrote it, each with its filter columns
(``listing_versions``), and per listing the union of its versions' words
(``listing_text``, FTS5 over title, description and tags) and tags
(``listing_tags``). A listing is a candidate when its words and tags match and
*some* version passes the column filters. The current version of a listing
the view holds is one of its versions, so the candidates include every
listing the view would show; :func:`samoorg.node.listing_search.search` keeps
those whose current fields match. An edit may arrive before its listing (it
can come from another device's feed): its version waits in
``listing_versions`` and counts once the listing is indexed.

:func:`candidates` answers one chunk of candidates, newest first, below a
row number (keyset paging). A listing's
row number (``doc``, also its FTS5 rowid) is its
:func:`~samoorg.crdt.kinds.listings.order_key`, so "newest first" is the
descending rowid order in which FTS5 yields its matches: a page costs the
matches it reads up to the page's end, never a sort of every match.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Final

from samoorg.crdt.algorithms.listing_match import ListingQuery, query_words
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds.listings import (
    ACTIVE,
    EXPIRED,
    LISTING,
    LISTING_EDIT,
    ListingFields,
    order_key,
    parse_edit,
    parse_fields,
)
from samoorg.protocol.entry import Entry

KINDS: Final = frozenset((LISTING, LISTING_EDIT))
"""The kinds the index reads."""
TABLES: Final = (
    """CREATE TABLE IF NOT EXISTS listings (
        doc      INTEGER PRIMARY KEY,
        id       BLOB    NOT NULL UNIQUE,
        created  INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS listing_versions (
        entry       BLOB    PRIMARY KEY,
        listing     BLOB    NOT NULL,
        author      BLOB    NOT NULL,
        side        TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        price       TEXT    NOT NULL,
        currency    TEXT,
        amount      INTEGER,
        geohash     TEXT    NOT NULL,
        expires     INTEGER,
        title       TEXT    NOT NULL,
        description TEXT    NOT NULL,
        tags        TEXT    NOT NULL,
        org         BLOB
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS listing_versions_by_listing ON listing_versions (listing)",
    "CREATE INDEX IF NOT EXISTS listing_versions_by_author ON listing_versions (author)",
    "CREATE INDEX IF NOT EXISTS listing_versions_by_org ON listing_versions (org) "
    "WHERE org IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS listing_tags (
        doc INTEGER NOT NULL,
        tag TEXT    NOT NULL,
        PRIMARY KEY (doc, tag)
    ) WITHOUT ROWID""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS listing_text USING fts5("
    "title, description, tags, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
)
"""Created by the store's schema upgrade to version 4 (then filled from held entries)."""
DROP_OLD: Final = tuple(
    f"DROP TABLE IF EXISTS {table}" for table in ("listings", "listing_tags", "listing_text")
)
"""Version 3's tables (one row per listing, the view's rules applied at write time)."""


def _version(entry: Entry, listing: bytes, fields: ListingFields) -> tuple[object, ...]:
    return (
        entry.id,
        listing,
        entry.author,
        fields.side,
        fields.status,
        fields.price,
        fields.currency,
        fields.amount,
        fields.geohash,
        fields.expires,
        fields.title,
        fields.description,
        " ".join(fields.tags),
        fields.org,
    )


_INSERT_VERSION: Final = (
    "INSERT OR IGNORE INTO listing_versions (entry, listing, author, side, status, price, "
    "currency, amount, geohash, expires, title, description, tags, org) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def index_entries(db: sqlite3.Connection, entries: Sequence[Entry]) -> None:
    """Index listing entries (any order) inside the store's write transaction.

    Versions are written as each entry comes; the tags and FTS5 text of every
    listing touched are written at the end, once per listing, the text in
    ascending rowid: FTS5 flushes its pending terms whenever a rowid is not
    above the last one written, so this order makes one segment per batch,
    not one per listing.
    """
    touched: set[bytes] = set()
    new: set[int] = set()
    for entry in entries:
        try:
            if entry.kind == LISTING:
                listing, fields = entry.id, parse_fields(entry.body)
            elif entry.kind == LISTING_EDIT:
                listing, fields = parse_edit(entry.body)
            else:
                continue
        except RuleViolation:
            continue
        if db.execute(_INSERT_VERSION, _version(entry, listing, fields)).rowcount != 1:
            continue  # indexed already
        if entry.kind == LISTING:
            new.add(_add_listing(db, entry))
        touched.add(listing)
    texts: dict[int, tuple[str, str, str]] = {}
    for listing in touched:
        row = db.execute("SELECT doc FROM listings WHERE id = ?", (listing,)).fetchone()
        if row is not None:
            texts[row[0]] = _union_text(db, listing)
    if not texts:
        return
    old = sorted(texts.keys() - new)
    db.executemany("DELETE FROM listing_tags WHERE doc = ?", [(doc,) for doc in old])
    db.executemany(
        "INSERT INTO listing_tags (doc, tag) VALUES (?, ?)",
        [(doc, tag) for doc, (_, _, tags) in texts.items() for tag in tags.split(" ") if tag],
    )
    order = sorted(texts)
    db.executemany(
        "INSERT INTO listing_text (rowid, title, description, tags) VALUES (?, ?, ?, ?)",
        [(doc, *texts[doc]) for doc in order if doc in new],
    )
    db.executemany(
        "UPDATE listing_text SET title = ?, description = ?, tags = ? WHERE rowid = ?",
        [(*texts[doc], doc) for doc in order if doc not in new],
    )


def _add_listing(db: sqlite3.Connection, entry: Entry) -> int:
    """The new listing's row number (its order key, or the next free one after it)."""
    doc = order_key(entry.timestamp, entry.id)
    insert = "INSERT OR IGNORE INTO listings (doc, id, created) VALUES (?, ?, ?)"
    while db.execute(insert, (doc, entry.id, entry.timestamp)).rowcount != 1:
        doc += 1  # the same millisecond and 20 id bits: next to it (about 1 in 10^6 pairs)
    return doc


def _union_text(db: sqlite3.Connection, listing: bytes) -> tuple[str, str, str]:
    """The distinct titles, descriptions and tags of every version of ``listing``."""
    rows = db.execute(
        "SELECT title, description, tags FROM listing_versions WHERE listing = ? ORDER BY entry",
        (listing,),
    ).fetchall()
    columns: tuple[list[str], list[str], list[str]] = ([], [], [])
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            for part in value.split(" ") if column is columns[2] else (value,):
                if part and part not in column:
                    column.append(part)
    return " ".join(columns[0]), " ".join(columns[1]), " ".join(columns[2])


def rebuild(db: sqlite3.Connection) -> None:
    """Fill empty index tables from every held listing entry (inside a transaction)."""
    from samoorg.protocol.entry import decode_entry

    rows = db.execute(
        "SELECT raw FROM entries WHERE kind IN (?, ?) ORDER BY author, seq", (LISTING, LISTING_EDIT)
    )
    while batch := rows.fetchmany(1024):
        index_entries(db, [decode_entry(raw, verify_signature=False) for (raw,) in batch])


def _where(query: ListingQuery) -> tuple[list[str], list[object]]:
    """The clauses (over ``l``, the listing) that propose the candidates of ``query``."""
    priced = query.currency is not None
    # (clause, its parameters) of each column filter given, over one version
    # ``v``; a range on the text finds every geohash that starts with the prefix.
    keys = (query.author, *query.author_keys) if query.author is not None else ()
    columns: list[tuple[str, tuple[object, ...]] | None] = [
        ("v.side = ?", (query.side,)) if query.side is not None else None,
        ("v.price = 'amount' AND v.currency = ?", (query.currency,)) if priced else None,
        ("v.amount >= ?", (query.min_price,)) if priced and query.min_price is not None else None,
        ("v.amount <= ?", (query.max_price,)) if priced and query.max_price is not None else None,
        ("v.geohash >= ? AND v.geohash < ?", (query.geohash, f"{query.geohash}\U0010ffff"))
        if query.geohash
        else None,
        (f"v.author IN ({', '.join('?' * len(keys))})", keys) if keys else None,
        ("v.org = ?", (query.org,)) if query.org is not None else None,
        _status_clause(query.status, query.now),
    ]
    found = [item for item in columns if item is not None]
    clauses: list[str] = []
    params: list[object] = []
    if query.tag is not None:
        clauses.append("EXISTS (SELECT 1 FROM listing_tags g WHERE g.tag = ? AND g.doc = l.doc)")
        params.append(query.tag)
    if found:
        inner = " AND ".join(sql for sql, _ in found)
        if query.org is not None or keys:
            # Selective: the versions of one org (or author) drive the search,
            # a few rows sorted, not a scan of every listing.
            clauses.append(f"l.id IN (SELECT v.listing FROM listing_versions v WHERE {inner})")  # noqa: S608 (no input in it)
        else:
            # Broad: one lookup of the listing's own versions per candidate row (a
            # listing has few), newest first; INDEXED BY keeps SQLite from scanning
            # an index of another column once per row.
            clauses.append(
                "EXISTS (SELECT 1 FROM listing_versions v INDEXED BY listing_versions_by_listing "  # noqa: S608 (no input in it)
                f"WHERE v.listing = l.id AND {inner})"
            )
        params.extend(value for _, values in found for value in values)
    return clauses, params


def _status_clause(status: str | None, now: int) -> tuple[str, tuple[object, ...]] | None:
    if status == ACTIVE:
        return "v.status = 'active' AND (v.expires IS NULL OR v.expires > ?)", (now,)
    if status == EXPIRED:
        return "v.status = 'active' AND v.expires <= ?", (now,)
    return ("v.status = ?", (status,)) if status is not None else None


def match_expression(text: str) -> str:
    """The FTS5 query for ``text``: every word, as a prefix (empty: no text filter)."""
    return " ".join(f'"{word}"*' for word in query_words(text))


def candidates(
    db: sqlite3.Connection, query: ListingQuery, *, before: int | None, limit: int
) -> list[tuple[int, bytes]]:
    """``(row number, id)`` of up to ``limit`` candidates for ``query``, newest first, from
    just below row number ``before`` on (``None``: from the newest; see the module docstring).

    Keyset order: the next call passes the last row number seen, so a page never
    reads again what the pages before it read.
    """
    clauses, params = _where(query)
    match = match_expression(query.text)
    if match:
        # FTS5 hands out its matches in rowid order: newest first, no sort.
        source, order = "listing_text t JOIN listings l ON l.doc = t.rowid", "t.rowid"
        clauses.insert(0, "listing_text MATCH ?")
        params.insert(0, match)
    else:
        source, order = "listings l", "l.doc"
    if before is not None:
        clauses.append(f"{order} < ?")
        params.append(before)
    where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
    sql = (
        f"SELECT l.doc, l.id FROM {source} {where}"  # noqa: S608 (no input in it)
        f"ORDER BY {order} DESC LIMIT ?"
    )
    rows = db.execute(sql, (*params, limit))
    return [(int(doc), bytes(listing_id)) for doc, listing_id in rows]


def count(db: sqlite3.Connection) -> int:
    """How many listings are indexed (whatever the views decide about them)."""
    (found,) = db.execute("SELECT COUNT(*) FROM listings").fetchone()
    return int(found)
