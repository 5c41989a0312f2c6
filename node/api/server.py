"""Serve the API inside the daemon's trio loop: Hypercorn's trio worker, one socket.

:func:`start_api` is called by ``samoorg node run`` once the node runs. It
loads the :class:`~samoorg.node.daemon_views.LiveViews`, makes sure the
token file exists, starts following the store and serving with
``hypercorn.trio.serve`` in the daemon's nursery, and returns the
:class:`ApiHandle` whose URL the daemon publishes in ``daemon.json``
(``api: {url, token_file}``) for clients to find. Port 0 picks a free port.
Cancelling the nursery (SIGTERM) stops the server; :meth:`ApiHandle.close`
asks Hypercorn for a graceful shutdown instead.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import trio

from samoorg.node.api.events import ActionWatcher, EventHub
from samoorg.node.api.ratelimit import RateLimiter
from samoorg.node.api.security import MAX_BODY, HostPolicy, split_host
from samoorg.node.api.token import ensure_token, token_file
from samoorg.node.daemon_views import LiveViews
from samoorg.node.errors import NodeError

if TYPE_CHECKING:
    from samoorg.node.api.routes import ApiContext, SyncOnce
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.home import Home
    from samoorg.node.store import Store
    from samoorg.node.store_watch import StoreWatcher
    from samoorg.node.web.guard import WebGuard
    from samoorg.protocol.crypto import Signer

log = logging.getLogger("samoorg.api")

DEFAULT_API_LISTEN: Final = "127.0.0.1:0"
DEFAULT_RATE: Final = 50.0
"""Requests per second per client; the bucket holds twice as many (at least 1)."""


LOADING_WAIT: Final = 2.0
"""How long a request waits for a domain still loading from the checkpoint."""


class ApiListenError(NodeError):
    """``--api-listen`` is not HOST:PORT, or names a non-loopback host without the flag."""


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """The API options of ``samoorg node run``."""

    listen: str = DEFAULT_API_LISTEN
    allow_remote: bool = False
    rate: float = DEFAULT_RATE
    max_body: int = MAX_BODY
    loading_wait: float = LOADING_WAIT
    """Seconds a request waits for the views it reads to load before ``503 loading``."""


def parse_listen(text: str, *, allow_remote: bool) -> tuple[str, int, bool]:
    """``HOST:PORT`` -> ``(host, port, is_loopback)``; refuse a remote host without the flag."""
    split = split_host(text)
    if split is None or split[1] is None or split[1] > 65535:
        raise ApiListenError(
            f"expected --api-listen HOST:PORT (e.g. 127.0.0.1:8080), found {text!r}"
        )
    host, port = split[0], split[1]
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ApiListenError(
            f"expected --api-listen with an IP address (e.g. 127.0.0.1:8080), found {text!r}"
        ) from None
    loopback = address.is_loopback
    if not loopback and not allow_remote:
        raise ApiListenError(
            f"--api-listen {text} is not a loopback address: anyone who can reach it and has "
            "the token can act as you; add --api-allow-remote to mean it"
        )
    return host, port, loopback


@dataclass(slots=True)
class ApiHandle:
    """A running API: its URL and token file, and a way to stop it gracefully."""

    url: str
    token_file: Path
    live: LiveViews
    hub: EventHub
    remote: bool
    """Listening beyond loopback (``--api-allow-remote``)."""
    _stop: trio.Event = field(default_factory=trio.Event)

    def published(self) -> dict[str, str]:
        """What ``daemon.json`` says of the API (``status --json`` shows it)."""
        return {"url": self.url, "token_file": str(self.token_file)}

    def close(self) -> None:
        """Stop serving (open event streams are given a second to end)."""
        self._stop.set()


async def start_api(
    nursery: trio.Nursery,
    settings: ApiSettings,
    *,
    home: Home,
    store: Store,
    signer: Signer,
    watcher: StoreWatcher,
    node_state: Callable[[], dict[str, Any]],
    views: StoreViews | None = None,
    peers_changed: Callable[[], None] = lambda: None,
    sync: SyncOnce | None = None,
) -> ApiHandle:
    """Serve the API in ``nursery`` over ``views`` (the daemon's; loaded if ``None``)."""
    from hypercorn.config import Config
    from hypercorn.trio import serve

    from samoorg.node.api.app import build_app
    from samoorg.node.api.routes import ApiContext
    from samoorg.node.web.guard import Front

    host, port, loopback = parse_listen(settings.listen, allow_remote=settings.allow_remote)
    token = ensure_token(home)
    live = LiveViews(store, views)
    live.load_in(nursery)  # a load outlives the request that started it
    hub = EventHub()
    live.listen(hub.publish)
    actions = ActionWatcher(live, signer.public_key, hub)
    hub.before_actions = actions.prime
    live.listen(actions.on_entries)
    nursery.start_soon(actions.run)
    nursery.start_soon(live.follow, watcher)
    handle = ApiHandle("", token_file(home), live, hub, remote=not loopback)
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = log
    config.graceful_timeout = 1.0
    config.include_server_header = False
    config.h11_max_incomplete_size = 16 * 1024
    config.keep_alive_timeout = 30.0

    def published_state() -> dict[str, Any]:
        return {**node_state(), "api": handle.published()}

    ctx = ApiContext(
        home=home,
        store=store,
        signer=signer,
        live=live,
        hub=hub,
        node_state=published_state,
        stored=watcher.notify,
        peers_changed=peers_changed,
        sync=sync,
    )
    limiter = RateLimiter(settings.rate, max(1.0, 2 * settings.rate), trio.current_time)
    # With port 0 the port is known only once bound; until then no Host matches.
    hosts = HostPolicy(host, port)
    api = build_app(
        ctx,
        token=token,
        hosts=hosts,
        limiter=limiter,
        max_body=settings.max_body,
        loading_wait=settings.loading_wait,
    )
    app = Front(api, web_guard(ctx, hosts, settings))
    binds: list[str] = await nursery.start(
        partial(serve, app, config, shutdown_trigger=handle._stop.wait)  # type: ignore[arg-type]
    )
    url = binds[0]
    bound_port = int(url.rsplit(":", 1)[1])
    app.hosts = HostPolicy(host, bound_port)
    handle.url = url
    return handle


def web_guard(ctx: ApiContext, hosts: HostPolicy, settings: ApiSettings) -> WebGuard:
    """The web organizer behind its guard (its own rate bucket, the API's limits)."""
    from samoorg.node.web.guard import WebGuard
    from samoorg.node.web.site import build_web

    limiter = RateLimiter(settings.rate, max(1.0, 2 * settings.rate), trio.current_time)
    return WebGuard(
        build_web(ctx, ctx.sessions),
        sessions=ctx.sessions,
        hosts=hosts,
        limiter=limiter,
        max_body=settings.max_body,
    )
