"""``samoorg sync MULTIADDR``: one replication session with one peer, without a daemon.

A short-lived libp2p host with our identity dials the peer, runs one
non-live session (both sides exchange what the other lacks, then close) and
reports what moved. The peer is remembered in the peer book (source
``manual``) with the counts, like a daemon session.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from samoorg.node.daemon import SYNC_PROTOCOL
from samoorg.node.peerbook import PeerBook
from samoorg.node.scope import ScopeTracker
from samoorg.node.store import Store
from samoorg.node.transport import DIAL_TIMEOUT, TransportError, split_address
from samoorg.protocol.crypto import Signer


@dataclass(frozen=True, slots=True)
class OneShotReport:
    """What ``samoorg sync`` moved."""

    peer: bytes
    received: int
    sent: int
    rejected: int
    rejections: tuple[str, ...]
    seconds: float


class SyncTimeout(TransportError):
    """The whole one-shot sync took longer than allowed."""


async def sync_once(
    signer: Signer,
    store: Store,
    peer_book: PeerBook,
    address: str,
    *,
    hops: int,
    timeout: float,
) -> OneShotReport:
    """Dial ``address``, replicate once, and return the counts."""
    from samoorg.node.libp2p_transport import open_libp2p_transport
    from samoorg.node.replication import replicate

    transport_part, key = split_address(address)
    scope = ScopeTracker(store, peer_book, signer.public_key, hops)
    scope.refresh()
    started = trio.current_time()
    async with open_libp2p_transport(signer.seed, listen=()) as transport:
        try:
            with trio.fail_after(timeout):
                await transport.dial(address, timeout=min(timeout, DIAL_TIMEOUT))
                stream = await transport.open_stream(key, SYNC_PROTOCOL)
                try:
                    report = await replicate(stream, store, scope=scope.current | {key}, live=False)
                finally:
                    await stream.aclose()
        except trio.TooSlowError:
            raise SyncTimeout(f"sync with {address} did not finish within {timeout:g} s") from None
    peer_book.add(key, [transport_part], "manual")
    peer_book.record_sync(key, report.received, report.sent, report.rejected)
    return OneShotReport(
        peer=key,
        received=report.received,
        sent=report.sent,
        rejected=report.rejected,
        rejections=tuple(report.rejections),
        seconds=trio.current_time() - started,
    )
