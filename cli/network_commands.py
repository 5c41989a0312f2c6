"""Network commands: node run, status, peers, peer add/remove, sync, follow, unfollow.

Only ``node run`` and ``sync`` touch libp2p, and they import it inside the
command. ``status`` and ``peers`` read the daemon's published state and the
peer book, so they stay as fast as any local command.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from samoorg.cli.context import session
from samoorg.cli.output import count, format_time, instant, print_json, print_table
from samoorg.node.errors import NodeError
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.cli.daemon_client import DaemonClient
    from samoorg.node.peerbook import PeerBook, PeerRecord

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
HopsOption = Annotated[
    int, typer.Option("--hops", min=0, help="Replicate trust-list members up to N hops away.")
]

node_app = typer.Typer(help="Run the peer-to-peer node.", no_args_is_help=True)
peer_app = typer.Typer(help="Manage the peer book.", no_args_is_help=True)


def _peer_book(ctx: typer.Context) -> PeerBook:
    from samoorg.node.peerbook import PeerBook

    home = session(ctx).home
    home.require_initialised()
    return PeerBook.open(home)


@node_app.command("run")
def node_run(
    ctx: typer.Context,
    listen: Annotated[
        list[str] | None,
        typer.Option(
            "--listen",
            help="TCP multiaddr to listen on (repeatable) [default: /ip4/0.0.0.0/tcp/4001].",
        ),
    ] = None,
    bootstrap: Annotated[
        list[str] | None,
        typer.Option("--bootstrap", help="Peer to connect to, /ip4/.../tcp/N/p2p/ID (repeatable)."),
    ] = None,
    no_mdns: Annotated[
        bool, typer.Option("--no-mdns", help="Do not discover peers on the LAN.")
    ] = False,
    mdns_interface: Annotated[
        str | None,
        typer.Option("--mdns-interface", help="IPv4 address of the interface for mDNS."),
    ] = None,
    hops: HopsOption = 3,
    relay: Annotated[
        list[str] | None,
        typer.Option(
            "--relay",
            help="Relay to be reachable through when not directly dialable (repeatable).",
        ),
    ] = None,
    relay_service: Annotated[
        bool,
        typer.Option("--relay-service", help="Relay for peers behind NAT (public nodes)."),
    ] = False,
    api_listen: Annotated[
        str,
        typer.Option("--api-listen", help="HOST:PORT of the local HTTP API (port 0: any free)."),
    ] = "127.0.0.1:0",
    api_allow_remote: Annotated[
        bool,
        typer.Option("--api-allow-remote", help="Allow a non-loopback --api-listen address."),
    ] = False,
    api_rate: Annotated[
        float,
        typer.Option("--api-rate", min=0.01, help="API requests per second per client."),
    ] = 50.0,
    api_loading_wait: Annotated[
        float,
        typer.Option(
            "--api-loading-wait",
            min=0.0,
            help="Seconds a request waits for a view still loading before '503 loading'.",
        ),
    ] = 2.0,
    no_api: Annotated[bool, typer.Option("--no-api", help="Do not serve the HTTP API.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Run the node until SIGINT/SIGTERM: connect, replicate, gossip, discover, serve the API."""
    from samoorg.node.api.server import ApiListenError, ApiSettings, parse_listen
    from samoorg.node.daemon_run import DEFAULT_LISTEN, DaemonOptions, run_daemon
    from samoorg.node.transport import split_address

    try:
        parse_listen(api_listen, allow_remote=api_allow_remote)
    except ApiListenError as exc:
        raise typer.BadParameter(str(exc), param_hint="--api-listen") from None

    for address in [*(bootstrap or []), *(relay or [])]:
        split_address(address)  # a bad address is a usage error before anything starts
    state = session(ctx)
    options = DaemonOptions(
        listen=tuple(listen or [DEFAULT_LISTEN]),
        bootstrap=tuple(bootstrap or []),
        mdns=not no_mdns,
        mdns_interface=mdns_interface,
        hops=hops,
        verbose=verbose,
        relays=tuple(relay or []),
        relay_service=relay_service,
        api=None
        if no_api
        else ApiSettings(
            listen=api_listen,
            allow_remote=api_allow_remote,
            rate=api_rate,
            loading_wait=api_loading_wait,
        ),
    )
    signer = state.signer()
    state.close()
    code = run_daemon(state.home, signer, options)
    raise typer.Exit(code)


