"""A portal search (the store's index proposes, the view decides) equals a brute-force
filter over the listing view, whatever the fork cuts say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.listing_match import ListingQuery, words
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.listings import (
    ACTIVE,
    CATEGORIES,
    LISTING,
    LISTING_EDIT,
    OFFER,
    PRICE_AMOUNT,
    PRICE_EXCHANGE,
    PRICE_GIFT,
    REQUEST,
    SHOWN_STATUSES,
    STATUSES,
    Listing,
    ListingFields,
    edit_body,
    listing_body,
)
from samoorg.node.indexer import load_index
from samoorg.node.listing_search import search
from samoorg.node.store import Store
from samoorg.protocol.entry import Entry
from tests.community_fixtures import T0, Author
from tests.org_fixtures import Org
from tests.portal_fixtures import LESSONS, edit, post, search_ids

VOCABULARY = ("guitar", "lessons", "Bike", "repair", "garden", "gardening", "soup", "café")
GEOHASHES = ("", "u", "ud1", "ud1hu", "ud2", "9q8")
FREE_TAGS = ("music", "bike", "kids", "free-time")


@st.composite
def listing_fields(draw: st.DrawFn) -> ListingFields:
    """Fields from a small vocabulary, so that searches and filters often match."""
    text = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join)
    price = draw(st.sampled_from((PRICE_AMOUNT, PRICE_GIFT, PRICE_EXCHANGE)))
    amount = draw(st.integers(1, 5000)) if price == PRICE_AMOUNT else None
    tags = draw(
        st.lists(st.sampled_from(CATEGORIES + FREE_TAGS), min_size=1, max_size=4, unique=True)
    )
    if not any(tag in CATEGORIES for tag in tags):
        tags.append("goods")
    return replace(
        LESSONS,
        side=draw(st.sampled_from((OFFER, REQUEST))),
        title=draw(text),
        description=draw(st.one_of(st.just(""), text)),
        tags=tuple(tags),
        price=price,
        amount=amount,
        currency=draw(st.sampled_from(("EUR", "USD"))) if amount is not None else None,
        frequency=None,
        wanted="bread" if price == PRICE_EXCHANGE else "",
        geohash=draw(st.sampled_from(GEOHASHES)),
        expires=draw(st.one_of(st.none(), st.integers(T0, T0 + 100_000))),
        status=draw(st.sampled_from(STATUSES)),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[Entry]:
    """Listings by three authors, and edits of them, some by someone else than the author."""
    authors = [Author(n) for n in (1, 2, 3)]
    entries: list[Entry] = []
    listings: list[Entry] = []
    for _ in range(draw(st.integers(1, 14))):
        author = draw(st.sampled_from(authors))
        author.clock = T0 + draw(st.integers(0, 50)) * 1000
        if listings and draw(st.booleans()):
            target = draw(st.sampled_from(listings))
            entries.append(edit(author, target, draw(listing_fields())))
        else:
            made = post(author, draw(listing_fields()))
            listings.append(made)
            entries.append(made)
    return entries


def queries(keys: list[bytes]) -> st.SearchStrategy[ListingQuery]:
    prefixes = [w.lower()[:n] for w in VOCABULARY for n in (2, 4, 20)] + ["cafe", "zzz", "a-b"]
    return st.builds(
        ListingQuery,
        text=st.lists(st.sampled_from(prefixes), max_size=2).map(" ".join),
        side=st.sampled_from((None, OFFER, REQUEST)),
        tag=st.sampled_from((None, *CATEGORIES[:3], *FREE_TAGS)),
        currency=st.sampled_from((None, "EUR", "USD")),
        min_price=st.one_of(st.none(), st.integers(0, 5000)),
        max_price=st.one_of(st.none(), st.integers(0, 5000)),
        geohash=st.sampled_from((None, *GEOHASHES)),
        author=st.sampled_from((None, *keys)),
        status=st.sampled_from((None, *SHOWN_STATUSES)),
        now=st.integers(T0, T0 + 100_000),
    )


def brute_force(listing: Listing, query: ListingQuery) -> bool:
    """Whether ``listing`` matches ``query``, by the definitions of docs/protocol.md §8.10."""
    fields = listing.fields
    text = words(f"{fields.title} {fields.description} {' '.join(fields.tags)}")
    if not all(any(w.startswith(q) for w in text) for q in words(query.text)):
        return False
    if query.currency is not None:
        if fields.currency != query.currency:
            return False
        assert fields.amount is not None
        if query.min_price is not None and fields.amount < query.min_price:
            return False
        if query.max_price is not None and fields.amount > query.max_price:
            return False
    return (
        query.side in (None, fields.side)
        and (query.tag is None or query.tag in fields.tags)
        and fields.geohash.startswith(query.geohash or "")
        and query.author in (None, listing.author)
        and query.status in (None, listing.effective_status(query.now))
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_search_equals_a_brute_force_filter_of_the_view(
    entries: list[Entry], data: st.DataObject
) -> None:
    views = Views(EntryIndex(entries))
    everything = views.listings.listings()  # newest first
    with TemporaryDirectory() as tmp, Store(Path(tmp) / "store.db") as store:
        # In several batches, so that listings and their edits arrive apart.
        cut = data.draw(st.integers(0, len(entries)))
        for part in (entries[:cut], entries[cut:]):
            report = store.ingest([e.raw for e in part])
            assert not report.rejected
        assert store.listing_count() == len(everything)
        keys = sorted({e.author for e in entries})
        for _ in range(4):
            query = data.draw(queries(keys))
            limit = data.draw(st.integers(1, 20))
            expected = [item.id for item in everything if brute_force(item, query)]
            proposed = [i for _, i in store.listing_candidates(query, limit=len(entries) + 1)]
            assert set(expected) <= set(proposed), query
            first = search(store, views, query, limit=limit)
            assert [item.id for item in first.listings] == expected[:limit], query
            if first.next_start is None:
                assert len(expected) <= limit
            else:
                rest = search(store, views, query, start=first.next_start, limit=None)
                assert [item.id for item in rest.listings] == expected[limit:], query


def test_words_are_found_by_prefix_whatever_their_case_and_diacritics(tmp_path: Path) -> None:
    alice = Author(1)
    soup = post(alice, title="Café SOUP", description="ready-made", tags=("food", "free-time"))
    with Store(tmp_path / "store.db") as store:
        store.ingest([soup.raw])
        for text in ("cafe", "café", "CAF", "so", "soup made", "free tim", "ready"):
            assert search_ids(store, ListingQuery(text=text)) == [soup.id], text
        for text in ("soups", "afe", "zzz"):
            assert search_ids(store, ListingQuery(text=text)) == [], text
    assert brute_force(Views(EntryIndex([soup])).listings.listings()[0], ListingQuery("cafe"))


def test_an_expired_listing_is_not_active() -> None:
    alice = Author(1)
    lasting = post(alice, title="lasting")
    short = post(alice, title="short", expires=T0 + 60_000)
    views = Views(EntryIndex([lasting, short]))
    listing = views.listings.get(short.id)
    assert listing is not None
    assert listing.is_active(T0 + 59_999)
    assert listing.effective_status(T0 + 60_000) == "expired"
    with TemporaryDirectory() as tmp, Store(Path(tmp) / "store.db") as store:
        store.ingest([lasting.raw, short.raw])
        before = search_ids(store, ListingQuery(status=ACTIVE, now=T0 + 59_999))
        after = search_ids(store, ListingQuery(status=ACTIVE, now=T0 + 60_000))
        expired = search_ids(store, ListingQuery(status="expired", now=T0 + 60_000))
    assert before == [short.id, lasting.id]
    assert after == [lasting.id]
    assert expired == [short.id]


def test_an_old_store_gets_its_listings_indexed_on_upgrade(tmp_path: Path) -> None:
    alice = Author(1)
    first = post(alice, title="Soup kitchen", tags=("food",))
    changed = edit(alice, first, title="Soup kitchen on Sundays", tags=("food", "help"))
    path = tmp_path / "store.db"
    with Store(path) as store:
        store.ingest([first.raw, changed.raw])
        # Back to version 2: no index tables.
        db = store._db  # the test plays an older samoorg
        for table in ("listings", "listing_versions", "listing_tags", "listing_text"):
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version=2")
    with Store(path) as store:
        assert search_ids(store, ListingQuery(text="sunday", tag="help")) == [first.id]
        assert store.listing_count() == 1
    assert first.kind == LISTING


def test_a_forked_author_counts_up_to_the_cut_in_search_as_in_the_view(tmp_path: Path) -> None:
    alice = Author(1)
    first = post(alice, title="Soup kitchen", tags=("food",))
    copy = Author(1)  # a copied home: the same key and feed up to seq 1
    copy.seq, copy.prev, copy.clock = alice.seq, alice.prev, alice.clock
    changed = edit(alice, first, title="Soup kitchen on Sundays", tags=("food", "help"))
    other = post(copy, title="Bike repair", tags=("services",))
    with Store(tmp_path / "store.db") as store:
        store.ingest([first.raw, changed.raw])
        assert search_ids(store, ListingQuery(text="sunday")) == [first.id]
        store.ingest([other.raw])  # the second seq 2: a fork proof with cut 2
        assert store.fork_cuts() == {alice.key: 2}
        views = Views(load_index(store))
        listing = views.listings.get(first.id)
        assert listing is not None
        assert listing.fields.title == "Soup kitchen"
        # The index still proposes the void edit's words; the view turns them down.
        assert [i for _, i in store.listing_candidates(ListingQuery(text="sunday"))] == [first.id]
        assert search_ids(store, ListingQuery(text="sunday")) == []
        assert search_ids(store, ListingQuery(tag="help")) == []
        assert search_ids(store, ListingQuery(text="soup")) == [first.id]


def test_an_edit_that_arrives_before_its_listing_is_indexed_with_it(tmp_path: Path) -> None:
    alice, bob = Author(1), Author(2)
    first = post(alice, title="Soup kitchen", tags=("food",))
    foreign = edit(bob, first, title="Bike repair", tags=("services",))  # not alice's: void
    with Store(tmp_path / "store.db") as store:
        store.ingest([foreign.raw])
        assert store.listing_count() == 0
        store.ingest([first.raw])
        assert [i for _, i in store.listing_candidates(ListingQuery(text="bike"))] == [first.id]
        assert search_ids(store, ListingQuery(text="bike")) == []
        assert search_ids(store, ListingQuery(text="soup", tag="food")) == [first.id]


def test_a_version_3_store_gets_its_index_rebuilt(tmp_path: Path) -> None:
    alice = Author(1)
    first = post(alice, title="Soup kitchen", tags=("food",))
    path = tmp_path / "store.db"
    with Store(path) as store:
        store.ingest([first.raw])
        db = store._db  # the test plays samoorg with schema 3: one row per listing
        for table in ("listings", "listing_versions", "listing_tags", "listing_text"):
            db.execute(f"DROP TABLE {table}")
        db.execute("CREATE TABLE listings (doc INTEGER PRIMARY KEY, id BLOB, author BLOB)")
        db.execute("CREATE TABLE listing_tags (doc INTEGER, tag TEXT)")
        db.execute("CREATE VIRTUAL TABLE listing_text USING fts5(title, description, tags)")
        db.execute("PRAGMA user_version=3")
    with Store(path) as store:
        assert search_ids(store, ListingQuery(text="soup")) == [first.id]
        assert store._db.execute("PRAGMA user_version").fetchone() == (4,)


@st.composite
def org_histories(draw: st.DrawFn) -> tuple[bytes, list[Entry]]:
    """One org whose members come and go, and listings (and edits) naming it or not."""
    authors = [Author(n) for n in (1, 2, 3)]
    org = Org(authors[0])
    listings: list[Entry] = []
    for _ in range(draw(st.integers(1, 16))):
        author = draw(st.sampled_from(authors))
        act = draw(st.sampled_from(("invite", "join", "leave", "remove", "listing", "edit")))
        if act == "invite":
            org.invite(authors[0], author)
        elif act == "join":
            org.join(author)
        elif act == "leave":
            org.leave(author)
        elif act == "remove":
            org.remove(authors[0], author)
        else:
            named = draw(st.sampled_from((org.new.id, None, bytes(32))))
            fields = replace(draw(listing_fields()), org=named)
            if act == "edit" and listings:
                target = draw(st.sampled_from(listings))
                org.write(author, LISTING_EDIT, edit_body(target.id, fields))
            else:
                listings.append(org.write(author, LISTING, listing_body(fields)))
    return org.new.id, org.entries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org_histories(), st.data())
def test_the_org_filter_equals_the_listings_that_count_for_the_org(
    history: tuple[bytes, list[Entry]], data: st.DataObject
) -> None:
    org_id, entries = history
    views = Views(EntryIndex(entries))
    org = views.orgs.get(org_id)
    assert org is not None
    expected = [item.id for item in views.orgs.listings_of(org_id)]
    with TemporaryDirectory() as tmp, Store(Path(tmp) / "store.db") as store:
        cut = data.draw(st.integers(0, len(entries)))
        for part in (entries[:cut], entries[cut:]):
            assert not store.ingest([e.raw for e in part]).rejected
        assert search_ids(store, ListingQuery(org=org_id)) == expected
        assert search_ids(store, ListingQuery(org=b"\x02" * 32)) == []
