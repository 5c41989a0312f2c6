"""The store's search index of portal listings: SQLite FTS5 plus filter columns.

Theory of operation. The index is derived state kept *inside* the store's
write transactions: every path that inserts entry rows (our own appends,
ingested batches, replicated runs, the own-head catch-up) queues the new
listing entries, in feed order, and the store calls :func:`index_entries`
with them just before the transaction commits. So the index never lags the
entries and a crash leaves both or neither.

It applies the same rules as the listing view (:mod:`samoorg.crdt.kinds.listings`),
with the same parser:

* a ``listing`` entry whose body parses adds a row (``listings``), its text
  (``listing_text``, FTS5 over title, description and tags) and its tags
  (``listing_tags``); a malformed one adds nothing;
* a ``listing.edit`` whose body parses replaces the row's fields, text and
  tags if it names an indexed listing, is by the listing's author and has a
  higher ``seq`` than the version indexed (the last edit wins). Any other
  edit changes nothing: a valid edit is in the author's own feed after the
  listing, so the listing is always indexed first.

Each row also keeps the listing's ``org`` and the timestamp of its current
version (``stamp``): the ``org`` filter keeps the rows naming the org whose
author was a member at ``stamp``, the org's memberships being passed in with
the query (:attr:`ListingQuery.org_spans`, from the org view), so the index
answers exactly :meth:`samoorg.crdt.kinds.orgs.OrgState.listings_of`.

Forked authors are left out at query time (``fork_proofs``), as every view
leaves them out. The expiry is compared with the reader's ``now``: an active
listing past its expiry is ``expired``, not ``active``.

:func:`search` answers one page, newest first, with the filters of
:class:`ListingQuery`. A listing's row number (``doc``, also its FTS5 rowid)
is its :func:`~samoorg.crdt.kinds.listings.order_key`, so "newest first" is the
descending rowid order in which FTS5 yields its matches: a page costs the
matches it reads up to the page's end, never a sort of every match. The text is
cut into words as FTS5's ``unicode61`` tokenizer does (letters and digits,
case and diacritics folded); a listing matches when each word is a prefix of
some word of its title, description or tags.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

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
        author   BLOB    NOT NULL,
        created  INTEGER NOT NULL,
        seq      INTEGER NOT NULL,
        side     TEXT    NOT NULL,
        status   TEXT    NOT NULL,
        price    TEXT    NOT NULL,
        currency TEXT,
        amount   INTEGER,
        geohash  TEXT    NOT NULL,
        expires  INTEGER,
        org      BLOB,
        stamp    INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS listings_by_author ON listings (author)",
    "CREATE INDEX IF NOT EXISTS listings_by_org ON listings (org) WHERE org IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS listing_tags (
        doc INTEGER NOT NULL,
        tag TEXT    NOT NULL,
        PRIMARY KEY (doc, tag)
    ) WITHOUT ROWID""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS listing_text USING fts5("
    "title, description, tags, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
)
"""Created by the store's schema upgrade to version 4 (then filled from held entries)."""
DROP: Final = (
    "DROP TABLE IF EXISTS listings",
    "DROP TABLE IF EXISTS listing_tags",
    "DROP TABLE IF EXISTS listing_text",
)
"""What the upgrade from version 3 drops first (its rows had no ``org`` nor ``stamp``)."""

MAX_QUERY: Final = 200
"""Most characters of search text."""
MAX_WORDS: Final = 16
_WORD: Final = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The search words of ``text``: runs of letters and digits, lower case, no diacritics.

    As FTS5's ``unicode61`` tokenizer cuts and folds them (``remove_diacritics 2``).
    """
    folded = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """Filters of one search (``None``: no filter)."""

    text: str = ""
    side: str | None = None
    tag: str | None = None
    currency: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    """Price range in minor units of ``currency`` (listings priced in it only)."""
    geohash: str | None = None
    """A geohash prefix: listings whose geohash starts with it."""
    author: bytes | None = None
    org: bytes | None = None
    """Only the listings that count for this org (§8.14), with :attr:`org_spans`."""
    org_spans: tuple[tuple[bytes, int, int | None], ...] = ()
    """The org's memberships ``(member, from, until)`` (:attr:`Org.spans`), when ``org`` is set."""
    status: str | None = None
    """One of ``SHOWN_STATUSES`` (``active`` leaves expired listings out)."""
    now: int = 0
    """The reader's time in ms (for ``active`` and ``expired``)."""


