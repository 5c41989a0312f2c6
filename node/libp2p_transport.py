"""The :class:`~samoorg.node.transport.Transport` over py-libp2p 0.8.1.

Import this module only from commands that need the network: it imports
libp2p (0.4-0.8 s, 85 MB), which local commands must never pay for.

How the host is built (each point is a measured pitfall, see
``../shared/notes/py-libp2p.md`` and ``docs/networking.md``):

* The host key **is** the participant's Ed25519 key, so the libp2p peer id is
  the feed author id. On an inbound stream the remote key comes from the
  Noise handshake, never from anything the peer says later.
* Noise only and yamux only: ``new_host`` would otherwise also offer TLS,
  secio and plaintext, and mplex is six times slower than yamux.
* ``max_connections_per_peer=1``: with the default 3, every ``connect()`` waits
  250 ms for more addresses.
* Gossipsub's per-peer rate limit (10 messages/s/topic by default, silently
  dropping the rest) is raised to :data:`GOSSIP_RATE_LIMIT`; announcements are
  batched so that we stay far below it, and pull sync fills any gap anyway.
* ``host.close()`` runs inside the ``host.run()`` block (leaving the block alone
  leaks outbound sockets), and the pubsub seen-cache thread is stopped.
* The ``libp2p`` logger, which libp2p cuts off from the root logger, is
  reattached so that our logging configuration decides what is shown.
* mDNS runs on one chosen interface through our own zeroconf instance (libp2p
  would multicast on every interface); zeroconf's callbacks run in its thread
  and re-enter trio with ``trio.from_thread``.
* Yamux streams have no deadlines: reads are wrapped in ``trio.fail_after``.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, Final

import trio
from libp2p import new_host
from libp2p.crypto.ed25519 import Ed25519PrivateKey
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as new_x25519_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.network.stream.exceptions import StreamEOF, StreamError
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo
from libp2p.pubsub.gossipsub import PROTOCOL_ID as GOSSIPSUB_V10
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11 as GOSSIPSUB_V11
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.pubsub.pubsub import Pubsub
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.tools.anyio_service import background_trio_service
from multiaddr import Multiaddr

from samoorg.node.transport import (
    DIAL_TIMEOUT,
    AnnounceHandler,
    BadAddress,
    DialFailed,
    PeerAddress,
    PeerHandler,
    StreamHandler,
    TransportError,
    split_address,
)
from samoorg.protocol.ids import BadIdentifier, parse_peer_id, peer_id

log = logging.getLogger("samoorg.net")

READ_CHUNK: Final = 256 * 1024
GOSSIP_RATE_LIMIT: Final = 200.0
"""Messages per second per topic per forwarding peer before gossipsub drops them."""
ANNOUNCE_MAX: Final = 1 << 20
"""Largest announcement we send or accept (gossipsub's own frame cap is 1 MiB)."""


def attach_libp2p_logging() -> None:
    """Let the ``libp2p`` logger propagate to ours instead of printing on its own."""
    logger = logging.getLogger("libp2p")
    logger.handlers.clear()
    logger.propagate = True


def _to_id(key: bytes) -> ID:
    return ID.from_base58(peer_id(key))


def _to_key(ident: ID) -> bytes:
    try:
        return parse_peer_id(ident.to_base58())
    except BadIdentifier as exc:
        raise TransportError(f"peer {ident} does not use an Ed25519 key: {exc}") from None


def _without_p2p(addrs: Iterable[str]) -> list[str]:
    # Without the trailing /p2p/<id> and duplicates, in the order given. A
    # relay address keeps its inner /p2p/<relay>/p2p-circuit part.
    out: list[str] = []
    for addr in addrs:
        head, sep, tail = addr.rpartition("/p2p/")
        if not sep or "/" in tail:
            head = addr
        if head and head not in out:
            out.append(head)
    return out


def _is_circuit(addr: str) -> bool:
    return "/p2p-circuit" in addr


class Libp2pStream:
    """A libp2p stream as a :class:`~samoorg.node.streams.ByteStream`.

    Errors of the muxer become :class:`trio.BrokenResourceError`, as for any
    trio stream; EOF becomes ``b""``. A read that waits longer than
    ``read_timeout`` raises :class:`trio.TooSlowError` (yamux has no deadlines).
    """

    def __init__(self, stream: Any, read_timeout: float | None) -> None:
        self._stream = stream
        self._read_timeout = read_timeout
        self._closed = False

    async def send_all(self, data: bytes) -> None:
        """Write all of ``data``."""
        if self._closed:
            raise trio.ClosedResourceError("stream already closed")
        try:
            await self._stream.write(bytes(data))
        except (StreamError, OSError) as exc:
            raise trio.BrokenResourceError(f"stream write failed: {exc!r}") from None

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Up to ``max_bytes`` bytes; ``b""`` at end of stream."""
        if self._closed:
            raise trio.ClosedResourceError("stream already closed")
        limit = max_bytes or READ_CHUNK
        try:
            if self._read_timeout is None:
                return bytes(await self._stream.read(limit))
            with trio.fail_after(self._read_timeout):
                return bytes(await self._stream.read(limit))
        except StreamEOF:
            return b""
        except (StreamError, OSError) as exc:
            raise trio.BrokenResourceError(f"stream read failed: {exc!r}") from None

    async def send_eof(self) -> None:
        """Half-close: the peer reads EOF, we can still read."""
        try:
            await self._stream.close_write()
        except (StreamError, OSError) as exc:
            raise trio.BrokenResourceError(f"stream close failed: {exc!r}") from None

    async def aclose(self) -> None:
        """Close both directions (reset if a clean close fails)."""
        if self._closed:
            return
        self._closed = True
        with trio.move_on_after(2) as scope:
            scope.shield = True
            try:
                await self._stream.close()
            except Exception as exc:  # noqa: BLE001 - any failure falls back to a reset
                log.debug("stream close failed, resetting: %r", exc)
            else:
                return
        with trio.move_on_after(1) as scope:
            scope.shield = True
            try:
                await self._stream.reset()
            except Exception as exc:  # noqa: BLE001 - the stream is gone either way
                log.debug("stream reset failed: %r", exc)


class _LanDiscovery:
    """mDNS on one interface through our own zeroconf instance.

    Uses libp2p's spec-conformant broadcaster (TXT ``dnsaddr=`` records) and a
    listener that reports to us instead of libp2p's process-wide singleton.
    """

    def __init__(self, host: Any, interface: str, handler: PeerHandler) -> None:
        self._host = host
        self._interface = interface
        self._handler = handler
        self._token = trio.lowlevel.current_trio_token()
        self._zeroconf: Any = None
        self._broadcaster: Any = None
        self._listener: Any = None

    def _start_blocking(self, port: int) -> None:
        from libp2p.discovery.mdns.broadcaster import PeerBroadcaster
        from libp2p.discovery.mdns.listener import PeerListener
        from libp2p.discovery.mdns.mdns import SERVICE_TYPE
        from libp2p.discovery.mdns.utils import stringGen
        from zeroconf import Zeroconf

        outer = self

        class Listener(PeerListener):
            def add_service(self, zc: Any, type_: str, name: str) -> None:
                self._report(zc, type_, name)

            def update_service(self, zc: Any, type_: str, name: str) -> None:
                self._report(zc, type_, name)

            def _report(self, zc: Any, type_: str, name: str) -> None:
                if name == self.service_name or type_ != self.service_type:
                    return
                info = self._get_service_info_with_retry(zc, type_, name)
                found = self._extract_peer_info(info) if info else None
                if found is not None:
                    outer._found(found)

        self._zeroconf = Zeroconf(interfaces=[self._interface])
        name = f"{stringGen(32)}.{SERVICE_TYPE}"
        self._broadcaster = PeerBroadcaster(
            zeroconf=self._zeroconf,
            service_type=SERVICE_TYPE,
            service_name=name,
            peer_id=str(self._host.get_id()),
            port=port,
            host=self._host,
        )
        self._broadcaster.register()
        self._listener = Listener(
            peerstore=self._host.get_peerstore(),
            zeroconf=self._zeroconf,
            service_type=SERVICE_TYPE,
            service_name=name,
            retry_attempts=2,
            retry_base_delay=0.5,
        )

    def _found(self, info: Any) -> None:
        # Runs in zeroconf's thread.
        try:
            found = PeerAddress(
                _to_key(info.peer_id), tuple(_without_p2p(str(a) for a in info.addrs))
            )
        except TransportError:
            return
        with suppress(trio.RunFinishedError):
            trio.from_thread.run_sync(self._handler, found, trio_token=self._token)

    async def start(self, port: int) -> None:
        await trio.to_thread.run_sync(self._start_blocking, port)

    def _stop_blocking(self) -> None:
        if self._zeroconf is None:
            return
        if self._broadcaster is not None:
            self._broadcaster.unregister()
        if self._listener is not None:
            self._listener.browser.cancel()
            self._listener.meta_browser.cancel()
        self._zeroconf.close()
        self._zeroconf = None

    async def stop(self) -> None:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(self._stop_blocking)


class Libp2pTransport:
    """A running libp2p host behind our :class:`~samoorg.node.transport.Transport`."""

    def __init__(
        self,
        host: Any,
        pubsub: Any,
        nursery: trio.Nursery,
        read_timeout: float | None,
        relay: tuple[Any, Any],
    ) -> None:
        self._host = host
        self._pubsub = pubsub
        self._circuits, self._relay_discovery = relay
        self._reservations: dict[bytes, str] = {}
        self._nursery = nursery
        self._read_timeout = read_timeout
        self._local = _to_key(host.get_id())
        self._discovery_handlers: list[PeerHandler] = []
        self._lan_peers: dict[bytes, PeerAddress] = {}

    @property
    def local_peer(self) -> bytes:
        """Our Ed25519 public key."""
        return self._local

    def listen_addrs(self) -> list[str]:
        """Our dialable multiaddrs with ``/p2p/<id>``."""
        from libp2p.utils.address_validation import expand_wildcard_address

        suffix = f"/p2p/{peer_id(self._local)}"
        addrs: list[str] = []
        for listening in self._host.get_transport_addrs():
            # 0.0.0.0 is where we listen, not where anyone can reach us.
            for addr in _without_p2p(str(a) for a in expand_wildcard_address(listening)):
                if addr not in addrs:
                    addrs.append(addr)
        addrs.extend(self._reservations.values())
        return [a + suffix for a in addrs]

    def tcp_port(self) -> int:
        """The TCP port of our first listen address (for mDNS)."""
        for addr in self._host.get_transport_addrs():
            port = addr.value_for_protocol("tcp")
            if port:
                return int(port)
        raise TransportError("the host listens on no TCP address")

    async def dial(self, address: str, *, timeout: float = DIAL_TIMEOUT) -> bytes:
        """Connect to ``address`` (with ``/p2p/<id>``); return the peer key."""
        transport_part, key = split_address(address)
        if key == self._local:
            raise DialFailed(f"{address} is this node itself")
        await self.dial_any(key, [transport_part], timeout=timeout)
        return key

    async def dial_any(
        self, peer: bytes, addrs: Sequence[str], *, timeout: float = DIAL_TIMEOUT
    ) -> None:
        """Connect to ``peer`` at any of ``addrs`` within ``timeout`` seconds.

        Direct addresses are tried first; relay addresses
        (``.../p2p/<relay>/p2p-circuit``) only if no direct one answers.
        """
        direct = [a for a in addrs if not _is_circuit(a)]
        relayed = [a for a in addrs if _is_circuit(a)]
        try:
            maddrs = [Multiaddr(a) for a in direct]
            circuits = [Multiaddr(f"{a}/p2p/{peer_id(peer)}") for a in relayed]
        except Exception as exc:  # noqa: BLE001 - multiaddr raises several types
            raise BadAddress(f"cannot parse address in {list(addrs)}: {exc}") from None
        who = peer_id(peer)
        problems: list[str] = []
        with trio.move_on_after(timeout) as scope:
            if maddrs:
                try:
                    await self._host.connect(PeerInfo(_to_id(peer), maddrs))
                except Exception as exc:  # noqa: BLE001 - libp2p raises many unrelated types
                    problems.append(f"{', '.join(direct)}: {exc}")
                else:
                    return
            for circuit in circuits:
                try:
                    await self._circuits.dial(circuit)
                except Exception as exc:  # noqa: BLE001 - as above
                    problems.append(f"{circuit}: {exc}")
                else:
                    return
        if scope.cancelled_caught:
            raise DialFailed(f"{who[:16]}… did not answer within {timeout:g} s")
        raise DialFailed(f"cannot reach {who[:16]}… at {'; '.join(problems) or 'no address'}")

    async def reserve(self, relay_address: str) -> str:
        """Ask the relay at ``relay_address`` (with ``/p2p/<id>``) to relay for us.

        Returns our circuit address through it, which :meth:`listen_addrs`
        includes from now on. Raises :class:`TransportError` if the relay
        refuses or does not speak circuit relay v2.
        """
        transport_part, relay = split_address(relay_address)
        await self.dial_any(relay, [transport_part])
        relay_id = _to_id(relay)
        with trio.move_on_after(DIAL_TIMEOUT * 2):
            # RelayDiscovery decides "is a relay" from identify's protocol list
            # and caches the answer, even the empty list it sees right after
            # connecting; we know the peer is meant to be a relay, so we add
            # it directly and let the reservation itself be the test.
            await self._relay_discovery._add_relay(relay_id)
            if await self._relay_discovery.make_reservation(relay_id):
                circuit = f"{transport_part}/p2p/{peer_id(relay)}/p2p-circuit"
                self._reservations[relay] = circuit
                return f"{circuit}/p2p/{peer_id(self._local)}"
        raise TransportError(f"relay {peer_id(relay)[:16]}… refused or offers no circuit relay")

    def drop_reservation(self, relay: bytes) -> None:
        """Stop advertising our address through ``relay`` (its connection is gone)."""
        self._reservations.pop(relay, None)

    async def open_stream(self, peer: bytes, protocol: str) -> Libp2pStream:
        """Open and negotiate a stream of ``protocol`` to a connected peer."""
        try:
            with trio.fail_after(DIAL_TIMEOUT * 2):
                stream = await self._host.new_stream(_to_id(peer), [TProtocol(protocol)])
        except trio.TooSlowError:
            raise TransportError(f"{peer_id(peer)[:16]}… did not open {protocol}") from None
        except Exception as exc:  # noqa: BLE001 - libp2p raises many unrelated types
            raise TransportError(
                f"cannot open {protocol} to {peer_id(peer)[:16]}…: {exc}"
            ) from None
        return Libp2pStream(stream, self._read_timeout)

    def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None:
        """Serve ``protocol``; the remote key is the Noise-authenticated one."""
        read_timeout = self._read_timeout

        async def serve(stream: Any) -> None:
            wrapped = Libp2pStream(stream, read_timeout)
            try:
                remote = _to_key(stream.muxed_conn.peer_id)
                await handler(remote, wrapped)
            except (TransportError, trio.BrokenResourceError, trio.TooSlowError) as exc:
                log.info("inbound %s stream ended: %s", protocol, exc)
            finally:
                await wrapped.aclose()

        self._host.set_stream_handler(TProtocol(protocol), serve)

    async def subscribe(self, topic: str, handler: AnnounceHandler) -> None:
        """Run ``handler`` for every message on ``topic`` that others published."""
        subscription = await self._pubsub.subscribe(topic)

        async def pump() -> None:
            while True:
                message = await subscription.get()
                try:
                    origin = _to_key(ID(message.from_id))
                except (TransportError, ValueError):
                    continue
                if origin == self._local or len(message.data) > ANNOUNCE_MAX:
                    continue
                await handler(origin, bytes(message.data))

        self._nursery.start_soon(pump)

    async def announce(self, topic: str, data: bytes) -> None:
        """Publish on ``topic``; a failure is logged, never raised (pull sync fills gaps)."""
        if len(data) > ANNOUNCE_MAX:
            raise TransportError(f"announcement of {len(data)} bytes exceeds {ANNOUNCE_MAX}")
        try:
            await self._pubsub.publish(topic, data)
        except Exception as exc:  # noqa: BLE001 - best effort by design
            log.warning("announce on %s failed: %s", topic, exc)

    def on_peer_discovered(self, handler: PeerHandler) -> None:
        """Register a handler for peers found by mDNS."""
        self._discovery_handlers.append(handler)
        for found in list(self._lan_peers.values()):
            handler(found)

    def _discovered(self, found: PeerAddress) -> None:
        if found.peer == self._local or not found.addrs:
            return
        self._lan_peers[found.peer] = found
        for handler in self._discovery_handlers:
            handler(found)

    def connected_peers(self) -> set[bytes]:
        """Peers with an open connection now."""
        peers: set[bytes] = set()
        for ident, conns in list(self._host.get_network().connections.items()):
            if conns:
                try:
                    peers.add(_to_key(ident))
                except TransportError:
                    continue
        return peers

    def known_addrs(self, peer: bytes) -> list[str]:
        """What identify, mDNS or dialling told libp2p about ``peer``'s addresses."""
        try:
            addrs = self._host.get_peerstore().addrs(_to_id(peer))
        except Exception as exc:  # noqa: BLE001 - peerstore raises when the peer is unknown
            log.debug("no addresses for %s: %r", peer_id(peer)[:16], exc)
            return []
        return _without_p2p(str(a) for a in addrs)

    async def disconnect(self, peer: bytes) -> None:
        """Close every connection to ``peer``."""
        try:
            await self._host.disconnect(_to_id(peer))
        except Exception as exc:  # noqa: BLE001 - the connection may already be gone
            log.debug("disconnect %s: %r", peer_id(peer)[:16], exc)


@asynccontextmanager
async def unwrapped_errors() -> AsyncIterator[None]:
    """Re-raise a lone error out of the ExceptionGroups that trio and libp2p nurseries add."""
    # libp2p's nurseries wrap an error raised in the caller's block (a dial
    # failure, a store error) in nested ExceptionGroups; callers and the CLI
    # expect the error itself.
    try:
        yield
    except BaseExceptionGroup as group:
        leaves = _leaves(group)
        if len(leaves) == 1 and isinstance(leaves[0], Exception):
            raise leaves[0] from None
        raise


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


RELAY_LIMITS: Final = {"duration": 3600, "data": 256 << 20, "circuits": 64, "reservations": 128}
"""Per-circuit time and byte caps, and counts, of the relay service."""


def _circuit_relay(host: Any, serve: bool) -> tuple[Any, Any, Any]:
    """Circuit relay v2: the protocol (hop if ``serve``, always stop), the dialer, reservations."""
    from libp2p.relay.circuit_v2.config import RelayConfig, RelayRole
    from libp2p.relay.circuit_v2.discovery import RelayDiscovery
    from libp2p.relay.circuit_v2.protocol import (
        PROTOCOL_ID as HOP_PROTOCOL_ID,
    )
    from libp2p.relay.circuit_v2.protocol import (
        STOP_PROTOCOL_ID,
        CircuitV2Protocol,
    )
    from libp2p.relay.circuit_v2.resources import RelayLimits
    from libp2p.relay.circuit_v2.transport import CircuitV2Transport

    limits = RelayLimits(
        duration=RELAY_LIMITS["duration"],
        data=RELAY_LIMITS["data"],
        max_circuit_conns=RELAY_LIMITS["circuits"],
        max_reservations=RELAY_LIMITS["reservations"],
    )
    protocol = CircuitV2Protocol(host, limits=limits, allow_hop=serve)
    if serve:
        host.set_stream_handler(HOP_PROTOCOL_ID, protocol._handle_hop_stream)
    host.set_stream_handler(STOP_PROTOCOL_ID, protocol._handle_stop_stream)
    roles = RelayRole.STOP | RelayRole.CLIENT | (RelayRole.HOP if serve else RelayRole(0))
    circuits = CircuitV2Transport(host, protocol, RelayConfig(roles=roles, limits=limits))
    return protocol, circuits, RelayDiscovery(host, auto_reserve=False)


async def _no_auto_connect() -> None:
    return None


class ListenFailed(TransportError):
    """A listen address is taken by another program (or another node) or unusable."""


def _reuse_address_only(sock: Any) -> None:
    # SO_REUSEADDR lets a restarted daemon bind while old connections sit in
    # TIME_WAIT. libp2p also sets SO_REUSEPORT (for hole punching, which we do
    # not use): with it a second node binds the same port and the kernel
    # splits incoming connections between the two.
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)


