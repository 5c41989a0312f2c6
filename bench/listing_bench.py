"""Portal search at 100,000 listings (goal: every search ≤ 50 ms).

A store holds 100,000 signed ``listing`` entries by 1,000 authors plus
10,000 edits, ingested through the store's real write path
(:meth:`Store.ingest_runs`, which keeps the FTS5 index in the same
transaction). Titles and descriptions draw words from a 5,000-word
vocabulary with a Zipf-like skew, so some words are in a third of the
listings and most in a handful.

Figures (the median of 15 runs of each search, one page of 20):

* **baseline**: in the same store, ``COUNT(*)`` of the listings and a plain
  ``LIKE '%word%'`` count over every title (what a search without an index scans);
* searches: a common word, a rare word, two words, a word with filters (side,
  tag, price range, status), filters alone (tag, geohash prefix), a deep page;
* the org filter (§8.14): a fifth of the listings name one of 10 orgs, each
  with 100 members (the listing counts only when its author is one); the
  filter alone and with a word, beside the same search without the filter;
* the write path: ingesting the same entries into a second store with the
  index hook switched off, beside the indexed ingest.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.baseline import report
from samoorg.crdt.algorithms.listing_match import ListingQuery
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.listings import (
    CATEGORIES,
    LISTING,
    LISTING_EDIT,
    OFFER,
    PRICE_AMOUNT,
    PRICE_GIFT,
    REQUEST,
    ListingFields,
    edit_body,
    listing_body,
)
from samoorg.crdt.kinds.orgs import (
    ORG_INVITE,
    ORG_JOIN,
    ORG_NEW,
    org_fields,
    org_member_body,
    org_new_body,
    org_self_body,
)
from samoorg.node import listing_index
from samoorg.node.indexer import load_index
from samoorg.node.listing_search import search
from samoorg.node.store import Store
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import Entry, create_entry

LISTINGS = 100_000
EDITS = 10_000
AUTHORS = 1_000
VOCABULARY = 5_000
SEED = 20_261_202
T0 = 1_790_000_000_000
RUNS = 15
ORGS = 10
_LETTERS = "bcdfghklmnprstvz"
_VOWELS = "aeiou"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_LETTERS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4)))


def _fields(rng: random.Random, words: list[str], orgs: list[bytes]) -> ListingFields:
    def text(count: int) -> str:
        return " ".join(words[int(len(words) * rng.random() ** 3)] for _ in range(count))

    priced = rng.random() < 0.7
    return ListingFields(
        side=rng.choice((OFFER, REQUEST)),
        title=text(rng.randint(2, 6)),
        tags=(rng.choice(CATEGORIES), rng.choice(("new", "used", "kids", "weekend", "local"))),
        description=text(rng.randint(5, 30)),
        price=PRICE_AMOUNT if priced else PRICE_GIFT,
        amount=rng.randint(100, 100_000) if priced else None,
        currency=rng.choice(("EUR", "USD")) if priced else None,
        geohash="".join(rng.choice("0123456789bcdefghjkmnpqrstuvwxyz") for _ in range(6)),
        expires=T0 + rng.randint(-30, 60) * 86_400_000 if rng.random() < 0.5 else None,
        org=rng.choice(orgs) if rng.random() < 0.2 else None,
    )


def _entries(rng: random.Random) -> tuple[list[Entry], list[str], list[bytes]]:
    """Orgs with their members, then listings and edits, each author's in feed order;
    the vocabulary; the org ids."""
    words = ["guitar", "bike", "soup", *(_word(rng) for _ in range(VOCABULARY - 3))]
    signers = [Signer(rng.randbytes(32)) for _ in range(AUTHORS)]
    heads: list[tuple[int, bytes | None]] = [(0, None)] * AUTHORS
    entries: list[Entry] = []

    def write(author: int, kind: str, body: dict[str, dcbor.Value], at: int) -> Entry:
        seq, prev = heads[author]
        entry = create_entry(
            signers[author], seq=seq + 1, prev=prev, timestamp=at, kind=kind, body=body
        )
        heads[author] = (entry.seq, entry.id)
        entries.append(entry)
        return entry

    orgs = []
    clock = T0 - 10 * AUTHORS
    for number in range(ORGS):  # org n: founded by author n, members n, n + ORGS, ...
        org = write(number, ORG_NEW, org_new_body(org_fields(f"Org {number}")), clock).id
        for member in range(number + ORGS, AUTHORS, ORGS):
            key = signers[member].public_key
            write(number, ORG_INVITE, org_member_body(org, key), clock + 1)
            write(member, ORG_JOIN, org_self_body(org), clock + 2)
            clock += 3
        orgs.append(org)
    own: list[list[bytes]] = [[] for _ in range(AUTHORS)]
    for number in range(LISTINGS + EDITS):
        author = rng.randrange(AUTHORS)
        fields = _fields(rng, words, orgs)
        if number >= LISTINGS and own[author]:
            write(author, LISTING_EDIT, edit_body(rng.choice(own[author]), fields), T0 + number)
        else:
            own[author].append(write(author, LISTING, listing_body(fields), T0 + number).id)
    entries.sort(key=lambda e: (e.author, e.seq))
    return entries, words, orgs


def _ingest(path: Path, entries: list[Entry]) -> float:
    start = time.perf_counter()
    with Store(path) as store:
        for at in range(0, len(entries), 5000):
            store.ingest_runs(entries[at : at + 5000])
    return time.perf_counter() - start


def _median_ms(call: Callable[[], object]) -> float:
    call()  # warm the page cache
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run() -> None:
    """Build the store, then print the baseline and every search's median time."""
    rng = random.Random(SEED)
    entries, words, orgs = _entries(rng)
    org = orgs[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "indexed.db"
        indexed = _ingest(path, entries)
        hook = listing_index.index_entries
        listing_index.index_entries = lambda db, entries: None
        try:
            plain = _ingest(Path(tmp) / "plain.db", entries)
        finally:
            listing_index.index_entries = hook
        report("ingest 110k listing entries, no index (baseline)", plain * 1000, "ms")
        report("ingest 110k listing entries, FTS5 index", indexed * 1000, "ms", plain * 1000)
        with Store(path) as store:
            assert store.listing_count() == LISTINGS
            db = store._db
            count = _median_ms(lambda: db.execute("SELECT COUNT(*) FROM listings").fetchone())
            like = _median_ms(
                lambda: db.execute(
                    "SELECT COUNT(*) FROM listing_text WHERE title LIKE '%guitar%'"
                ).fetchone()
            )
            report("baseline: COUNT(*) of 100k listings", count, "ms")
            report("baseline: LIKE '%guitar%' scan of titles", like, "ms")
            now = T0 + LISTINGS
            searches = {
                "common word ('guitar')": ListingQuery(text="guitar"),
                "rare word": ListingQuery(text=words[-1]),
                "two words ('guitar bike')": ListingQuery(text="guitar bike"),
                "prefix ('gui')": ListingQuery(text="gui"),
                "word + side, tag, EUR 10..500, active": ListingQuery(
                    text="soup",
                    side=OFFER,
                    tag="food",
                    currency="EUR",
                    min_price=1000,
                    max_price=50_000,
                    status="active",
                    now=now,
                ),
                "filters only: tag + active": ListingQuery(
                    tag="services", status="active", now=now
                ),
                "filters only: geohash prefix 'u'": ListingQuery(geohash="u"),
                "no filter (newest 20)": ListingQuery(),
                "org filter (100 members)": ListingQuery(org=org),
                "word + org filter": ListingQuery(text="guitar", org=org),
            }
            views = Views(load_index(store))
            views.listings.view()  # the daemon holds its views; a search reads them
            for name, query in searches.items():
                found = search(store, views, query, limit=20).listings
                ms = _median_ms(lambda q=query: search(store, views, q, limit=20))
                raw = _median_ms(lambda q=query: store.listing_candidates(q, limit=21))
                report(f"search: {name}", ms, "ms", like, note=f"{len(found)} on page; goal ≤ 50")
                report(f"  index candidates only: {name}", raw, "ms", like)
            common = ListingQuery(text="guitar")
            start = 0
            for _ in range(100):  # page 101: the pages before it, followed once
                start = search(store, views, common, start=start, limit=20).next_start or 0
            deep = _median_ms(lambda: search(store, views, common, start=start, limit=20))
            report(
                "search: common word, page 101 (after 2,000 matches)",
                deep,
                "ms",
                like,
                note="goal ≤ 50",
            )
