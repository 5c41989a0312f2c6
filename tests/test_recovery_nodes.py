"""A recovery request travels to guardians over real nodes (libp2p on loopback, §8.13).

Ana trusts Bea and Cem and named them guardians; her only device is gone. A
new key asks for her identity and its node dials Bea's alone; Cem's node is
connected to Bea's alone. Bea's node takes the request (its author asks for
someone in its scope); once Bea approved, Cem's node learns the new key from
her approval and fetches its feed through Bea's, and the new key's node gets
Cem's approval in turn.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from samoorg.crdt.kinds.recovery import (
    RECOVERY_APPROVE,
    RECOVERY_REQUEST,
    RECOVERY_SET,
    approve_body,
    request_body,
    set_body,
)
from samoorg.crdt.kinds.trust import INVITE, TRUST_ACCEPT
from samoorg.node.store import Store, now_ms
from samoorg.protocol.invite_code import new_secret, one_time_key, sign_acceptance
from tests.net_fixtures import head_seqs, make_home, running_node, wait_until

pytestmark = [pytest.mark.network, pytest.mark.slow]

DAY_MS = 86_400_000


def _guarded(tmp_path: Path) -> tuple[list[bytes], bytes]:
    """Ana invites Bea and Cem, names them guardians (1 of 2); both hold her feed."""
    paths = [tmp_path / name for name in ("ana", "bea", "cem")]
    ana, bea, cem = (make_home(path)[1] for path in paths)
    amount = {"amount": 10000, "currency": "EUR"}
    made = []
    with Store(paths[0] / "store.sqlite") as store:
        for friend, path in ((bea, paths[1]), (cem, paths[2])):
            secret = new_secret()
            invite = store.append(
                ana, INVITE, {**amount, "expires": now_ms() + DAY_MS, "key": one_time_key(secret)}
            )
            proof = sign_acceptance(secret, invite.id, friend.public_key)
            body = {"invite": invite.id, "inviter": ana.public_key, **amount, "proof": proof}
            with Store(path / "store.sqlite") as theirs:
                made.append(theirs.append(friend, TRUST_ACCEPT, body))
        guardians = [bea.public_key, cem.public_key]
        store.append(ana, RECOVERY_SET, set_body(guardians, 1, 0))
        raws = [entry.raw for _, entry in store.entries()]
    raws += [entry.raw for entry in made]
    for path in paths[1:]:
        with Store(path / "store.sqlite") as store:
            store.ingest(raws)
    return [ana.public_key, bea.public_key, cem.public_key], ana.public_key


async def test_guardians_receive_the_request_and_the_new_key_their_approval(
    tmp_path: Path,
) -> None:
    (ana, bea, cem), _ = _guarded(tmp_path)
    _, new = make_home(tmp_path / "new")
    with Store(tmp_path / "new" / "store.sqlite") as store:
        request = store.append(new, RECOVERY_REQUEST, request_body(ana))
    async with AsyncExitStack() as stack:
        b = await stack.enter_async_context(running_node(tmp_path / "bea"))
        c = await stack.enter_async_context(running_node(tmp_path / "cem", bootstrap=[b.addr]))
        n = await stack.enter_async_context(
            running_node(tmp_path / "new", bootstrap=[b.addr], follow=[ana, bea, cem])
        )
        await wait_until(lambda: new.public_key in head_seqs(b.store), 40, "the request at Bea")
        with Store(b.home.store_file) as other:  # Bea approves, as a local command would
            other.append(b.signer, RECOVERY_APPROVE, approve_body(request.id, request.author))
        # Cem's node never met the new key's: it learns of it from Bea's approval.
        await wait_until(lambda: new.public_key in head_seqs(c.store), 40, "the request at Cem")
        assert request.id in {entry.id for _, entry in c.store.entries(author=new.public_key)}
        with Store(c.home.store_file) as other:
            body = approve_body(request.id, request.author)
            approval = other.append(c.signer, RECOVERY_APPROVE, body)
        await wait_until(
            lambda: approval.id in {e.id for _, e in n.store.entries(author=cem)},
            40,
            "Cem's approval at the new key's node",
        )
        await wait_until(lambda: ana in head_seqs(n.store), 20, "Ana's feed at the new key")