def _exclusive_listen_ports() -> None:
    """Make libp2p's TCP listeners refuse a port that any other socket holds."""
    from libp2p.transport.tcp import tcp

    tcp._set_reuse_flags = _reuse_address_only


def _check_listening(network: Any, listen_addrs: Sequence[Multiaddr]) -> None:
    """Raise :class:`ListenFailed` for the first address libp2p could not listen on.

    libp2p only logs such a failure (at debug level) and goes on listening
    nowhere, so we compare what was asked with what listens.
    """
    for addr in listen_addrs:
        if str(addr) not in network.listeners:
            raise ListenFailed(f"cannot listen on {addr}: {_listen_problem(addr)}")


def _listen_problem(addr: Multiaddr) -> str:
    """Why binding ``addr`` fails, found by trying it once more ourselves."""
    ip = addr.value_for_protocol("ip6") if "ip6" in {p.name for p in addr.protocols()} else None
    family = socket.AF_INET6 if ip else socket.AF_INET
    host = ip or addr.value_for_protocol("ip4") or "0.0.0.0"  # noqa: S104 - what libp2p binds
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        _reuse_address_only(probe)
        try:
            probe.bind((host, int(addr.value_for_protocol("tcp") or 0)))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "address in use"
            return (exc.strerror or str(exc)).lower()
    return "address in use or not available"


