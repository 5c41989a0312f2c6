"""Trust: my trust list (chain, guarantee, hops), its pool, the graph, and invites.

The list is ``GET /api/v1/trust/list`` (one page of it, ``?cursor=``), the
pool ``/trust/pool``, the invites ``/invites``; the picture is drawn by
:mod:`samoorg.node.web.graph` from every row of the list and the trust
view's edges, with members who have an open help request marked
(remembered until a trust or pledge entry arrives, or for :data:`GRAPH_SECONDS`).

Forms (``POST``), each an action of :mod:`samoorg.node.actions.trust`:
``/trust/invite`` (``invite create``: the code is shown once, as text and as
a QR code drawn by ``segno``), ``/trust/accept`` (``invite accept``, the
code pasted) and ``/trust/revoke`` (``invite revoke``).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.kinds.pledges import PledgeState
from samoorg.crdt.kinds.trust import TrustState
from samoorg.node.api.pages import page_of, page_request
from samoorg.node.api.routes import ApiContext, invites_of, names_of, pool_body, trust_rows_of
from samoorg.node.api.shapes import invite_row, jsonable
from samoorg.node.names import Names, short_id
from samoorg.node.store import now_ms
from samoorg.node.web import graph
from samoorg.node.web.forms import Form, Refusal, act, attempt, done, perform, read_form
from samoorg.node.web.i18n import translate
from samoorg.node.web.render import amount, page, request_lang
from samoorg.node.web.site import context, remembered
from samoorg.protocol.ids import parse_peer_id, peer_id

GRAPH_KINDS = (*TrustState.kinds, *PledgeState.kinds)
"""The picture is made of the trust graph and the open help requests."""
GRAPH_SECONDS = 60.0
"""A help request that expires shows unmarked at most this late."""


def helped_members(ctx: ApiContext) -> frozenset[str]:
    """Members with an open help request."""
    from samoorg.crdt.kinds.pledges import COLLECTING, REQUEST

    at = now_ms()
    return frozenset(
        peer_id(a.entry.author)
        for a in ctx.live.views.pledges.appeals(REQUEST)
        if a.status(at) == COLLECTING
    )


def picture(ctx: ApiContext, lang: str, names: Names) -> Any:
    """The SVG of my trust graph, members labelled by ``names`` (the name, else the short id)."""
    rows = trust_rows_of(ctx, None)
    edges = [(peer_id(a), peer_id(b)) for a, b in ctx.live.views.trust.edges()]
    labels = {
        key: translate(lang, f"trust.graph_{key}") for key in ("title", "me", "helped", "hops")
    }

    def name_of(ident: str) -> str:
        key = parse_peer_id(ident)
        return names.tag(key) or short_id(key)

    return graph.svg(rows, edges, helped_members(ctx), labels, name_of)


def _names_key(names: Names) -> Hashable:
    """What the picture's labels depend on: a petname or a profile name changes them."""
    return hash((frozenset(names.petnames.items()), frozenset(names.chosen.items())))


async def trust(request: Request) -> Response:
    """``GET /trust``: the list, the pool, the picture and the invite forms."""
    return show(request)


def show(request: Request, values: dict[str, Any] | None = None, status: int = 200) -> Response:
    """The trust page, with a form's refusal (``values``: ``errors``, ``typed``) if any."""
    ctx = context(request)
    lang = request_lang(request)
    names = names_of(ctx, known=False)
    rows = trust_rows_of(ctx, None)
    start, stop, cursor = page_of(len(rows), page_request(request.query_params))
    at = now_ms()
    invites = [invite_row(*i, at) for i in invites_of(ctx)[:50]]
    shown = {
        "me": peer_id(ctx.me),
        "rows": rows[start:stop],
        "next_cursor": cursor,
        "pool": pool_body(ctx, None),
        "graph": remembered(
            request,
            ("graph", lang, _names_key(names)),
            GRAPH_KINDS,
            GRAPH_SECONDS,
            lambda: picture(ctx, lang, names),
        ),
        "invites": jsonable(invites),
        "errors": {},
        "typed": {},
        "flash": request.state.session.flash_once("trust"),
        **(values or {}),
    }
    shown["typed"] = {**FORM_DEFAULTS, **shown["typed"]}
    return page(request, "trust.html", shown, status=status, active="trust")


