"""Home: what needs my action (the inbox, live), my pool and utility, the node's peers.

The inbox is ``GET /api/v1/inbox``'s items (remembered until an entry of the
kinds it reads arrives, or for :data:`INBOX_SECONDS`); the section is marked
``data-live`` so that ``static/live.js`` refreshes it when the event stream
says an action item or an entry arrived (without JavaScript, a reload shows
the same). Pool, utility and peers are the shapes of ``/trust/pool``,
``/utility`` and ``/status``. Members whose profile says they need urgent
help are listed first, with their message.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from samoorg.crdt.kinds.pledges import PledgeState
from samoorg.node.api.routes import inbox_items, pool_body, status_body, utility_rows_of
from samoorg.node.api.shapes import jsonable
from samoorg.node.daemon_views import SOCIAL_KINDS
from samoorg.node.web.pages.names import urgent_members
from samoorg.node.web.render import page
from samoorg.node.web.site import context, remembered
from samoorg.protocol.ids import peer_id

INBOX_KINDS = (*SOCIAL_KINDS, *PledgeState.kinds)
"""What the inbox reads: invites, pledges, polls (crdt/inbox.py)."""
INBOX_SECONDS = 5.0
"""Items that time brings (overdue, a poll closing) show at most this late."""


async def home(request: Request) -> Response:
    """``GET /``: who needs urgent help, the inbox, my pool, my utility, peers and sync state."""
    ctx = context(request)
    me = peer_id(ctx.me)
    mine: dict[str, Any] | None = next((r for r in utility_rows_of(ctx) if r["id"] == me), None)
    status = jsonable(status_body(ctx))
    values = {
        "me": me,
        "items": remembered(
            request, "inbox", INBOX_KINDS, INBOX_SECONDS, lambda: jsonable(inbox_items(ctx))
        ),
        "pool": pool_body(ctx, None),
        "utility": mine,
        "status": status,
        "peers": (status["daemon"] or {}).get("peers", []),
        "urgent": urgent_members(ctx),
    }
    return page(request, "home.html", values, active="home")


ROUTES = [Route("/", home)]
