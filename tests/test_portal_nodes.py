"""Listings converge across two real daemons: the same search answers and view digests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from samoorg.crdt.algorithms.listing_match import ListingQuery
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.listings import (
    LISTING,
    LISTING_EDIT,
    REQUEST,
    WITHDRAWN,
    edit_body,
    listing_body,
)
from samoorg.node.indexer import load_index
from samoorg.node.store import Store
from tests.net_fixtures import RunningNode, head_seqs, running_node, wait_until
from tests.portal_fixtures import LESSONS, search_ids

pytestmark = pytest.mark.network


def _publish(node: RunningNode, count: int, side: str) -> list[bytes]:
    """``count`` listings and an edit of each, appended as a local command would."""
    made = []
    with Store(node.home.store_file) as store:
        for n in range(count):
            fields = replace(LESSONS, side=side, title=f"Guitar lessons {n}")
            entry = store.append(node.signer, LISTING, listing_body(fields))
            closed = replace(fields, status=WITHDRAWN) if n % 2 else replace(fields, quantity=5)
            store.append(node.signer, LISTING_EDIT, edit_body(entry.id, closed))
            made.append(entry.id)
    return made


def _answers(store: Store) -> tuple[list[bytes], list[bytes], str]:
    active = search_ids(store, ListingQuery(text="guitar", status="active"))
    offers = search_ids(store, ListingQuery(side="offer", geohash="ud1"))
    return active, offers, Views(load_index(store)).digests()["listings"]


async def test_listings_and_edits_converge_across_two_daemons(tmp_path: Path) -> None:
    async with (
        running_node(tmp_path / "a") as a,
        running_node(tmp_path / "b", bootstrap=[a.addr], follow=[a.key]) as b,
    ):
        _publish(a, 6, "offer")
        _publish(b, 4, REQUEST)
        await wait_until(lambda: head_seqs(b.store).get(a.key) == 12, 20, "a's listings at b")
        await wait_until(lambda: head_seqs(a.store).get(b.key) == 8, 20, "b's listings at a")
        with Store(a.home.store_file) as at_a, Store(b.home.store_file) as at_b:
            assert at_a.listing_count() == at_b.listing_count() == 10
            assert _answers(at_a) == _answers(at_b)
            active, offers, _ = _answers(at_a)
            assert len(active) == 5  # one edit in two withdraws its listing
            assert len(offers) == 6
