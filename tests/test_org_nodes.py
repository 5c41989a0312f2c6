"""Organizations converge across two real daemons: the same members, listings and digests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from samoorg.crdt.algorithms.listing_match import ListingQuery
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.listings import LISTING, listing_body
from samoorg.crdt.kinds.orgs import (
    ORG_ADMIN,
    ORG_INVITE,
    ORG_JOIN,
    ORG_NEW,
    org_admin_body,
    org_fields,
    org_member_body,
    org_new_body,
    org_self_body,
)
from samoorg.node.indexer import load_index
from samoorg.node.store import Store
from tests.net_fixtures import head_seqs, running_node, wait_until
from tests.portal_fixtures import LESSONS, search_ids

pytestmark = pytest.mark.network


def _seen(store: Store, org: bytes) -> tuple[object, ...]:
    views = Views(load_index(store))
    held = views.orgs.get(org)
    assert held is not None
    found = search_ids(store, ListingQuery(org=org))
    assert found == [item.id for item in views.orgs.listings_of(org)]
    return views.digests()["orgs"], held.members, held.admins, found


async def test_an_org_converges_across_two_daemons(tmp_path: Path) -> None:
    async with (
        running_node(tmp_path / "a") as a,
        running_node(tmp_path / "b", bootstrap=[a.addr], follow=[a.key]) as b,
    ):
        with Store(a.home.store_file) as store:
            org = store.append(a.signer, ORG_NEW, org_new_body(org_fields("Bakers"))).id
            store.append(a.signer, ORG_INVITE, org_member_body(org, b.key))
        await wait_until(lambda: head_seqs(b.store).get(a.key) == 2, 20, "a's org at b")
        with Store(b.home.store_file) as store:
            store.append(b.signer, ORG_JOIN, org_self_body(org))
            fields = replace(LESSONS, title="Bread", tags=("food",), org=org)
            listing = store.append(b.signer, LISTING, listing_body(fields)).id
        await wait_until(lambda: head_seqs(a.store).get(b.key) == 2, 20, "b's join at a")
        with Store(a.home.store_file) as store:
            store.append(a.signer, ORG_ADMIN, org_admin_body(org, b.key, True))
        await wait_until(lambda: head_seqs(b.store).get(a.key) == 3, 20, "a's admin at b")
        with Store(a.home.store_file) as at_a, Store(b.home.store_file) as at_b:
            seen = _seen(at_a, org)
            assert seen == _seen(at_b, org)
            _, members, admins, found = seen
            assert members == admins == {a.key, b.key}
            assert found == [listing]
