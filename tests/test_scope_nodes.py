"""Friend-of-a-friend replication between real nodes (libp2p on loopback, one process).

A invites B, B invites C, C invites D, D invites E. Each node dials only its
inviter, so A is connected to B alone. With ``--hops 3`` A must end up with
C's and D's feeds, learned from confirmations in B's and C's feeds and fetched
through B, but never with E's, four hops away (B, at distance 3 from E,
holds it).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from itertools import pairwise
from pathlib import Path

import pytest
import trio

from samoorg.crdt.kinds.trust import CONFIRM, INVITE, TRUST_ACCEPT
from samoorg.node.store import Store, now_ms
from samoorg.protocol.invite_code import new_secret, one_time_key, sign_acceptance
from tests.net_fixtures import RunningNode, head_seqs, make_home, running_node, wait_until

pytestmark = pytest.mark.network

DAY_MS = 86_400_000


def write_invite_chain(paths: list[Path]) -> list[bytes]:
    """Invites and acceptances along ``paths`` (no confirmations: the nodes write those)."""
    signers = [make_home(path)[1] for path in paths]
    for (inviter, invitee), (left, right) in zip(pairwise(signers), pairwise(paths), strict=True):
        secret = new_secret()
        amount = {"amount": 10000, "currency": "EUR"}
        with Store(left / "store.sqlite") as store:
            invite = store.append(
                inviter,
                INVITE,
                {**amount, "expires": now_ms() + DAY_MS, "key": one_time_key(secret)},
            )
        with Store(right / "store.sqlite") as store:
            store.append(
                invitee,
                TRUST_ACCEPT,
                {
                    "invite": invite.id,
                    "inviter": inviter.public_key,
                    **amount,
                    "proof": sign_acceptance(secret, invite.id, invitee.public_key),
                },
            )
    return [s.public_key for s in signers]


async def test_friends_of_friends_arrive_through_one_peer_up_to_hops(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in "abcde"]
    a, b, c, d, e = write_invite_chain(paths)
    async with AsyncExitStack() as stack:
        nodes: list[RunningNode] = []
        for path in paths:
            bootstrap = [nodes[-1].addr] if nodes else []
            nodes.append(await stack.enter_async_context(running_node(path, bootstrap=bootstrap)))
        first, second = nodes[0], nodes[1]

        def a_holds(*authors: bytes) -> bool:
            return set(authors) <= head_seqs(first.store).keys()

        await wait_until(lambda: a_holds(a, b, c, d), 30, "C's and D's feeds at A")
        # D's confirmation of E (what would lead A to E) is at A, and B holds E's feed.
        await wait_until(
            lambda: any(
                entry.kind == CONFIRM and entry.body["invitee"] == e
                for _, entry in first.store.entries(author=d)
            ),
            20,
            "D's confirmation of E at A",
        )
        await wait_until(lambda: e in head_seqs(second.store), 20, "E's feed at B")
        await trio.sleep(2.0)  # two scope intervals of the live session with B
        assert e not in head_seqs(first.store)
        assert first.node.sessions().keys() == {b}
        assert first.node.scope.distances() == {a: 0, b: 1, c: 2, d: 3}