def _row(entry: Entry, fields: ListingFields) -> tuple[object, ...]:
    return (
        entry.seq,
        fields.side,
        fields.status,
        fields.price,
        fields.currency,
        fields.amount,
        fields.geohash,
        fields.expires,
        fields.org,
        entry.timestamp,
    )


def _text(fields: ListingFields) -> tuple[str, str, str]:
    return fields.title, fields.description, " ".join(fields.tags)


def index_entries(db: sqlite3.Connection, entries: Sequence[Entry]) -> None:
    """Index listing entries (in feed order per author) inside the store's write transaction.

    Rows are written as each entry comes; the tags and FTS5 text of every
    listing touched are written at the end, once per listing, the text in
    ascending rowid: FTS5 flushes its pending terms whenever a rowid is not
    above the last one written, so this order makes one segment per batch,
    not one per listing.
    """
    batch = _Batch()
    for entry in entries:
        kind = entry.kind
        if kind == LISTING:
            _add(db, entry, batch)
        elif kind == LISTING_EDIT:
            _edit(db, entry, batch)
    if not batch.texts:
        return
    old = sorted(batch.texts.keys() - batch.new)
    db.executemany("DELETE FROM listing_tags WHERE doc = ?", [(doc,) for doc in old])
    db.executemany(
        "INSERT INTO listing_tags (doc, tag) VALUES (?, ?)",
        [(doc, tag) for doc, (_, _, tags) in batch.texts.items() for tag in tags.split(" ")],
    )
    order = sorted(batch.texts)
    db.executemany(
        "INSERT INTO listing_text (rowid, title, description, tags) VALUES (?, ?, ?, ?)",
        [(doc, *batch.texts[doc]) for doc in order if doc in batch.new],
    )
    db.executemany(
        "UPDATE listing_text SET title = ?, description = ?, tags = ? WHERE rowid = ?",
        [(*batch.texts[doc], doc) for doc in order if doc not in batch.new],
    )


class _Batch:
    """What one transaction indexes: the final text (and tags) of each listing touched."""

    def __init__(self) -> None:
        self.texts: dict[int, tuple[str, str, str]] = {}
        self.new: set[int] = set()
        """Listings first indexed in this batch (their text is inserted, not updated)."""


