"""A portal search: the store's index proposes, the listing view decides.

See :mod:`samoorg.crdt.algorithms.listing_match` for why the two stages give
exactly the brute-force filter of the view. :func:`search` reads candidates a
chunk at a time, newest first, and keeps those whose current fields match,
until the page (plus one, to know whether there is more) is full or the
candidates run out. A page starts just below a candidate's row number in the
index (keyset paging: 0 is the top), so the next page starts below the last
listing the page shows, and no page reads again what earlier pages read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from samoorg.crdt.algorithms.listing_match import ListingQuery, matches
from samoorg.crdt.kinds.devices import DevicesState

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.listings import Listing
    from samoorg.node.store import Store

CHUNK: Final = 64
"""Candidates read per query of the index."""


@dataclass(frozen=True, slots=True)
class Found:
    """One page of a search."""

    listings: list[Listing]
    """The matching listings, newest first."""
    next_start: int | None
    """Where the next page starts (below this row number), or ``None`` (this was the last)."""


def search(
    store: Store, views: Views, query: ListingQuery, *, start: int = 0, limit: int | None = 50
) -> Found:
    """One page of listings matching ``query`` below row number ``start`` (0: from the
    newest; ``limit`` None: every match)."""
    if query.author is not None:
        devices = views.domain(DevicesState).view().devices(query.author)
        query = replace(query, author_keys=tuple(k for k in devices if k != query.author))
    listings = views.listings
    orgs = views.orgs if query.org is not None else None
    found: list[tuple[int, Listing]] = []  # (its row number, listing)
    before = start or None
    wanted = None if limit is None else limit + 1
    while wanted is None or len(found) < wanted:
        chunk = store.listing_candidates(query, before=before, limit=CHUNK)
        for doc, listing_id in chunk:
            before = doc
            listing = listings.get(listing_id)
            if listing is None or not matches(listing, query):
                continue
            if orgs is None or orgs.org_of(listing) == query.org:
                found.append((doc, listing))
                if wanted is not None and len(found) == wanted:
                    break
        if len(chunk) < CHUNK:
            break
    if limit is None or len(found) <= limit:
        return Found([listing for _, listing in found], None)
    return Found([listing for _, listing in found[:limit]], found[limit - 1][0])
