"""``samoorg node run``: the daemon process around :class:`~samoorg.node.daemon.Node`.

Order of start-up: take the home's lock (one daemon per home), open the store
and the peer book, start the libp2p host, open the views (the checkpoint's
header only: domains load when first asked for), serve the local API (its URL
in ``daemon.json``, so local commands use it from then on), check the store's
consistency (the file's structure, and the rows stored since the last clean
check, a full read the first time; a damaged store stops the daemon with
exit code 1 before ``ready``: in a worker thread while serving when a
checkpoint is used, before anything else when the views are rebuilt from the
rows anyway), start the node (sync
with peers, gossip), print our addresses on stdout (``listening on
<multiaddr>`` lines, then ``ready``), and serve until SIGINT or SIGTERM.
Shutdown cancels every session and loop, closes the host (and so
every connection), removes ``daemon.json`` and releases the lock; the exit
code is 0.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TextIO

import trio

from samoorg.node.api.server import ApiSettings
from samoorg.node.daemon import Node, NodeConfig
from samoorg.node.daemon_state import DaemonLock, write_state
from samoorg.node.daemon_views import run_in_thread
from samoorg.node.errors import StoreError
from samoorg.node.home import Home
from samoorg.node.logs import configure_logging
from samoorg.node.own_head import OwnHeadRecord
from samoorg.node.peerbook import PeerBook
from samoorg.node.store import RECOVERY, Store
from samoorg.protocol.crypto import Signer
from samoorg.protocol.ids import peer_id

log = logging.getLogger("samoorg.node")

DEFAULT_LISTEN = "/ip4/0.0.0.0/tcp/4001"


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    """Command-line options of ``samoorg node run``."""

    listen: Sequence[str] = (DEFAULT_LISTEN,)
    bootstrap: Sequence[str] = ()
    mdns: bool = True
    mdns_interface: str | None = None
    hops: int = 3
    verbose: bool = False
    relays: Sequence[str] = ()
    relay_service: bool = False
    api: ApiSettings | None = field(default_factory=ApiSettings)
    """The local HTTP API (``None``: ``--no-api``)."""


def default_mdns_interface(listen: Sequence[str]) -> str:
    """The IPv4 address to run mDNS on: loopback if we only listen there, else the LAN one."""
    hosts = []
    for addr in listen:
        parts = addr.split("/")
        if len(parts) > 2 and parts[1] == "ip4":
            hosts.append(parts[2])
    if hosts and all(ipaddress.ip_address(h).is_loopback for h in hosts):
        return "127.0.0.1"
    specific = [h for h in hosts if h != "0.0.0.0"]  # noqa: S104 - comparing, not binding
    if specific:
        return specific[0]
    try:
        # No packet is sent: connecting a UDP socket only asks the kernel for a route.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def refuse_inconsistent(store: Store) -> None:
    """Raise :class:`StoreError` if the store breaks its invariants (signatures not re-checked).

    A node must not serve a damaged store to its peers; ``samoorg verify``
    lists the problems and says how to recover. The rows a clean check of an
    earlier start read are not decoded again (the file's structure is checked
    whole): a start after a day's sync reads the day's rows, not the store;
    ``samoorg verify`` reads everything.
    """
    report = store.verify_report(signatures=False, since=store.checked_through())
    problems = report.problems
    if not problems:
        store.note_checked(report.through)
    else:
        raise StoreError(
            f"store {store.path} is NOT consistent ({len(problems)} "
            f"problem{'' if len(problems) == 1 else 's'}, the "
            f"first: {problems[0][:200]}); not starting. Run 'samoorg verify' for the list; "
            f"to recover, {RECOVERY}"
        )


def _refuse_inconsistent_file(path: Path) -> None:
    """:func:`refuse_inconsistent` over a connection of this thread (a worker thread's)."""
    with Store(path) as store:
        refuse_inconsistent(store)


def _has_checkpoint(store: Store) -> bool:
    """Whether the views checkpoint's header matches the store (its sections load later)."""
    from samoorg.node.checkpoint import checkpoint_path, read_checkpoint
    from samoorg.node.errors import CheckpointRejected

    try:
        read_checkpoint(store, checkpoint_path(store))
    except CheckpointRejected:
        return False
    return True


async def _start_api(
    nursery: trio.Nursery,
    options: DaemonOptions,
    home: Home,
    store: Store,
    signer: Signer,
    node: Node,
) -> str | None:
    """Serve the local API (node/api/server.py) and publish its URL; ``None`` if disabled."""
    if options.api is None:
        return None
    from samoorg.node.api.server import start_api

    api = await start_api(
        nursery,
        options.api,
        home=home,
        store=store,
        signer=signer,
        watcher=node.watcher,
        node_state=node.state,
        views=node.live,
        peers_changed=node.peer_book_changed,
        sync=node.sync_once,
    )
    node.publish("api", api.published())
    write_state(home, node.state())  # clients find the API as soon as "ready" is printed
    if api.remote:
        sys.stderr.write(
            f"warning: the API listens on {api.url}, reachable from other machines; "
            "anyone with the token in api.token can act as you\n"
        )
    return api.url


def run_daemon(
    home: Home, signer: Signer, options: DaemonOptions, out: TextIO | None = None
) -> int:
    """Run the daemon in this process until SIGINT/SIGTERM; return the exit code."""
    from samoorg.node.libp2p_transport import open_libp2p_transport, unwrapped_errors

    configure_logging(options.verbose)
    output = out or sys.stdout
    own_head = OwnHeadRecord(home.own_head_file, signer.public_key)
    with (
        DaemonLock(home),
        Store(home.store_file, own_head=own_head) as store,
        PeerBook.open(home) as book,
    ):
        # Without a usable checkpoint the views are rebuilt from every row: check them
        # first (as before any view existed); otherwise the check runs while serving.
        checked = not _has_checkpoint(store)
        if checked:
            refuse_inconsistent(store)

        async def serve() -> None:
            # A start-up failure (a listen address in use) is one error, not a group.
            async with unwrapped_errors():
                await serve_until_signal()

        async def serve_until_signal() -> None:
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async with trio.open_nursery() as nursery:

                    async def stop_on_signal() -> None:
                        async for signum in signals:
                            log.info("%s received, shutting down", signal.Signals(signum).name)
                            nursery.cancel_scope.cancel()
                            return

                    nursery.start_soon(stop_on_signal)
                    mdns = (
                        (options.mdns_interface or default_mdns_interface(options.listen))
                        if options.mdns
                        else None
                    )
                    async with open_libp2p_transport(
                        signer.seed,
                        options.listen,
                        mdns_interface=mdns,
                        read_timeout=None,
                        relay_service=options.relay_service,
                    ) as transport:
                        node = Node(
                            home=home,
                            store=store,
                            peer_book=book,
                            transport=transport,
                            config=NodeConfig(
                                bootstrap=options.bootstrap,
                                hops=options.hops,
                                relays=options.relays,
                                freeze=True,
                            ),
                            signer=signer,
                        )
                        node.open_views()
                        api_url = await _start_api(nursery, options, home, store, signer, node)
                        # The API serves local clients meanwhile; peers are served only
                        # once the store is found consistent (the first time a full read:
                        # 20-50 s at 1M; later the rows stored since and the file's structure).
                        if not checked:
                            await run_in_thread(partial(_refuse_inconsistent_file, home.store_file))
                        await nursery.start(node.run)
                        # The node has loaded the store into its views; that state
                        # lives as long as the process. Freezing it keeps the cyclic
                        # GC from rescanning it at every collection (crdt/framework/bulk.py).
                        gc.freeze()
                        output.write(f"node {peer_id(signer.public_key)} (home {home.path})\n")
                        for addr in transport.listen_addrs():
                            output.write(f"listening on {addr}\n")
                        if mdns:
                            output.write(f"mdns on {mdns}\n")
                        if options.relay_service:
                            output.write("relay service on\n")
                        if api_url is not None:
                            output.write(f"api on {api_url}\n")
                        output.write("ready\n")
                        output.flush()
                        await trio.sleep_forever()

        trio.run(serve)
    output.write("stopped\n")
    output.flush()
    return 0
