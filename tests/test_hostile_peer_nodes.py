"""A live node stays responsive after hostile CBOR from a peer with no key or trust.

Issue 11's remote denial of service, end to end: an outsider opens a sync
stream and sends a crafted first frame, and publishes a crafted announcement
on the heads topic. Before the fix each kept the victim's trio loop busy for
many seconds (or killed the process); now both are refused at once, and an
honest peer's entries still arrive within the usual bound.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from samoorg.node.daemon import HEADS_TOPIC, SYNC_PROTOCOL
from samoorg.node.libp2p_transport import open_libp2p_transport
from samoorg.protocol.framing import encode_frame
from tests.feed_fixtures import signer
from tests.hostile_cbor import CORPUS, DECODERS
from tests.net_fixtures import LOOPBACK, head_seqs, running_node, wait_until

pytestmark = [pytest.mark.network, pytest.mark.slow]


async def _ignore(origin: bytes, data: bytes) -> None:
    return None


async def test_hostile_first_frame_and_announcement_do_not_stall_the_node(
    tmp_path: Path,
) -> None:
    frame_item = CORPUS["shared square 13000 (52 kB, 1.7e8 leaves)"]
    announced_item = CORPUS["shared string 20 kB x 150000 (470 kB, 3 GB re-encoded)"]
    async with running_node(tmp_path / "victim") as victim:
        attacker_seed = signer("attacker").seed
        async with open_libp2p_transport(attacker_seed, [LOOPBACK], read_timeout=None) as evil:
            peer = await evil.dial(victim.addr)
            stream = await evil.open_stream(peer, SYNC_PROTOCOL)
            await stream.send_all(encode_frame(DECODERS["sync message"].wrap(frame_item)))
            await evil.subscribe(HEADS_TOPIC, _ignore)
            await trio.sleep(0.3)  # let the gossip mesh form (bounded)
            await evil.announce(HEADS_TOPIC, DECODERS["announcement"].wrap(announced_item))
            with trio.move_on_after(5):
                await stream.receive_some(1024)  # the victim closes the stream
        async with running_node(tmp_path / "honest", bootstrap=[victim.addr]) as honest:
            victim.book.follow([honest.key])
            victim.node.scope.refresh()
            honest.write(3)
            await wait_until(
                lambda: head_seqs(victim.store).get(honest.key) == 3, 10, "honest entries"
            )