FORM_DEFAULTS = {"currency": "EUR", "days": "14"}
MAX_DAYS = 365
DAY_MS = 86_400_000


def refused(request: Request, form: Form, field: str, refusal: Refusal) -> Response:
    """The page again, the reason next to ``field`` and the values as typed."""
    values = {"errors": {field: refusal.message}, "typed": form.values}
    return show(request, values, status=refusal.status)


def qr_code(code: str) -> Markup:
    """The invite code as an inline SVG QR code (``segno``; no member text in it)."""
    import segno

    svg: str = segno.make(code, error="m").svg_inline(scale=4, title="QR")
    return Markup(svg)  # noqa: S704 - segno's own markup of our own code


def _days(text: str) -> int:
    from samoorg.crdt.framework.errors import MalformedInput

    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise MalformedInput(f"expected a number of days from 1 to {MAX_DAYS}, found {text!r}")
    return int(text)


async def invite_create(request: Request) -> Response:
    """``POST /trust/invite``: record an invite; its code is shown once."""
    from samoorg.node.actions import trust as actions

    form = await read_form(request)
    guarantee = attempt(lambda: Amount.parse(form.get("amount"), form.get("currency")))
    if isinstance(guarantee, Refusal):
        return refused(request, form, "amount", guarantee)
    days = attempt(lambda: _days(form.get("days")))
    if isinstance(days, Refusal):
        return refused(request, form, "days", days)
    result = act(
        request,
        actions.invite_create,
        guarantee=guarantee,
        expires=now_ms() + days * DAY_MS,
        note=form.get("note"),
    )
    if isinstance(result, Refusal):
        return refused(request, form, "invite", result)
    code = result.shape["code"]
    created = {
        "code": code,
        "qr": qr_code(code),
        "amount": amount(guarantee.minor, guarantee.currency),
        "expires": jsonable(result.shape["expires"]),
    }
    request.state.session.flash_once("trust", {"created": created})
    return done("/trust#invite")


async def invite_accept(request: Request) -> Response:
    """``POST /trust/accept``: accept a pasted invite code (as ``invite accept CODE``)."""
    form = await read_form(request)
    body = {"code": "".join(form.get("code").split())}
    if form.get("accept_amount"):
        body["amount"] = form.get("accept_amount")
    result = perform(request, "invite.accept", body)
    if isinstance(result, Refusal):
        amount_refused = result.name == "malformed_input" and "amount" in body
        return refused(request, form, "accept_amount" if amount_refused else "code", result)
    shape = jsonable(result.shape)
    accepted = {
        "inviter": shape["inviter"],
        "theirs": shape["their_guarantee"],
        "yours": shape["your_guarantee"],
        "notes": list(result.notes),
    }
    request.state.session.flash_once("trust", {"accepted": accepted})
    return done("/trust#accept")


async def invite_revoke(request: Request) -> Response:
    """``POST /trust/revoke``: revoke a pending invite of mine."""
    from samoorg.node.actions import trust as actions

    form = await read_form(request)
    invite = form.get("invite")
    result = act(request, actions.invite_revoke, invite=invite)
    if isinstance(result, Refusal):
        return refused(request, form, f"revoke_{invite}", result)
    request.state.session.flash_once("trust", {"revoked": result.shape["invite"]})
    return done("/trust#invites")


ROUTES = [
    Route("/trust", trust),
    Route("/trust/invite", invite_create, methods=["POST"]),
    Route("/trust/accept", invite_accept, methods=["POST"]),
    Route("/trust/revoke", invite_revoke, methods=["POST"]),
]
