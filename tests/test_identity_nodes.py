"""A two-device identity seen by a third node over real daemons (libp2p on loopback).

Ana's laptop and phone are one identity (§8.11): the phone's first entry accepts the
laptop's ``device.add``. Cleo invited the laptop; the phone pledges to Cleo and commits.
Cleo's node fetches both feeds and sees one member, Ana, whose pledge it is.

Cleo's node follows the phone's key: a third node learns of a new device from that
device's own feed (its ``device.accept``), which nothing in the founder's feed names.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import DEVICE_ACCEPT, DEVICE_ADD, accept_body, add_body
from samoorg.crdt.kinds.pledges import COMMIT, COMMITTED, INTEND, commit_body
from samoorg.crdt.kinds.trust import INVITE, TRUST_ACCEPT
from samoorg.node.indexer import load_index
from samoorg.node.store import Store, now_ms
from samoorg.protocol.device_code import device_one_time_key, sign_device_acceptance
from samoorg.protocol.invite_code import new_secret, one_time_key, sign_acceptance
from tests.net_fixtures import head_seqs, make_home, running_node, wait_until

pytestmark = pytest.mark.network

DAY_MS = 86_400_000
AMOUNT = {"amount": 10000, "currency": "EUR"}


def write_homes(laptop: Path, phone: Path, cleo: Path) -> tuple[bytes, bytes, bytes, bytes]:
    """The records of the three homes; returns the three keys and the pledge id."""
    (_, ana), (_, ana_phone), (_, cleo_key) = make_home(laptop), make_home(phone), make_home(cleo)
    secret, device_secret = new_secret(), new_secret()
    with Store(cleo / "store.sqlite") as store:
        invite = store.append(
            cleo_key, INVITE, {**AMOUNT, "expires": now_ms() + DAY_MS, "key": one_time_key(secret)}
        )
    with Store(laptop / "store.sqlite") as store:
        proof = sign_acceptance(secret, invite.id, ana.public_key)
        body = {"invite": invite.id, "inviter": cleo_key.public_key, **AMOUNT, "proof": proof}
        store.append(ana, TRUST_ACCEPT, body)
        add = store.append(ana, DEVICE_ADD, add_body(device_one_time_key(device_secret)))
    with Store(phone / "store.sqlite") as store:
        joined = sign_device_acceptance(device_secret, add.id, ana_phone.public_key)
        store.append(ana_phone, DEVICE_ACCEPT, accept_body(add.id, joined))
        pledge = store.append(ana_phone, INTEND, {"to": cleo_key.public_key, **AMOUNT})
        store.append(ana_phone, COMMIT, commit_body(pledge.id))
    return ana.public_key, ana_phone.public_key, cleo_key.public_key, pledge.id


async def test_a_third_node_sees_a_two_device_identity_as_one_member(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("laptop", "phone", "cleo")]
    ana, phone, cleo, pledge_id = write_homes(*paths)
    async with AsyncExitStack() as stack:
        laptop_node = await stack.enter_async_context(running_node(paths[0]))
        at = [laptop_node.addr]
        await stack.enter_async_context(running_node(paths[1], bootstrap=at, follow=[ana]))
        cleo_node = await stack.enter_async_context(
            running_node(paths[2], bootstrap=at, follow=[phone])
        )

        def cleo_holds() -> bool:
            held = head_seqs(cleo_node.store)
            return held.get(ana, 0) >= 2 and held.get(phone, 0) >= 3

        await wait_until(cleo_holds, 30, "the laptop's and the phone's feeds at Cleo")
        views = Views(load_index(cleo_node.store))
        assert views.identity(phone) == ana
        assert views.trust.members(cleo) == {cleo, ana}  # one member for two devices
        assert views.trust.pool(cleo).members == 2
        outcome = views.pledges.pledge(pledge_id)
        assert outcome is not None
        assert (outcome.state, outcome.author, outcome.beneficiary) == (COMMITTED, ana, cleo)
        assert views.pledges.debts() == {("EUR", ana, cleo): 10000}
