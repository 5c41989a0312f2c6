"""Which listings a portal search asks for: the query, its words, and the one predicate.

Theory of operation. A search has two stages. The store's index
(:mod:`samoorg.node.listing_index`) *proposes*: it keeps every version of every
listing (the listing and each of its edits, whoever wrote them), so its
candidates include every listing whose current fields could match, whatever
the fork cuts, revocations or device links decide about those versions. The
listing view (:mod:`samoorg.crdt.kinds.listings`) then *decides*, with
:func:`matches` over the listing's current fields: a candidate is shown only if
the view holds the listing and its current version matches. So the answer is
the brute-force filter of the view (``docs/protocol.md`` §8.10, "Search"),
and the index only makes it fast.

Words are cut as SQLite FTS5's ``unicode61`` tokenizer cuts them (letters and
digits, case and diacritics folded); a listing matches a text when each word
of the text is a prefix of some word of its title, description or tags.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from samoorg.crdt.kinds.listings import Listing

MAX_QUERY: Final = 200
"""Most characters of search text."""
MAX_WORDS: Final = 16
"""Most words of search text that count (the rest are ignored)."""
_WORD: Final = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The search words of ``text``: runs of letters and digits, lower case, no diacritics.

    As FTS5's ``unicode61`` tokenizer cuts and folds them (``remove_diacritics 2``).
    """
    folded = unicodedata.normalize("NFKD", text.lower())
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


def query_words(text: str) -> list[str]:
    """The words of a search text that count (:data:`MAX_QUERY`, :data:`MAX_WORDS`)."""
    return words(text[:MAX_QUERY])[:MAX_WORDS]


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
    """The participant whose listings are asked for (as the views name authors)."""
    author_keys: tuple[bytes, ...] = ()
    """Every key that may have written a version of ``author``'s listings (its devices);
    only the index reads it, to propose candidates."""
    org: bytes | None = None
    """Only the listings that count for this org (§8.14): the org view decides that, so
    :func:`matches` leaves it to the caller (:func:`samoorg.node.listing_search.search`)."""
    status: str | None = None
    """One of ``SHOWN_STATUSES`` (``active`` leaves expired listings out)."""
    now: int = 0
    """The reader's time in ms (for ``active`` and ``expired``)."""


def matches(listing: Listing, query: ListingQuery) -> bool:
    """Whether the listing's current fields answer ``query`` (§8.10, "Search"), all but ``org``."""
    fields = listing.fields
    if query.currency is not None:
        if fields.currency != query.currency or fields.amount is None:
            return False
        if query.min_price is not None and fields.amount < query.min_price:
            return False
        if query.max_price is not None and fields.amount > query.max_price:
            return False
    if not (
        query.side in (None, fields.side)
        and (query.tag is None or query.tag in fields.tags)
        and fields.geohash.startswith(query.geohash or "")
        and query.author in (None, listing.author)
        and query.status in (None, listing.effective_status(query.now))
    ):
        return False
    wanted = query_words(query.text)
    if not wanted:
        return True
    found = words(f"{fields.title} {fields.description} {' '.join(fields.tags)}")
    return all(any(w.startswith(q) for w in found) for q in wanted)
