"""The Starlette application: the routes of the OpenAPI table, JSON errors, the guard.

Routes are made from :data:`~samoorg.node.api.openapi.ENDPOINTS` and
:data:`HANDLERS` (the reads, and one handler per write action of
:data:`~samoorg.node.actions.table.ACTIONS`), so the document lists exactly
what is served. Every error
becomes ``{"error": name, "message": line}``: errors of the taxonomy
(:func:`~samoorg.node.api.errors.error_name`), Starlette's own 404 and 405,
and, for anything unexpected, ``internal_error`` (500, logged with its
traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from samoorg.crdt.framework.domain import Domain
from samoorg.node.actions.table import ACTIONS
from samoorg.node.api import node_routes, routes
from samoorg.node.api.errors import HTTP_ERRORS, TAXONOMY, ApiError, error_body, error_name
from samoorg.node.api.needs import NEEDS
from samoorg.node.api.openapi import ENDPOINTS, PREFIX
from samoorg.node.api.ratelimit import RateLimiter
from samoorg.node.api.routes import ApiContext
from samoorg.node.api.security import MAX_BODY, Guard, HostPolicy

log = logging.getLogger("samoorg.api")

Handler = Callable[[Request], Awaitable[Response]]
HANDLERS: Final[dict[tuple[str, str], Handler]] = {
    ("get", "/status"): routes.status,
    ("get", "/trust/pool"): routes.trust_pool,
    ("get", "/trust/list"): routes.trust_list,
    ("get", "/ideas"): routes.ideas,
    ("get", "/ideas/{id}"): routes.idea,
    ("get", "/pledges"): routes.pledges,
    ("get", "/ledger"): routes.ledger,
    ("get", "/inbox"): routes.inbox,
    ("get", "/log"): routes.entries_log,
    ("get", "/names"): routes.names,
    ("get", "/profiles/{id}"): routes.profile,
    ("get", "/events"): routes.events,
    ("get", "/openapi.json"): routes.openapi,
    ("get", "/devices"): routes.devices,
    ("get", "/requests"): routes.requests,
    ("get", "/requests/{id}"): routes.request_detail,
    ("get", "/initiatives"): routes.initiatives,
    ("get", "/initiatives/{id}"): routes.initiative_detail,
    ("get", "/invites"): routes.invites,
    ("get", "/ratings"): routes.ratings,
    ("get", "/utility"): routes.utility,
    ("get", "/polls"): routes.polls,
    ("get", "/polls/{id}"): routes.poll,
    ("get", "/agreements"): routes.agreements,
    ("get", "/agreements/{id}"): routes.agreement,
    ("get", "/pledges/{id}"): routes.pledge,
    ("get", "/listings"): routes.listings,
    ("get", "/listings/{id}"): routes.listing,
    ("get", "/agreements/{id}/history"): routes.agreement_history,
    ("get", "/agreements/{id}/blame"): routes.agreement_blame,
    ("get", "/members"): routes.members,
    ("get", "/distribute"): routes.distribute,
    ("get", "/orgs"): routes.orgs,
    ("get", "/orgs/{id}"): routes.org,
    ("post", "/web/login"): routes.web_login,
    ("post", "/import"): node_routes.import_batch,
    ("post", "/sync"): node_routes.sync,
    **{(a.method, a.path): routes.action_handler(a) for a in ACTIONS},
}


def _routes() -> list[Route]:
    by_path: dict[str, dict[str, Handler]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = HANDLERS[
            endpoint.method, endpoint.path
        ]
    found: list[Route] = []
    for path, methods in by_path.items():
        # A coroutine function: Starlette would run a plain function in a thread.
        async def dispatch(
            request: Request,
            methods: dict[str, Handler] = methods,
            needs: tuple[type[Domain], ...] = NEEDS.get(path, ()),
        ) -> Response:
            if needs:
                ctx: ApiContext = request.app.state.ctx
                if not await ctx.live.ensure(needs, patience=request.app.state.loading_wait):
                    return loading_answer(ctx.live.loading(), needs)
            method = request.method.lower()
            # Starlette answers HEAD for every GET route (the body is dropped).
            return await methods["get" if method == "head" else method](request)

        found.append(Route(PREFIX + path, dispatch, methods=[m.upper() for m in methods]))
    return found


RETRY_AFTER: Final = 1
"""Seconds a client is told to wait before asking again while views load."""


def loading_answer(loading: dict[str, float], needs: tuple[type[Domain], ...]) -> Response:
    """``503 loading``: the views a request reads are still loading from the checkpoint.

    Nothing was done; the client asks again after ``Retry-After`` seconds. The
    body names the domains still loading and for how long (``seconds``).
    """
    names = {cls.name for cls in needs}
    waiting = {n: round(t, 1) for n, t in loading.items() if n in names}
    listed = ", ".join(waiting) or "needed"
    views = "view" if len(waiting) == 1 else "views"
    body: dict[str, Any] = {
        **error_body("loading", f"the daemon is loading the {listed} {views} from its checkpoint"),
        "loading": [{"domain": n, "seconds": t} for n, t in waiting.items()],
    }
    return JSONResponse(
        body, status_code=HTTP_ERRORS["loading"], headers={"Retry-After": str(RETRY_AFTER)}
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    name = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "internal_error")
    allowed = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow", "")
    message = {
        404: f"expected a path of this API (see {PREFIX}/openapi.json), found {request.url.path}",
        405: f"expected one of {allowed}, found {request.method}",
    }.get(exc.status_code, str(exc.detail))
    return JSONResponse(error_body(name, message), status_code=exc.status_code, headers=exc.headers)


async def _taxonomy_error(request: Request, exc: Exception) -> Response:
    found = error_name(exc)
    if found is None:
        log.error("internal error in %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", f"the node failed to answer: {type(exc).__name__}"),
            status_code=500,
        )
    name, status = found
    return JSONResponse(error_body(name, str(exc)), status_code=status)


def build_app(
    ctx: ApiContext,
    *,
    token: str,
    hosts: HostPolicy,
    limiter: RateLimiter,
    max_body: int = MAX_BODY,
    loading_wait: float = 2.0,
) -> Guard:
    """The whole ASGI application, its guard outermost."""
    app = Starlette(
        routes=_routes(),
        exception_handlers={
            HTTPException: _http_error,
            # Each class of the taxonomy has its own entry: a handler for Exception
            # itself would run in Starlette's server-error layer, which re-raises.
            **dict.fromkeys((ApiError, *TAXONOMY), _taxonomy_error),
            Exception: _taxonomy_error,
        },
    )
    app.state.ctx = ctx
    app.state.loading_wait = loading_wait
    return Guard(app, token=token, hosts=hosts, limiter=limiter, max_body=max_body)
