"""The libp2p transport on loopback: identity, streams, gossip, timeouts, mDNS."""

from __future__ import annotations

import os

import pytest
import trio

from samoorg.node.libp2p_transport import Libp2pStream, open_libp2p_transport
from samoorg.node.streams import ByteStream
from samoorg.node.transport import BadAddress, DialFailed, TransportError, split_address
from samoorg.protocol.crypto import Signer
from samoorg.protocol.ids import peer_id

pytestmark = pytest.mark.network

LOOPBACK = ("/ip4/127.0.0.1/tcp/0",)


async def _echo(peer: bytes, stream: ByteStream) -> None:
    while True:
        data = await stream.receive_some()
        if not data:
            return
        await stream.send_all(data)


async def test_peer_id_is_the_feed_key_and_streams_carry_bytes() -> None:
    alice, bob = Signer(os.urandom(32)), Signer(os.urandom(32))
    seen: list[bytes] = []

    async def record(peer: bytes, stream: ByteStream) -> None:
        seen.append(peer)
        await _echo(peer, stream)

    async with (
        open_libp2p_transport(alice.seed, LOOPBACK) as a,
        open_libp2p_transport(bob.seed, LOOPBACK) as b,
    ):
        assert a.local_peer == alice.public_key
        [addr] = a.listen_addrs()
        assert addr.endswith(f"/p2p/{peer_id(alice.public_key)}")
        a.set_stream_handler("/samoorg/test-echo/1", record)
        with trio.fail_after(10):
            assert await b.dial(addr) == alice.public_key
            stream = await b.open_stream(alice.public_key, "/samoorg/test-echo/1")
            payload = os.urandom(300_000)
            got = bytearray()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(stream.send_all, payload)
                while len(got) < len(payload):
                    got += await stream.receive_some()
            assert bytes(got) == payload
            await stream.aclose()
        assert seen == [bob.public_key]  # Noise-authenticated, not self-declared
        assert a.connected_peers() == {bob.public_key}
        assert b.known_addrs(alice.public_key) == [addr.split("/p2p/")[0]]


async def test_gossip_reaches_subscribers_but_not_the_sender() -> None:
    seeds = [os.urandom(32) for _ in range(3)]
    got: dict[int, list[tuple[bytes, bytes]]] = {0: [], 1: [], 2: []}
    async with (
        open_libp2p_transport(seeds[0], LOOPBACK) as t0,
        open_libp2p_transport(seeds[1], LOOPBACK) as t1,
        open_libp2p_transport(seeds[2], LOOPBACK) as t2,
    ):
        nodes = [t0, t1, t2]
        for i, node in enumerate(nodes):

            async def handler(origin: bytes, data: bytes, i: int = i) -> None:
                got[i].append((origin, data))

            await node.subscribe("/samoorg/test/1", handler)
        # A chain: 0 - 1 - 2; node 2 hears node 0 through node 1.
        with trio.fail_after(10):
            await t1.dial(t0.listen_addrs()[0])
            await t2.dial(t1.listen_addrs()[0])
            for attempt in range(100):
                await t0.announce("/samoorg/test/1", b"hello %d" % attempt)
                await trio.sleep(0.1)
                if got[2]:
                    break
        assert got[2]
        assert got[2][0][0] == t0.local_peer
        assert got[1]
        assert not got[0]


