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
from samoorg.node.replication import Outcome, SyncReport
from samoorg.node.scope import ScopeTracker, confirm_acceptances
from samoorg.node.store import Store
from samoorg.node.transport import DIAL_TIMEOUT, TransportError, split_address
from samoorg.protocol.crypto import Signer
from samoorg.protocol.ids import peer_id


@dataclass(frozen=True, slots=True)
class OneShotReport:
    """What ``samoorg sync`` moved: the session's report, and the time including the dial."""

    peer: bytes
    report: SyncReport
    seconds: float

    @property
    def failed(self) -> bool:
        """Whether the peer broke the protocol or a limit."""
        return self.report.outcome is Outcome.FAILED


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
    report: SyncReport | None = None,
) -> OneShotReport:
    """Dial ``address``, replicate once, and return the counts.

    ``report``, if given, is updated while the session runs (for progress, or
    to tell what moved when the caller cancels the sync).
    """
    from samoorg.node.libp2p_transport import open_libp2p_transport
    from samoorg.node.replication import replicate

    transport_part, key = split_address(address)
    scope = ScopeTracker(store, peer_book, signer.public_key, hops)
    scope.refresh()
    started = trio.current_time()
    async with open_libp2p_transport(signer.seed, listen=(), read_timeout=None) as transport:
        try:
            with trio.fail_after(timeout):
                await transport.dial(address, timeout=min(timeout, DIAL_TIMEOUT))
                stream = await transport.open_stream(key, SYNC_PROTOCOL)
                report = await replicate(  # owns the stream and closes it
                    stream,
                    store,
                    scope=lambda: scope.current | {key},
                    peer=peer_id(key),
                    report=report,
                )
        except trio.TooSlowError:
            raise SyncTimeout(f"sync with {address} did not finish within {timeout:g} s") from None
    peer_book.add(key, [transport_part], "manual")
    peer_book.record_sync(key, report.received, report.sent, report.rejected)
    scope.refresh()
    confirm_acceptances(store, signer, scope)  # sent at the next sync (node/scope.py)
    return OneShotReport(peer=key, report=report, seconds=trio.current_time() - started)
