"""The web organizer's application: navigation, the page modules, login and the shared routes.

:data:`NAV` is the navigation of the layout, in order; each entry's page
module (``samoorg.node.web.pages.<name>``) exports ``ROUTES``, the
Starlette routes of the page and of its forms. :func:`build_web` gathers
them with the routes every page shares:

* ``GET /login?once=SECRET`` spends a one-time link (``samoorg web``),
  sets the session cookie and redirects to the home page;
* ``POST /logout`` ends the session;
* ``GET /lang?to=ru&next=/trust`` sets the language cookie;
* ``GET /events`` is the API's event stream (:class:`~samoorg.node.api.events.EventHub`)
  for the page's script (``static/live.js``), under the session cookie;
* ``/static/...`` the CSS and script shipped in the package (no CDN).

Errors of the taxonomy raised by a page (an unknown id) and Starlette's
404/405 become a page with the reason.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass
from typing import Final, TypeVar, cast
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from samoorg.node.api import routes
from samoorg.node.api.errors import TAXONOMY, ApiError, error_name, one_line
from samoorg.node.api.routes import ApiContext
from samoorg.node.web.i18n import LANG_COOKIE, LANGUAGES
from samoorg.node.web.render import page
from samoorg.node.web.sessions import SESSION_TTL, WebSessions, cookie_name

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NavEntry:
    """One entry of the navigation: its page module's name and its path."""

    name: str
    path: str

    @property
    def label(self) -> str:
        """The message key of its label."""
        return f"common.nav_{self.name}"


NAV: Final[tuple[NavEntry, ...]] = (
    NavEntry("home", "/"),
    NavEntry("trust", "/trust"),
    NavEntry("pledges", "/pledges"),
    NavEntry("requests", "/requests"),
    NavEntry("ledger", "/ledger"),
    NavEntry("forum", "/forum"),
    NavEntry("utility", "/utility"),
    NavEntry("agreements", "/agreements"),
    NavEntry("polls", "/polls"),
    NavEntry("portal", "/portal"),
    NavEntry("orgs", "/orgs"),
    NavEntry("names", "/names"),
)


def context(request: Request) -> ApiContext:
    """The daemon's views, store and signer (the API's context)."""
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)
    return ctx


def remembered(
    request: Request,
    key: Hashable,
    kinds: Collection[str] | None,
    seconds: float,
    compute: Callable[[], T],
) -> T:
    """``compute()``, remembered until an entry of ``kinds`` arrives or ``seconds`` pass.

    For what a page derives from the whole view and the time (the inbox, the
    trust graph with its open help requests): the API's memo
    (:meth:`~samoorg.node.daemon_views.LiveViews.memo`) tells when the
    entries changed, the clock when time may have changed the answer. One
    value per key is kept.
    """
    epoch = context(request).live.memo(("web.epoch", key), kinds, object)
    bucket = int(time.monotonic() // seconds)
    cache: dict[Hashable, tuple[object, int, object]] = request.app.state.remembered
    found = cache.get(key)
    if found is not None and found[0] is epoch and found[1] == bucket:
        return cast("T", found[2])
    value = compute()
    cache[key] = (epoch, bucket, value)
    return value


async def login(request: Request) -> Response:
    """``GET /login?once=SECRET``: open a session and go to the home page."""
    sessions: WebSessions = request.app.state.sessions
    session = sessions.redeem(request.query_params.get("once", ""))
    if session is None:
        raise ApiError(
            "unauthorized", "this link was used or has expired: run 'samoorg web' for a new one"
        )
    response = RedirectResponse("/", status_code=303)
    port = request.url.port or 80
    response.set_cookie(
        cookie_name(port),
        session.sid,
        max_age=int(SESSION_TTL),
        path="/",
        httponly=True,
        samesite="strict",
    )
    return response


async def logout(request: Request) -> Response:
    """``POST /logout``: end the session (its CSRF token is checked)."""
    from samoorg.node.web.forms import read_form

    await read_form(request)
    sessions: WebSessions = request.app.state.sessions
    session = request.state.session
    sessions.close(session.sid)
    response = page(request, "refused.html", {"name": "logged_out", "message": ""})
    response.delete_cookie(cookie_name(request.url.port or 80), path="/")
    return response


def _local_path(text: str) -> str:
    """``text`` if it is a path of this site (no scheme, no host), else ``/``."""
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or not text.startswith("/") or text.startswith("//"):
        return "/"
    return text


async def language(request: Request) -> Response:
    """``GET /lang?to=ru&next=/trust``: remember the language and go back."""
    lang = request.query_params.get("to", "")
    if lang not in LANGUAGES:
        raise ApiError("invalid_parameter", f"expected to= one of {', '.join(LANGUAGES)}")
    response = RedirectResponse(_local_path(request.query_params.get("next", "/")), 303)
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 86400, path="/", httponly=True, samesite="strict"
    )
    return response


async def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        name = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "internal_error")
        return page(request, "error.html", {"name": name, "message": ""}, status=exc.status_code)
    found = error_name(exc)
    if found is None:
        raise exc
    name, status = found
    values = {"name": name, "message": one_line(str(exc))}
    return page(request, "error.html", values, status=status)


def page_routes() -> list[BaseRoute]:
    """The routes of every page module of :data:`NAV`."""
    found: list[BaseRoute] = []
    for entry in NAV:
        module = importlib.import_module(f"samoorg.node.web.pages.{entry.name}")
        found += module.ROUTES
    return found


def build_web(ctx: ApiContext, sessions: WebSessions) -> Starlette:
    """The web organizer (put it behind :class:`~samoorg.node.web.guard.WebGuard`)."""
    app = Starlette(
        routes=[
            Route("/login", login),
            Route("/logout", logout, methods=["POST"]),
            Route("/lang", language),
            Route("/events", routes.events),
            Mount("/static", StaticFiles(packages=[("samoorg.node.web", "static")]), name="static"),
            *page_routes(),
        ],
        exception_handlers={
            HTTPException: _error,
            **dict.fromkeys((ApiError, *TAXONOMY), _error),
        },
    )
    app.state.ctx = ctx
    app.state.sessions = sessions
    app.state.remembered = {}
    return app
