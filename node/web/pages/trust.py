"""Trust: my trust list (chain, guarantee, hops), its pool, the graph, and invites.

The list is ``GET /api/v1/trust/list`` (one page of it, ``?cursor=``), the
pool ``/trust/pool``, the invites ``/invites``; the picture is drawn by
:mod:`samoorg.node.web.graph` from every row of the list and the trust
view's edges, with members who have an open help request marked.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from samoorg.node.api.pages import page_of, page_request
from samoorg.node.api.routes import ApiContext, invites_of, pool_body, trust_rows_of
from samoorg.node.api.shapes import invite_row, jsonable
from samoorg.node.store import now_ms
from samoorg.node.web import graph
from samoorg.node.web.i18n import translate
from samoorg.node.web.render import page, request_lang
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id


def helped_members(ctx: ApiContext) -> frozenset[str]:
    """Members with an open help request."""
    from samoorg.crdt.pledges import COLLECTING
    from samoorg.crdt.records import REQUEST

    at = now_ms()
    return frozenset(
        peer_id(a.entry.author)
        for a in ctx.live.views.pledges.appeals(REQUEST)
        if a.status(at) == COLLECTING
    )


def picture(ctx: ApiContext, lang: str) -> Any:
    """The SVG of my trust graph."""
    rows = trust_rows_of(ctx, None)
    edges = [(peer_id(a), peer_id(b)) for a, b in ctx.live.views.trust.edges()]
    labels = {
        key: translate(lang, f"trust.graph_{key}") for key in ("title", "me", "helped", "hops")
    }
    return graph.svg(rows, edges, helped_members(ctx), labels)


async def trust(
    request: Request, values: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """``GET /trust``: the list, the pool, the picture and the invite forms."""
    ctx = context(request)
    rows = trust_rows_of(ctx, None)
    start, stop, cursor = page_of(len(rows), page_request(request.query_params))
    at = now_ms()
    invites = [invite_row(*i, at) for i in invites_of(ctx)[:50]]
    shown = {
        "me": peer_id(ctx.me),
        "rows": rows[start:stop],
        "next_cursor": cursor,
        "pool": pool_body(ctx, None),
        "graph": picture(ctx, request_lang(request)),
        "invites": jsonable(invites),
        "errors": {},
        "typed": {},
        "created": None,
        **(values or {}),
    }
    return page(request, "trust.html", shown, status=status, active="trust")


ROUTES = [Route("/trust", trust)]