@node_app.command("stop")
def node_stop(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for the daemon to exit.")
    ] = 15.0,
) -> None:
    """Stop the daemon of this home (as Ctrl-C would) and wait until it has exited."""
    from samoorg.node.daemon_state import stop_daemon

    home = session(ctx).home
    pid = stop_daemon(home, timeout)
    typer.echo(f"stopped the daemon (pid {pid}) of {home.path}")


def _ago(ms: int | None) -> str:
    if ms is None:
        return "never"
    seconds = max(0, int(time.time() - ms / 1000))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return format_time(ms)


def status(
    ctx: typer.Context,
    digests: Annotated[
        bool,
        typer.Option("--digests", help="Also compute the view digests (equal on converged nodes)."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show the identity, the store, and the daemon with its addresses and peers."""
    from samoorg.cli.output import jsonable

    state = session(ctx)

    def local() -> dict[str, Any]:
        from samoorg.node.api.shapes import status_json
        from samoorg.node.daemon_state import read_state

        views = state.live().views.digests() if digests else None
        ident = peer_id(state.public_key())
        daemon = read_state(state.home)
        return dict(
            jsonable(status_json(ident, str(state.home.path), state.store().stats(), daemon, views))
        )

    # The daemon counts the store once per change and holds the views' digests.
    answer = state.ask(lambda daemon: daemon.get("/status", {"digests": digests}), local)
    if as_json:
        print_json(answer)
        return
    _print_status(answer)


def _print_status(answer: dict[str, Any]) -> None:
    from samoorg.node.api.times import parse_rfc3339

    stored = answer["store"]
    typer.echo(f"id:      {answer['id']}")
    typer.echo(f"home:    {answer['home']}")
    typer.echo(
        f"store:   {count(stored['entries'], 'entry', 'entries')} in "
        f"{count(stored['feeds'], 'feed')}, {count(stored['fork_proofs'], 'fork proof')}"
    )
    for name, value in (answer.get("digests") or {}).items():
        typer.echo(f"digest:  {name} {value[:16]}")
    daemon = answer["daemon"]
    if daemon is None:
        typer.echo("daemon:  not running (start it with 'samoorg node run')")
        return
    started = daemon.get("started")
    up = int(time.time() - (parse_rfc3339(started) if started else 0) / 1000)
    typer.echo(f"daemon:  running, pid {daemon.get('pid')}, up {up // 60}m {up % 60:02d}s")
    for addr in daemon.get("addrs", []):
        typer.echo(f"listen:  {addr}")
    peers = daemon.get("peers", [])
    connected = [p for p in peers if p.get("connected")]
    typer.echo(
        f"peers:   {len(connected)} connected, {sum(1 for p in peers if p.get('session'))} syncing"
    )
    for peer in connected:
        typer.echo(f"         {peer['id']}  {peer.get('session') or 'idle'}")
    typer.echo(
        f"scope:   {count(int(daemon.get('scope') or 0), 'feed')} (hops {daemon.get('hops')})"
    )
    views = daemon.get("views")
    if isinstance(views, dict):  # from the API only (daemon.json does not hold it)
        loading = [f"{v['domain']} ({v['seconds']:g} s)" for v in views.get("loading", [])]
        typer.echo(
            f"views:   loaded {', '.join(views.get('loaded', [])) or 'none yet'}"
            + (f"; loading {', '.join(loading)}" if loading else "")
        )


def _peer_rows(records: list[PeerRecord], live: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in records:
        ident = peer_id(record.peer)
        seen.add(ident)
        now = live.get(ident, {})
        rows.append(
            {
                "id": ident,
                "source": record.source,
                "addrs": list(record.addrs),
                "connected": bool(now.get("connected")),
                "session": now.get("session"),
                "last_sync": instant(now.get("last_sync") or record.last_sync),
                "last_seen": instant(record.last_seen),
                # The peer book holds finished sessions; the daemon the running one.
                "received": record.received + now.get("received", 0),
                "sent": record.sent + now.get("sent", 0),
                "rejected": record.rejected + now.get("rejected", 0),
                "failures": record.failures,
                "last_error": now.get("last_error") or record.last_error,
            }
        )
    for ident, now in live.items():
        if ident not in seen:
            rows.append(
                {
                    "id": ident,
                    "source": "connected",
                    "addrs": [],
                    **now,
                    "last_sync": instant(now.get("last_sync")),
                }
            )
    return rows


def peers(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List connected and known peers, with last sync and entries exchanged."""
    from samoorg.node.daemon_state import read_state

    with _peer_book(ctx) as book:
        records = book.all()
    daemon = read_state(session(ctx).home)
    live = {p["id"]: p for p in (daemon or {}).get("peers", [])}
    rows = _peer_rows(records, live)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no known peers (add one with 'samoorg peer add MULTIADDR')")
        return
    names = session(ctx).names()
    table = [
        (
            names.label_text(row["id"]),
            row.get("source"),
            ("yes" if row.get("connected") else "no") if daemon else "-",
            row.get("session") or "",
            _ago(row.get("last_sync")),
            row.get("received", 0),
            row.get("sent", 0),
            row.get("rejected", 0),
            row.get("last_error") or ", ".join(row.get("addrs", [])),
        )
        for row in rows
    ]
    print_table(
        None,
        ["peer", "source", "conn", "session", "last sync", "recv", "sent", "rej", "addrs / error"],
        table,
    )


def peer_add(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Multiaddr ending in /p2p/<peer id>.")],
    as_json: JsonFlag = False,
) -> None:
    """Remember a peer; a running daemon dials it at once."""
    from samoorg.node.actions.peers import peer_add as add
    from samoorg.node.actions.table import action
    from samoorg.node.transport import split_address

    split_address(address)  # a malformed address is bad usage, sent nowhere
    state = session(ctx)
    body = {"address": address}
    done = state.ask(
        lambda daemon: daemon.act(action("peer.add"), body),
        # No views needed: the offline path stays as fast as before.
        lambda: add(state.home, state.public_key(), address=address),
    )
    if as_json:
        print_json(done.shape)
        return
    typer.echo(f"added {done.shape['id']} at {', '.join(done.shape['addrs'])}")


def peer_remove(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(help="Peer id (12D3KooW...).")],
    as_json: JsonFlag = False,
) -> None:
    """Forget a peer (its feed stays in the store)."""
    from samoorg.cli.community import act

    done = act(session(ctx), "peer.remove", {"id": ident})
    if as_json:
        print_json(done.shape)
        return
    typer.echo(f"removed {done.shape['removed']}")


def sync(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Multiaddr ending in /p2p/<peer id>.")],
    hops: HopsOption = 3,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Give up after this many seconds.")
    ] = 120.0,
    as_json: JsonFlag = False,
) -> None:
    """Sync once with one peer; report entries received, sent, rejected.

    While this home's daemon runs, the daemon runs the session on its own host.
    """
    from samoorg.node.transport import split_address

    split_address(address)
    state = session(ctx)

    def through(daemon: DaemonClient) -> tuple[dict[str, Any], int | None, int | None]:
        import json

        from samoorg.node.api.ingest_shapes import OWN_CUT_BEFORE_HEADER, OWN_CUT_HEADER

        body = {"address": address, "hops": hops, "timeout": timeout}
        # The daemon answers when the session ends (within --timeout): wait a little longer.
        answer, headers = daemon.post_answer("/sync", body, timeout=timeout + 10)
        cuts = [json.loads(headers.get(h, "null")) for h in (OWN_CUT_BEFORE_HEADER, OWN_CUT_HEADER)]
        return answer, cuts[0], cuts[1]

    answer, before, after = state.ask(
        through, lambda: _sync_offline(ctx, address, hops=hops, timeout=timeout)
    )
    if as_json:
        print_json(answer)
    else:
        typer.echo(
            f"synced with {answer['peer']} in {answer['seconds']:.2f} s: "
            f"received {answer['received']}, sent {answer['sent']}, "
            f"rejected {answer['rejected']}"
        )
        for rejection in answer["rejections"][:20]:
            typer.echo(f"  rejected {rejection}", err=True)
    if answer["outcome"] == "failed":
        from samoorg.node.replication import report_summary

        raise NodeError(f"sync with {address} failed: {report_summary(answer)}")
    state.end_if_cut_lowered(before, after)
    if answer["rejected"]:
        raise typer.Exit(1)


def _sync_offline(
    ctx: typer.Context, address: str, *, hops: int, timeout: float
) -> tuple[dict[str, Any], int | None, int | None]:
    """One session on a short-lived host of our own: the report's JSON, own cut before, after."""
    import signal

    import trio

    from samoorg.cli.progress import Progress
    from samoorg.node.daemon_state import daemon_running
    from samoorg.node.logs import configure_logging
    from samoorg.node.oneshot import OneShotReport, sync_once
    from samoorg.node.replication import SyncReport

    state = session(ctx)
    if daemon_running(state.home):  # --offline, or a daemon without its API
        raise NodeError(
            "a daemon is running for this home and owns its libp2p identity; without its "
            "API (--offline, --no-api) use 'samoorg peer add MULTIADDR' to point it at a peer"
        )
    signer = state.signer()
    store = state.store()
    before = state.own_cut()
    import samoorg.node.libp2p_transport  # noqa: F401 - libp2p resets its loggers on import

    configure_logging()
    moving = SyncReport()
    with _peer_book(ctx) as book, Progress("syncing", unit="entries received") as bar:
        failed: list[Exception] = []

        async def one_sync() -> OneShotReport | None:
            done = None
            # Ctrl-C cancels the session: the store keeps every batch it committed.
            with trio.open_signal_receiver(signal.SIGINT) as signals:
                async with trio.open_nursery() as nursery:

                    async def stop_on_signal() -> None:
                        async for _ in signals:
                            nursery.cancel_scope.cancel()

                    async def show() -> None:
                        while True:
                            bar.update(moving.received, f"sent {moving.sent}")
                            await trio.sleep(0.2)

                    nursery.start_soon(stop_on_signal)
                    nursery.start_soon(show)
                    try:
                        done = await sync_once(
                            signer, store, book, address, hops=hops, timeout=timeout, report=moving
                        )
                    except Exception as exc:  # noqa: BLE001 (re-raised below, outside the nursery)
                        failed.append(exc)
                    nursery.cancel_scope.cancel()
            if failed:  # raised here, it stays one error, not an exception group
                raise failed[0]
            return done

        report = trio.run(one_sync)
    if report is None:
        typer.echo(
            f"interrupted: received {moving.received}, sent {moving.sent}, "
            f"rejected {moving.rejected}; what was received is stored",
            err=True,
        )
        raise typer.Exit(130)
    answer = {**report.report.to_json(), "seconds": round(report.seconds, 3)}
    return answer, before, state.own_cut()


def follow(
    ctx: typer.Context,
    idents: Annotated[
        list[str] | None, typer.Argument(help="Peer ids whose feeds to replicate.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replicate these feeds too (without arguments: list followed feeds)."""
    state = session(ctx)
    if idents:
        from samoorg.cli.community import act

        done = act(state, "follow", {"ids": list(idents)})
        if as_json:
            print_json(done.shape)
            return
        typer.echo(f"following {count(len(idents), 'feed')} ({done.shape['new']} new)")
        return
    # A read of the peer book, beside the daemon's (SQLite WAL: readers never block).
    with _peer_book(ctx) as book:
        followed = sorted(book.follows())
    if as_json:
        print_json([peer_id(k) for k in followed])
    else:
        for key in followed:
            typer.echo(peer_id(key))


def unfollow(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(help="Peer id to stop following.")],
    as_json: JsonFlag = False,
) -> None:
    """Stop replicating a followed feed (entries already stored stay)."""
    from samoorg.cli.community import act

    done = act(session(ctx), "unfollow", {"id": ident})
    if as_json:
        print_json(done.shape)
        return
    typer.echo(f"unfollowed {done.shape['unfollowed']}")


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(node_app, name="node")
    peer_app.command("add")(peer_add)
    peer_app.command("remove")(peer_remove)
    app.add_typer(peer_app, name="peer")
    app.command()(status)
    app.command()(peers)
    app.command()(sync)
    app.command()(follow)
    app.command()(unfollow)
