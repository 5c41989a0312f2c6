"""Helpers to write portal records (listings, edits, deals, reviews) with in-memory authors."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from samoorg.crdt.algorithms.listing_match import ListingQuery
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.listings import (
    HOURS,
    LISTING,
    LISTING_EDIT,
    OFFER,
    PRICE_AMOUNT,
    ListingFields,
    edit_body,
    listing_body,
)
from samoorg.crdt.kinds.pledges import COMMIT, FULFIL, INTEND
from samoorg.crdt.kinds.reviews import REVIEW, review_body
from samoorg.node.indexer import load_index
from samoorg.node.listing_search import search
from samoorg.node.store import Store
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author

LESSONS = ListingFields(
    side=OFFER,
    title="Guitar lessons",
    tags=("education", "music"),
    description="Beginners welcome, acoustic or electric.",
    price=PRICE_AMOUNT,
    amount=2000,
    currency="EUR",
    frequency="hourly",
    quantity=3,
    unit=HOURS,
    place="Riga, old town",
    geohash="ud1hu",
)
"""A service offered in hours, at 20.00 EUR an hour."""


def post(
    author: Author, fields: ListingFields = LESSONS, *, at: int | None = None, **changes: Any
) -> Entry:
    """A ``listing`` entry with ``fields`` (and ``changes`` to them), written ``at`` if given."""
    return author.write(LISTING, listing_body(replace(fields, **changes)), at)


def edit(author: Author, listing: Entry, fields: ListingFields = LESSONS, **changes: Any) -> Entry:
    """A ``listing.edit`` of ``listing`` replacing its fields with ``fields`` and ``changes``."""
    return author.write(LISTING_EDIT, edit_body(listing.id, replace(fields, **changes)))


def deal(
    payer: Author, payee: Author, listing: Entry, amount: int = 6000
) -> tuple[Entry, Entry, Entry]:
    """``payer`` pledges ``amount`` cents to ``payee`` for ``listing``, commits; payee fulfils."""
    pledge = payer.write(
        INTEND, {"to": payee.key, "amount": amount, "currency": "EUR", "listing": listing.id}
    )
    commit = payer.write(COMMIT, {"pledge": pledge.id})
    fulfil = payee.write(FULFIL, {"pledge": pledge.id, "commitment": commit.id})
    return pledge, commit, fulfil


def review(author: Author, pledge: Entry, commit: Entry, rating: int, text: str = "") -> Entry:
    """A ``review`` of the commitment ``commit`` of ``pledge``."""
    return author.write(REVIEW, review_body(pledge.id, commit.id, rating, text))


def search_ids(store: Store, query: ListingQuery) -> list[bytes]:
    """Ids of every listing a search shows for ``query``, over the store's own views."""
    views = Views(load_index(store))
    return [item.id for item in search(store, views, query, limit=None).listings]
