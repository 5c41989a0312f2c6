"""The network transport interface the node is written against.

The daemon, the one-shot sync and the tests need only what is here: our own
peer id and addresses, dialling an address, opening a stream by protocol id,
serving a protocol, announcing bytes on a topic, and learning about peers
found on the LAN. ``samoorg.node.libp2p_transport`` implements it over
py-libp2p; any other implementation (a plain TCP + Noise fallback, an
in-memory network for tests) can replace it without touching ``protocol/`` or
``crdt/``.

A peer is named by its 32-byte Ed25519 public key, which is also the author
key of its feed: the transport authenticates the remote end of every
connection, so ``peer`` in a handler is who signed the handshake.

Addresses are multiaddr strings. A dialable address ends in ``/p2p/<peer id>``
so that the handshake can check that we reached the peer we meant to reach.
A relay address (``/ip4/R/tcp/N/p2p/<relay>/p2p-circuit/p2p/<peer>``) reaches
a peer that cannot be dialled directly through a relay it has a reservation
with (circuit relay v2).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from samoorg.node.errors import NodeError
from samoorg.node.streams import ByteStream
from samoorg.protocol.ids import BadIdentifier, parse_peer_id, peer_id

DIAL_TIMEOUT: Final = 5.0
"""Seconds after which a dial (TCP connect plus Noise and yamux) is abandoned."""


class TransportError(NodeError):
    """A dial, stream or announce failed; the message says which peer and why."""


class DialFailed(TransportError):
    """A peer could not be reached (refused, unreachable, timed out, wrong identity)."""


class BadAddress(TransportError):
    """A string is not a usable multiaddr (or lacks the ``/p2p/<peer id>`` part)."""


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """A peer and the multiaddrs (without ``/p2p/...``) it can be reached at."""

    peer: bytes
    addrs: tuple[str, ...]

    def dialable(self) -> list[str]:
        """Each address with ``/p2p/<peer id>`` appended."""
        suffix = f"/p2p/{peer_id(self.peer)}"
        return [addr + suffix for addr in self.addrs]


def split_address(text: str) -> tuple[str, bytes]:
    """Split ``/ip4/.../tcp/N/p2p/<id>`` into the transport part and the peer key.

    Raises :class:`BadAddress` with a hint when the peer id is missing or
    malformed. The transport part is not validated further here: the dialling
    implementation reports what it cannot use.
    """
    value = text.strip()
    if not value.startswith("/"):
        raise BadAddress(
            f"expected a multiaddr such as /ip4/1.2.3.4/tcp/4001/p2p/12D3KooW..., found {text!r}"
        )
    head, sep, tail = value.rpartition("/p2p/")
    if not sep or not head or "/" in tail:
        raise BadAddress(
            f"expected the address to end in /p2p/<peer id> (see 'samoorg status'), found {text!r}"
        )
    try:
        key = parse_peer_id(tail)
    except BadIdentifier as exc:
        raise BadAddress(f"bad peer id in {text!r}: {exc}") from None
    return head, key


StreamHandler = Callable[[bytes, ByteStream], Awaitable[None]]
"""Serves one inbound stream: ``handler(remote peer key, stream)``."""

AnnounceHandler = Callable[[bytes, bytes], Awaitable[None]]
"""Receives one announcement: ``handler(originating peer key, data)``."""

PeerHandler = Callable[[PeerAddress], None]
"""Told about a peer found on the LAN (called in the transport's trio task)."""


class Transport(Protocol):
    """What the node needs from a peer-to-peer network."""

    @property
    def local_peer(self) -> bytes:
        """Our Ed25519 public key (the feed author)."""

    def listen_addrs(self) -> list[str]:
        """Our dialable multiaddrs, each ending in ``/p2p/<our peer id>``."""

    async def dial(self, address: str, *, timeout: float = DIAL_TIMEOUT) -> bytes:
        """Connect to ``address`` (ending in ``/p2p/<id>``) and return the peer key.

        Returns at once if already connected. Raises :class:`DialFailed` after
        at most ``timeout`` seconds.
        """

    async def dial_any(
        self, peer: bytes, addrs: Sequence[str], *, timeout: float = DIAL_TIMEOUT
    ) -> None:
        """Connect to ``peer`` at any of ``addrs`` (without ``/p2p``) within ``timeout``."""

    async def open_stream(self, peer: bytes, protocol: str) -> ByteStream:
        """A new stream to a connected peer, negotiated for ``protocol``."""

    def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None:
        """Serve inbound streams of ``protocol``; each runs in its own task."""

    async def subscribe(self, topic: str, handler: AnnounceHandler) -> None:
        """Deliver every announcement on ``topic`` (ours excluded) to ``handler``."""

    async def announce(self, topic: str, data: bytes) -> None:
        """Broadcast ``data`` to the peers subscribed to ``topic`` (best effort)."""

    def on_peer_discovered(self, handler: PeerHandler) -> None:
        """Call ``handler`` for each peer found by local discovery (mDNS)."""

    def connected_peers(self) -> set[bytes]:
        """Peers with an open connection now."""

    def known_addrs(self, peer: bytes) -> list[str]:
        """Addresses (without ``/p2p``) the transport learned for ``peer``."""

    async def disconnect(self, peer: bytes) -> None:
        """Close every connection to ``peer``."""

    async def reserve(self, relay_address: str) -> str:
        """Have the relay at ``relay_address`` relay for us; return our address through it."""

    def drop_reservation(self, relay: bytes) -> None:
        """Stop advertising the address through ``relay``."""
