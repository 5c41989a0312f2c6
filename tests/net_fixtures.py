"""Running real nodes in this process (libp2p on loopback) for the network tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

from samoorg.node.daemon import Node, NodeConfig
from samoorg.node.home import Home
from samoorg.node.keystore import create_key_file, load_signer
from samoorg.node.libp2p_transport import Libp2pTransport, open_libp2p_transport
from samoorg.node.peerbook import PeerBook
from samoorg.node.store import Store
from samoorg.protocol.crypto import Signer
from samoorg.protocol.ids import peer_id

LOOPBACK = "/ip4/127.0.0.1/tcp/0"


def make_home(path: Path) -> tuple[Home, Signer]:
    """An initialised home (identity and empty store) at ``path``."""
    home = Home(path)
    if home.key_file.exists():
        return home, load_signer(home.key_file)
    signer = create_key_file(home.key_file)
    Store(home.store_file).close()
    return home, signer


@dataclass
class RunningNode:
    """A node running in this process, with handles on its parts."""

    home: Home
    signer: Signer
    node: Node
    store: Store
    book: PeerBook
    transport: Libp2pTransport

    @property
    def key(self) -> bytes:
        return self.signer.public_key

    @property
    def ident(self) -> str:
        return peer_id(self.signer.public_key)

    @property
    def addr(self) -> str:
        return self.transport.listen_addrs()[0]

    def write(self, count: int, kind: str = "test.note") -> None:
        """Append to our own feed through a second store handle, like a local command."""
        with Store(self.home.store_file) as other:
            for i in range(count):
                other.append(self.signer, kind, {"i": i})


@asynccontextmanager
async def running_node(
    path: Path,
    *,
    bootstrap: Sequence[str] = (),
    listen: str = LOOPBACK,
    hops: int = 3,
    follow: Sequence[bytes] = (),
) -> AsyncIterator[RunningNode]:
    """Run a node with its home at ``path`` until the block exits."""
    home, signer = make_home(path)
    with Store(home.store_file) as store, PeerBook.open(home) as book:
        book.follow(follow)
        async with open_libp2p_transport(signer.seed, [listen], read_timeout=None) as transport:
            node = Node(
                home=home,
                store=store,
                peer_book=book,
                transport=transport,
                config=NodeConfig(bootstrap=bootstrap, hops=hops),
                signer=signer,
            )
            async with trio.open_nursery() as nursery:
                await nursery.start(node.run)
                yield RunningNode(home, signer, node, store, book, transport)
                nursery.cancel_scope.cancel()


async def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, step: float = 0.05
) -> float:
    """Poll ``condition`` until true (bounded); return the seconds it took."""
    start = trio.current_time()
    with trio.move_on_after(timeout):
        while not condition():
            await trio.sleep(step)
        return trio.current_time() - start
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def head_seqs(store: Store) -> dict[bytes, int]:
    """``{author: head seq}`` of a store."""
    return {head.author: head.seq for head in store.heads()}
