"""The API's gate: Host, Origin, rate, bearer token and body size, before any route.

:class:`Guard` is plain ASGI middleware around the whole application. In
order, a request is refused with

* ``forbidden_host`` (403) unless its ``Host`` header names this API
  (:class:`HostPolicy`): a web page that rebinds its own domain name to
  127.0.0.1 (DNS rebinding) sends its domain in ``Host``, never ours;
* ``forbidden_origin`` (403) if it has an ``Origin`` header that is not
  ``http://`` plus an accepted host: a browser names the page's origin on
  every cross-site request (CSRF);
* ``rate_limited`` (429, with ``Retry-After``) when its client address has no
  token left in its bucket (:mod:`samoorg.node.api.ratelimit`);
* ``unauthorized`` (401, with ``WWW-Authenticate: Bearer``) without
  ``Authorization: Bearer <token of api.token>`` (:mod:`samoorg.node.api.token`);
* ``payload_too_large`` (413) if its body exceeds ``max_body`` bytes, by its
  ``Content-Length`` or as it arrives. The body is read here, bounded, and
  handed on whole, so no route ever sees more.

Answers are the JSON errors of :mod:`samoorg.node.api.errors`.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

from samoorg.node.api.errors import HTTP_ERRORS, error_body
from samoorg.node.api.ratelimit import RateLimiter
from samoorg.node.api.token import token_matches

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Refusal = tuple[str, str, dict[str, str]]
"""An error name of :data:`HTTP_ERRORS`, its one-line message and extra headers."""

MAX_BODY: Final = 64 * 1024
LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})


def split_host(value: str) -> tuple[str, int | None] | None:
    """``"127.0.0.1:8080"`` -> ``("127.0.0.1", 8080)``; ``"[::1]:80"`` -> ``("::1", 80)``."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
    else:
        host, _, port_text = value.partition(":")
        rest = f":{port_text}" if port_text else ""
    if not rest:
        return host, None
    if not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6:
        return None
    return host, int(rest[1:])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Which ``Host`` values name this API: our port, and a loopback name or our address.

    Bound to a wildcard address (``0.0.0.0``, ``::``, only with
    ``--api-allow-remote``), any IP literal is accepted too: DNS rebinding
    needs a domain name, and an IP literal is no one's domain.
    """

    bound: str
    port: int

    def accepts(self, value: str) -> bool:
        """Whether ``value`` (a Host header, or an Origin's host part) is ours."""
        split = split_host(value)
        if split is None:
            return False
        host, port = split
        if (port if port is not None else 80) != self.port:
            return False
        if host in LOOPBACK_NAMES or host == self.bound.lower():
            return True
        wildcard = self.bound in {"0.0.0.0", "::"}  # noqa: S104 - comparing, not binding
        return wildcard and _is_ip(host)

    def accepts_origin(self, origin: str) -> bool:
        """Whether an ``Origin`` header is a page served by this API itself."""
        scheme, sep, rest = origin.partition("://")
        return bool(sep) and scheme.lower() == "http" and "/" not in rest and self.accepts(rest)


async def send_error(send: Send, name: str, message: str, headers: dict[str, str]) -> None:
    """Answer with the JSON error ``name`` (its status from :data:`HTTP_ERRORS`)."""
    body = json.dumps(error_body(name, message)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": HTTP_ERRORS[name], "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: refuse what the module docstring lists, pass the rest on."""

    def __init__(
        self,
        app: App,
        *,
        token: str,
        hosts: HostPolicy,
        limiter: RateLimiter,
        max_body: int = MAX_BODY,
    ) -> None:
        self.app = app
        self.token = token
        self.hosts = hosts
        self.limiter = limiter
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check an HTTP request; anything else (lifespan) passes unchanged."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            name = key.decode("latin-1").lower()
            if name in headers:  # a repeated Host, Origin or Authorization is refused below
                headers[name] = "\0"
            else:
                headers[name] = value.decode("latin-1")
        refusal = self.origin_refusal(scope, headers) or self.credential_refusal(scope, headers)
        if refusal is not None:
            await self.send_refusal(headers, send, refusal)
            return
        body = await self._read_body(headers, receive)
        if body is None:
            message = f"expected a body of at most {self.max_body} bytes"
            await self.send_refusal(headers, send, ("payload_too_large", message, {}))
            return
        await self.app(scope, _replay(body, receive), send)

    async def send_refusal(self, headers: dict[str, str], send: Send, refusal: Refusal) -> None:
        """Answer a refused request (the API's JSON error; the web guard sends a page)."""
        await send_error(send, *refusal)

    def credential_refusal(self, scope: Scope, headers: dict[str, str]) -> Refusal | None:
        """The bearer token's check (the web organizer's guard checks a session instead)."""
        auth = headers.get("authorization", "")
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not token_matches(self.token, given.strip()):
            found = "none" if not auth else "another token"
            return (
                "unauthorized",
                f"expected Authorization: Bearer <the token in api.token>, found {found}",
                {"www-authenticate": "Bearer"},
            )
        return None

    def origin_refusal(self, scope: Scope, headers: dict[str, str]) -> Refusal | None:
        """The checks of Host, Origin and rate, shared with the web organizer's guard."""
        host = headers.get("host")
        if host is None or not self.hosts.accepts(host):
            return "forbidden_host", f"expected Host to name this API, found {host!r}", {}
        origin = headers.get("origin")
        if origin is not None and not self.hosts.accepts_origin(origin):
            return "forbidden_origin", f"expected no Origin or this API's, found {origin!r}", {}
        client = scope.get("client")
        address = str(client[0]) if client else "?"
        if not self.limiter.allow(address):
            wait = self.limiter.retry_after(address)
            return (
                "rate_limited",
                f"expected at most {self.limiter.rate:g} requests per second, found more",
                {"retry-after": str(wait)},
            )
        return None

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes | None:
        """The whole body, or ``None`` if it is larger than ``max_body``."""
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return None
        if declared is None and "transfer-encoding" not in headers:
            return b""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the read body once, then waits on the real one (disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