def _key_pair(seed: bytes) -> Any:
    private = Ed25519PrivateKey.from_bytes(seed)
    return KeyPair(private, private.get_public_key())


@asynccontextmanager
async def open_libp2p_transport(
    seed: bytes,
    listen: Sequence[str] = ("/ip4/127.0.0.1/tcp/0",),
    *,
    mdns_interface: str | None = None,
    read_timeout: float | None = 60.0,
    relay_service: bool = False,
) -> AsyncIterator[Libp2pTransport]:
    """Run a libp2p host with identity ``seed`` (an Ed25519 seed) until the block exits.

    ``listen`` are TCP multiaddrs (port 0 picks a free port). With
    ``mdns_interface`` (an IPv4 address such as ``127.0.0.1``) the host also
    advertises itself and finds peers by mDNS on that interface only. With
    ``relay_service`` it relays connections for peers that cannot be reached
    directly (circuit relay v2 "hop"); every host can accept relayed
    connections and dial relay addresses.
    """
    attach_libp2p_logging()
    _exclusive_listen_ports()
    try:
        listen_addrs = [Multiaddr(a) for a in listen]
    except Exception as exc:  # noqa: BLE001 - multiaddr raises several types
        raise BadAddress(f"cannot parse listen address in {list(listen)}: {exc}") from None
    for addr in listen_addrs:
        if "tcp" not in {p.name for p in addr.protocols()}:
            raise BadAddress(
                f"expected a TCP listen address such as /ip4/0.0.0.0/tcp/4001, found {addr}"
            )
    key_pair = _key_pair(seed)
    host = new_host(
        key_pair=key_pair,
        sec_opt={
            NOISE_PROTOCOL_ID: NoiseTransport(
                key_pair, noise_privkey=new_x25519_key_pair().private_key
            )
        },
        muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): Yamux},
        listen_addrs=listen_addrs,
        connection_config=ConnectionConfig(
            max_connections_per_peer=1,
            dial_timeout=DIAL_TIMEOUT,
            min_connections=0,
            low_watermark=0,
        ),
    )
    gossipsub = GossipSub(
        protocols=[GOSSIPSUB_V11, GOSSIPSUB_V10],
        degree=6,
        degree_low=4,
        degree_high=12,
        heartbeat_initial_delay=0.1,
        heartbeat_interval=1,
        max_messages_per_topic_per_second=GOSSIP_RATE_LIMIT,
    )
    # The auto-connector dials every peer in the peerstore until 150
    # connections are open; we choose whom to dial ourselves.
    network: Any = host.get_network()
    network.auto_connector.maybe_connect = _no_auto_connect
    pubsub = Pubsub(host, gossipsub)
    relay_protocol, circuits, relay_discovery = _circuit_relay(host, relay_service)
    discovery: _LanDiscovery | None = None
    try:
        async with unwrapped_errors(), host.run(listen_addrs=listen_addrs):
            try:
                async with (
                    background_trio_service(pubsub),
                    background_trio_service(gossipsub),
                    background_trio_service(relay_protocol),
                    trio.open_nursery() as nursery,
                ):
                    _check_listening(network, listen_addrs)
                    await pubsub.wait_until_ready()
                    transport = Libp2pTransport(
                        host, pubsub, nursery, read_timeout, (circuits, relay_discovery)
                    )
                    if mdns_interface is not None:
                        # Registering probes the LAN for about 1.5 s: not on our critical path.
                        discovery = _LanDiscovery(host, mdns_interface, transport._discovered)
                        nursery.start_soon(discovery.start, transport.tcp_port())
                    try:
                        yield transport
                    finally:
                        nursery.cancel_scope.cancel()
            finally:
                with trio.CancelScope(shield=True):
                    if discovery is not None:
                        await discovery.stop()
                    with trio.move_on_after(3):
                        await host.close()
    finally:
        pubsub.seen_messages.stop()
