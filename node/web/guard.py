"""The web organizer's gate, and the front door that splits the API from the pages.

:class:`Front` is the daemon's whole ASGI application: paths under ``/api/``
go to the API (its bearer-token :class:`~samoorg.node.api.security.Guard`),
everything else to the web organizer behind :class:`WebGuard`. Both check
``Host`` (DNS rebinding), ``Origin`` (a page of another site) and the rate
per client with the same code. Then :class:`WebGuard` refuses

* ``forbidden_origin`` for a ``POST`` without an ``Origin`` header: browsers
  name the page that sends a form, so a form that does not say where it comes
  from is not ours (the form's CSRF token is checked as well, in
  :mod:`samoorg.node.web.forms`);
* ``unauthorized`` for a request without the session cookie of a live
  session (:mod:`samoorg.node.web.sessions`), except ``GET /login``, which
  spends a one-time link and opens one.

Refusals are small HTML pages in the browser's language. The session found
is put in the request's state (``request.state.session``).
"""

from __future__ import annotations

from typing import Final

from samoorg.node.api.ratelimit import RateLimiter
from samoorg.node.api.security import (
    MAX_BODY,
    App,
    Guard,
    HostPolicy,
    Receive,
    Refusal,
    Scope,
    Send,
)
from samoorg.node.web.sessions import Session, WebSessions, cookie_name

API_PATHS: Final = "/api/"
OPEN_PATHS: Final = frozenset({"/login"})
"""Paths served without a session (the one-time login link)."""


def cookies(header: str) -> dict[str, str]:
    """``a=1; b=2`` -> ``{"a": "1", "b": "2"}`` (the first of a repeated name wins)."""
    found: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in found:
            found[name] = value.strip().strip('"')
    return found


class WebGuard(Guard):
    """Host, Origin and rate as the API's guard; then a session cookie instead of a token."""

    def __init__(
        self,
        app: App,
        *,
        sessions: WebSessions,
        hosts: HostPolicy,
        limiter: RateLimiter,
        max_body: int = MAX_BODY,
    ) -> None:
        super().__init__(app, token="", hosts=hosts, limiter=limiter, max_body=max_body)
        self.sessions = sessions

    def credential_refusal(self, scope: Scope, headers: dict[str, str]) -> Refusal | None:
        """A POST must name its origin; every path but ``/login`` needs a live session."""
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD") and "origin" not in headers:
            return "forbidden_origin", "expected a form sent by a page of this node", {}
        state = scope.setdefault("state", {})
        session = self.session_of(headers)
        state["session"] = session
        if session is None and scope.get("path") not in OPEN_PATHS:
            return (
                "unauthorized",
                "expected the session of a link printed by 'samoorg web', found none",
                {},
            )
        return None

    def session_of(self, headers: dict[str, str]) -> Session | None:
        """The live session named by the request's cookie, if any."""
        sid = cookies(headers.get("cookie", "")).get(cookie_name(self.hosts.port), "")
        return self.sessions.find(sid)

    async def send_refusal(self, headers: dict[str, str], send: Send, refusal: Refusal) -> None:
        """A small page in the browser's language that says what was refused and why."""
        from samoorg.node.api.errors import HTTP_ERRORS
        from samoorg.node.web.render import refusal_page

        name, message, extra = refusal
        lang_cookie = cookies(headers.get("cookie", ""))
        body = refusal_page(name, message, lang_cookie, headers.get("accept-language"))
        raw = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *((k.encode(), v.encode()) for k, v in extra.items()),
        ]
        await send({"type": "http.response.start", "status": HTTP_ERRORS[name], "headers": raw})
        await send({"type": "http.response.body", "body": body})


class Front:
    """``/api/...`` to the API, the rest to the web organizer; one ``hosts`` for both."""

    def __init__(self, api: Guard, web: WebGuard) -> None:
        self.api = api
        self.web = web

    @property
    def hosts(self) -> HostPolicy:
        """The Host policy of both guards."""
        return self.api.hosts

    @hosts.setter
    def hosts(self, policy: HostPolicy) -> None:
        self.api.hosts = policy
        self.web.hosts = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch by path; lifespan and anything else go to the API."""
        path = scope.get("path", "")
        if scope["type"] == "http" and not path.startswith(API_PATHS):
            await self.web(scope, receive, send)
            return
        await self.api(scope, receive, send)