async def test_dial_to_a_silent_peer_times_out_without_blocking_others() -> None:
    # A TCP listener that accepts and never answers the handshake.
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    silent = f"/ip4/127.0.0.1/tcp/{port}/p2p/{peer_id(os.urandom(32))}"
    async with (
        open_libp2p_transport(os.urandom(32), LOOPBACK) as a,
        open_libp2p_transport(os.urandom(32), LOOPBACK) as b,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(trio.serve_listeners, lambda s: trio.sleep_forever(), listeners)
        results: dict[str, float] = {}

        async def dial(name: str, address: str) -> None:
            start = trio.current_time()
            try:
                await a.dial(address, timeout=2.0)
                results[name] = trio.current_time() - start
            except DialFailed:
                results[name + " failed"] = trio.current_time() - start

        with trio.fail_after(10):
            async with trio.open_nursery() as dials:
                dials.start_soon(dial, "silent", silent)
                dials.start_soon(dial, "good", b.listen_addrs()[0])
        nursery.cancel_scope.cancel()
    assert 1.9 <= results["silent failed"] < 4.0
    assert results["good"] < 1.0


async def test_refused_dial_fails_fast() -> None:
    async with open_libp2p_transport(os.urandom(32), LOOPBACK) as a:
        probe = trio.socket.socket()
        await probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        with trio.fail_after(5), pytest.raises(DialFailed):
            await a.dial(f"/ip4/127.0.0.1/tcp/{port}/p2p/{peer_id(os.urandom(32))}")


def test_addresses_need_a_peer_id() -> None:
    key = os.urandom(32)
    assert split_address(f"/ip4/1.2.3.4/tcp/5/p2p/{peer_id(key)}") == ("/ip4/1.2.3.4/tcp/5", key)
    for bad in ["", "1.2.3.4:5", "/ip4/1.2.3.4/tcp/5", "/ip4/1.2.3.4/tcp/5/p2p/QmNotEd25519"]:
        with pytest.raises(BadAddress):
            split_address(bad)


async def test_read_timeout_is_enforced() -> None:
    async def silent(peer: bytes, stream: ByteStream) -> None:
        await trio.sleep(5)

    async with (
        open_libp2p_transport(os.urandom(32), LOOPBACK) as a,
        open_libp2p_transport(os.urandom(32), LOOPBACK, read_timeout=0.3) as b,
    ):
        a.set_stream_handler("/samoorg/test-silent/1", silent)
        with trio.fail_after(10):
            await b.dial(a.listen_addrs()[0])
            stream = await b.open_stream(a.local_peer, "/samoorg/test-silent/1")
            assert isinstance(stream, Libp2pStream)
            with pytest.raises(trio.TooSlowError):
                await stream.receive_some()
            await stream.aclose()


@pytest.mark.slow
async def test_mdns_on_loopback_finds_the_other_node() -> None:
    found = trio.Event()
    async with (
        open_libp2p_transport(os.urandom(32), LOOPBACK, mdns_interface="127.0.0.1") as a,
        open_libp2p_transport(os.urandom(32), LOOPBACK, mdns_interface="127.0.0.1") as b,
    ):
        seen = []

        def on_found(peer: object) -> None:
            seen.append(peer)
            found.set()

        a.on_peer_discovered(on_found)
        with trio.fail_after(15):
            await found.wait()
        assert any(getattr(p, "peer", None) == b.local_peer for p in seen)
        addr = seen[0].addrs[0]  # type: ignore[attr-defined]
        with trio.fail_after(10):
            await a.dial_any(b.local_peer, [addr])
        assert b.local_peer in a.connected_peers()


async def test_circuit_relay_v2_carries_a_stream_between_two_peers() -> None:
    async with (
        open_libp2p_transport(os.urandom(32), LOOPBACK, relay_service=True) as relay,
        open_libp2p_transport(os.urandom(32), LOOPBACK) as hidden,
        open_libp2p_transport(os.urandom(32), LOOPBACK) as dialer,
    ):
        hidden.set_stream_handler("/samoorg/test-echo/1", _echo)
        with trio.fail_after(20):
            circuit = await hidden.reserve(relay.listen_addrs()[0])
            assert "/p2p-circuit/p2p/" in circuit
            assert circuit in hidden.listen_addrs()
            # Only the relay address is given: the connection must go through it.
            await dialer.dial(circuit)
            stream = await dialer.open_stream(hidden.local_peer, "/samoorg/test-echo/1")
            await stream.send_all(b"through the relay")
            got = b""
            while len(got) < len(b"through the relay"):
                got += await stream.receive_some()
            assert got == b"through the relay"
            await stream.aclose()
        assert hidden.local_peer in dialer.connected_peers()


async def test_a_peer_without_relay_service_refuses_reservations() -> None:
    async with (
        open_libp2p_transport(os.urandom(32), LOOPBACK) as plain,
        open_libp2p_transport(os.urandom(32), LOOPBACK) as hidden,
    ):
        with trio.fail_after(20), pytest.raises(TransportError, match="refused"):
            await hidden.reserve(plain.listen_addrs()[0])