_INSERT_ROW: Final = (
    "INSERT OR IGNORE INTO listings (doc, id, author, created, seq, side, status, price, "
    "currency, amount, geohash, expires, org, stamp) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _add(db: sqlite3.Connection, entry: Entry, batch: _Batch) -> None:
    try:
        fields = parse_fields(entry.body)
    except RuleViolation:
        return
    doc = order_key(entry.timestamp, entry.id)
    row = (entry.id, entry.author, entry.timestamp, *_row(entry, fields))
    while db.execute(_INSERT_ROW, (doc, *row)).rowcount != 1:
        if db.execute("SELECT 1 FROM listings WHERE id = ?", (entry.id,)).fetchone():
            return  # indexed already
        doc += 1  # the same millisecond and 20 id bits: next to it (about 1 in 10^6 pairs)
    batch.texts[doc] = _text(fields)
    batch.new.add(doc)


def _edit(db: sqlite3.Connection, entry: Entry, batch: _Batch) -> None:
    try:
        target, fields = parse_edit(entry.body)
    except RuleViolation:
        return
    row = db.execute("SELECT doc, author, seq FROM listings WHERE id = ?", (target,)).fetchone()
    if row is None or row[1] != entry.author or row[2] >= entry.seq:
        return
    doc = row[0]
    db.execute(
        "UPDATE listings SET seq = ?, side = ?, status = ?, price = ?, currency = ?, "
        "amount = ?, geohash = ?, expires = ?, org = ?, stamp = ? WHERE doc = ?",
        (*_row(entry, fields), doc),
    )
    batch.texts[doc] = _text(fields)


def rebuild(db: sqlite3.Connection) -> None:
    """Fill empty index tables from every held listing entry (inside a transaction)."""
    from samoorg.protocol.entry import decode_entry

    rows = db.execute(
        "SELECT raw FROM entries WHERE kind IN (?, ?) ORDER BY author, seq", (LISTING, LISTING_EDIT)
    )
    while batch := rows.fetchmany(1024):
        index_entries(db, [decode_entry(raw, verify_signature=False) for (raw,) in batch])


def _where(query: ListingQuery) -> tuple[list[str], list[object]]:
    priced = query.currency is not None
    tag = "EXISTS (SELECT 1 FROM listing_tags g WHERE g.tag = ? AND g.doc = l.doc)"
    # (clause, its parameters) of each filter given; a range on the text finds
    # every geohash that starts with the prefix.
    wanted: list[tuple[str, tuple[object, ...]] | None] = [
        ("l.author NOT IN (SELECT author FROM fork_proofs)", ()),
        ("l.side = ?", (query.side,)) if query.side is not None else None,
        (tag, (query.tag,)) if query.tag is not None else None,
        ("l.price = 'amount' AND l.currency = ?", (query.currency,)) if priced else None,
        ("l.amount >= ?", (query.min_price,)) if priced and query.min_price is not None else None,
        ("l.amount <= ?", (query.max_price,)) if priced and query.max_price is not None else None,
        ("l.geohash >= ? AND l.geohash < ?", (query.geohash, f"{query.geohash}\U0010ffff"))
        if query.geohash
        else None,
        ("l.author = ?", (query.author,)) if query.author is not None else None,
        _org_clause(query) if query.org is not None else None,
        _status_clause(query.status, query.now),
    ]
    found = [item for item in wanted if item is not None]
    return [sql for sql, _ in found], [value for _, values in found for value in values]


def _org_clause(query: ListingQuery) -> tuple[str, tuple[object, ...]]:
    """Listings naming the org whose author was a member at the version's time (§8.14)."""
    if not query.org_spans:
        return "0", ()
    rows = ", ".join("(?, ?, ?)" for _ in query.org_spans)
    spans = (
        f"EXISTS (SELECT 1 FROM (VALUES {rows}) m WHERE m.column1 = l.author "  # noqa: S608
        "AND m.column2 <= l.stamp AND (m.column3 IS NULL OR l.stamp < m.column3))"
    )
    values = tuple(value for span in query.org_spans for value in span)
    return f"l.org = ? AND {spans}", (query.org, *values)


def _status_clause(status: str | None, now: int) -> tuple[str, tuple[object, ...]] | None:
    if status == ACTIVE:
        return "l.status = 'active' AND (l.expires IS NULL OR l.expires > ?)", (now,)
    if status == EXPIRED:
        return "l.status = 'active' AND l.expires <= ?", (now,)
    return ("l.status = ?", (status,)) if status is not None else None


def match_expression(text: str) -> str:
    """The FTS5 query for ``text``: every word, as a prefix (empty: no text filter)."""
    return " ".join(f'"{word}"*' for word in words(text[:MAX_QUERY])[:MAX_WORDS])


def search(db: sqlite3.Connection, query: ListingQuery, *, offset: int, limit: int) -> list[bytes]:
    """Ids of one page of matching listings, newest first (see the module docstring)."""
    clauses, params = _where(query)
    match = match_expression(query.text)
    if match:
        # FTS5 hands out its matches in rowid order: newest first, no sort.
        source, order = "listing_text t JOIN listings l ON l.doc = t.rowid", "t.rowid"
        clauses.insert(0, "listing_text MATCH ?")
        params.insert(0, match)
    else:
        source, order = "listings l", "l.doc"
    sql = (
        f"SELECT l.id FROM {source} WHERE {' AND '.join(clauses)} "  # noqa: S608 (no input in it)
        f"ORDER BY {order} DESC LIMIT ? OFFSET ?"
    )
    rows = db.execute(sql, (*params, limit, offset))
    return [bytes(listing_id) for (listing_id,) in rows]


def count(db: sqlite3.Connection) -> int:
    """How many listings are indexed (forked authors' included)."""
    (found,) = db.execute("SELECT COUNT(*) FROM listings").fetchone()
    return int(found)
