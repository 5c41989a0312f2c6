"""The API's endpoints: each reads the daemon's views and answers the CLI's JSON shape.

Reads come from :class:`~samoorg.node.daemon_views.LiveViews` (in memory,
current), shaped by :mod:`samoorg.node.api.shapes`, the builders the CLI's
``--json`` uses. Listings page through the view's order
(:mod:`samoorg.node.api.pages`); the shape of each item is computed for the
page only. Writes go through :meth:`LiveViews.append`, the CLI's check.
Errors are raised as exceptions of the taxonomy; :mod:`samoorg.node.api.app`
turns them into JSON answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds.pledges import PledgeState
from samoorg.crdt.kinds.trust import TrustState
from samoorg.node.api import shapes
from samoorg.node.api.errors import ApiError
from samoorg.node.api.events import EventHub
from samoorg.node.api.pages import (
    bool_param,
    choice_param,
    encode_cursor,
    optional_int,
    page_of,
    page_request,
)
from samoorg.node.daemon_views import SOCIAL_KINDS, LiveViews
from samoorg.node.home import Home
from samoorg.node.names import Names
from samoorg.node.store import Store, now_ms
from samoorg.protocol.ids import BadIdentifier, parse_peer_id, peer_id

if TYPE_CHECKING:
    from samoorg.crdt.kinds.pledges import PledgeOutcome
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.entry import Entry

MAX_KINDS: Final = 16
MAX_HOPS: Final = 64


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What the endpoints read and write."""

    home: Home
    store: Store
    signer: Signer
    live: LiveViews
    hub: EventHub
    node_state: Callable[[], dict[str, Any]]
    """The daemon's published state (``daemon.json``), current."""
    stored: Callable[[], None]
    """Tell the daemon that we stored an entry (it announces it to peers)."""

    @property
    def me(self) -> bytes:
        """Our participant key."""
        return self.signer.public_key


def _json(request: Request, body: Any, status_code: int = 200) -> JSONResponse:
    """A JSON answer, times and bytes written as the CLI's ``--json`` writes them.

    Every peer id field gets its name beside it (``node/names.py``), as in the CLI.
    """
    from samoorg.node.names import with_names

    named = with_names(shapes.jsonable(body), lambda: _names(_ctx(request), known=False))
    return JSONResponse(named, status_code=status_code)


def _names(ctx: ApiContext, *, known: bool = True) -> Names:
    """The daemon's :class:`~samoorg.node.names.Names` (``known``: with every known id)."""
    from samoorg.node.names import chosen_names, known_keys, read_petnames

    live = ctx.live
    chosen = live.memo(("chosen_names",), None, lambda: chosen_names(live.views))
    keys = known_keys(ctx.store, ctx.home) if known else frozenset()
    return Names(ctx.me, read_petnames(ctx.home), chosen, keys)


def _member(ctx: ApiContext, text: str | None) -> bytes | None:
    """The participant ``text`` names: the CLI's resolver (ids, fragments, names)."""
    if text is None:
        return None
    try:
        return parse_peer_id(text)
    except BadIdentifier:
        return _names(ctx).resolve(text)


def _entry(ctx: ApiContext, text: str, *kinds: str) -> Entry:
    """The held entry named by a whole id or a unique prefix, among entries of ``kinds``."""
    from samoorg.node.names import resolve_entry

    whole = _by_id(ctx.live, text)
    if whole is not None and whole.kind in kinds:
        return whole
    return resolve_entry(ctx.store, lambda: _names(ctx), text, kinds)


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)
    return ctx


def _page(request: Request, items: list[dict[str, Any]], next_cursor: str | None) -> JSONResponse:
    return _json(request, {"items": items, "next_cursor": next_cursor})


def _by_id(live: LiveViews, text: str) -> Entry | None:
    """The held entry with this whole hex id (a dictionary look-up, no store scan)."""
    if len(text) != 64:
        return None
    try:
        return live.index.get(bytes.fromhex(text))
    except ValueError:
        return None


async def status(request: Request) -> Response:
    """``GET /status``: as ``samoorg status --json``."""
    ctx = _ctx(request)
    # Counting the store's rows costs its size; the counts change only with entries.
    stats = ctx.live.memo(("stats",), None, ctx.store.stats)
    body = shapes.status_json(peer_id(ctx.me), str(ctx.home.path), stats, ctx.node_state())
    return _json(request, body)


async def trust_pool(request: Request) -> Response:
    """``GET /trust/pool``: as ``samoorg trust pool --json``."""
    ctx = _ctx(request)
    hops = optional_int(request.query_params, "hops", 1, MAX_HOPS)
    live = ctx.live
    pool = live.memo(
        ("pool", hops), TrustState.kinds, lambda: shapes.pool_json(live.views, ctx.me, hops)
    )
    return _json(request, pool)


async def trust_list(request: Request) -> Response:
    """``GET /trust/list``: a page of ``samoorg trust list --json``."""
    ctx = _ctx(request)
    query = request.query_params
    hops = optional_int(query, "hops", 1, MAX_HOPS)
    page = page_request(query)
    live = ctx.live
    rows = live.memo(
        ("trust", hops), TrustState.kinds, lambda: shapes.trust_rows(live.views, ctx.me, hops)
    )
    start, stop, cursor = page_of(len(rows), page)
    return _page(request, rows[start:stop], cursor)


async def ideas(request: Request) -> Response:
    """``GET /ideas``: a page of ``samoorg idea list --json``."""
    ctx = _ctx(request)
    query = request.query_params
    sort = choice_param(query, "sort", ("utility", "recent"))
    page = page_request(query)
    social = ctx.live.social(ctx.me)
    order = ctx.live.memo(("ideas", sort), SOCIAL_KINDS, lambda: shapes.idea_order(social, sort))
    start, stop, cursor = page_of(len(order), page)
    return _page(request, [shapes.idea_summary(social, i) for i in order[start:stop]], cursor)


async def idea(request: Request) -> Response:
    """``GET /ideas/{id}``: as ``samoorg idea show ID --json`` (id or unique prefix)."""
    from samoorg.crdt.kinds.forum import IDEA_KIND

    ctx = _ctx(request)
    entry = _entry(ctx, request.path_params["id"], IDEA_KIND)
    social = ctx.live.social(ctx.me)
    if entry.id not in social.forum.ideas:
        reason = ctx.live.views.invalid().get(entry.id, "the views ignore it")
        raise RuleViolation(f"idea {entry.id.hex()[:12]} is ignored: {reason}")
    return _json(request, shapes.idea_detail(social, entry.id))


async def idea_post(request: Request) -> Response:
    """``POST /ideas`` with ``{"title": ..., "body": ...}``: as ``samoorg idea post --json``."""
    from samoorg.crdt.kinds import forum

    ctx = _ctx(request)
    fields = await _json_object(request, required={"title": str}, optional={"body": str})
    content = forum.idea_body(fields["title"], fields.get("body", ""))
    entry = ctx.live.append(ctx.home, ctx.signer, forum.IDEA_KIND, content)
    ctx.stored()
    return _json(request, shapes.created_json(entry), status_code=201)


async def pledges(request: Request) -> Response:
    """``GET /pledges``: a page of ``samoorg pledge list --json`` (same filters)."""
    ctx = _ctx(request)
    query = request.query_params
    page = page_request(query)
    at = now_ms()
    live = ctx.live
    views = live.views
    mine, to_me = bool_param(query, "mine"), bool_param(query, "to_me")
    everyone = bool_param(query, "everyone")
    # The filters that do not depend on the time are remembered; "overdue" does.
    outcomes = live.memo(
        ("pledges", mine, to_me, everyone),
        PledgeState.kinds,
        lambda: list(
            shapes.listed_pledges(views, ctx.me, at, mine=mine, to_me=to_me, everyone=everyone)
        ),
    )
    listed: Iterable[PledgeOutcome] = outcomes
    if bool_param(query, "overdue"):
        listed = (o for o in outcomes if o.overdue(at))
    start = page.position or 0
    window = list(islice(listed, start, start + page.limit + 1))
    rows = [shapes.pledge_row(views, o, at) for o in window[: page.limit]]
    more = len(window) > page.limit
    return _page(request, rows, encode_cursor(start + page.limit) if more else None)


async def ledger(request: Request) -> Response:
    """``GET /ledger``: as ``samoorg ledger --json`` (``mine``, ``with`` filter it)."""
    from samoorg.crdt.kinds.pledges import PledgeState

    ctx = _ctx(request)
    query = request.query_params
    mine = bool_param(query, "mine")
    text = query.get("with")
    other = _member(ctx, text)
    live = ctx.live
    body = live.memo(
        ("ledger", mine, other),
        PledgeState.kinds,
        lambda: shapes.ledger_json(live.views, ctx.me, other, mine),
    )
    return _json(request, body)


async def inbox(request: Request) -> Response:
    """``GET /inbox``: as ``samoorg inbox --json``, what needs your action now."""
    from samoorg.crdt.kinds.inbox import action_items

    ctx = _ctx(request)
    items = action_items(ctx.live.views, ctx.me, now_ms())
    return _json(request, {"items": [shapes.item_json(item) for item in items]})


async def entries_log(request: Request) -> Response:
    """``GET /log``: stored entries, newest first, as ``samoorg log --json`` items."""
    ctx = _ctx(request)
    query = request.query_params
    page = page_request(query)
    kinds = set(query.getlist("kind"))
    if len(kinds) > MAX_KINDS:
        raise ApiError("invalid_parameter", f"expected at most {MAX_KINDS} kinds, found more")
    author_text = query.get("author")
    author = _member(ctx, author_text)
    rows = ctx.live.newest_first(page.position, author, kinds)
    items, cursor = shapes.log_page(rows, page.limit)
    return _page(request, items, cursor)


async def names(request: Request) -> Response:
    """``GET /names``: as ``samoorg name list --json``, and the CLI's tables read it."""
    from samoorg.node.names import directory

    ctx = _ctx(request)
    return _json(request, {"me": peer_id(ctx.me), "items": directory(_names(ctx, known=False))})


async def profile(request: Request) -> Response:
    """``GET /profiles/{id}``: as ``samoorg profile show ID --json`` (id, fragment or name)."""
    ctx = _ctx(request)
    key = _member(ctx, request.path_params["id"])
    assert key is not None
    return _json(request, shapes.profile_json(ctx.live.views, key))


async def events(request: Request) -> Response:
    """``GET /events``: server-sent events of new entries (``kind=`` filters)."""
    ctx = _ctx(request)
    kinds = request.query_params.getlist("kind")
    if len(kinds) > MAX_KINDS:
        raise ApiError("invalid_parameter", f"expected at most {MAX_KINDS} kinds, found more")
    if ctx.hub.full():
        raise ApiError("rate_limited", f"expected at most {ctx.hub.max_streams} event streams")
    return StreamingResponse(
        ctx.hub.stream(kinds),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def openapi(request: Request) -> Response:
    """``GET /openapi.json``: the OpenAPI 3.1 document of this API."""
    from samoorg.node.api.openapi import document

    return _json(request, document())


async def ratings(request: Request) -> Response:
    """``GET /ratings``: a page of ``samoorg ratings --json``."""
    ctx = _ctx(request)
    page = page_request(request.query_params)
    live = ctx.live
    social = live.social(ctx.me)
    rows = live.memo(("ratings",), SOCIAL_KINDS, lambda: shapes.rating_rows(live.views, social))
    start, stop, cursor = page_of(len(rows), page)
    return _page(request, rows[start:stop], cursor)


async def utility(request: Request) -> Response:
    """``GET /utility``: a page of ``samoorg utility --json`` (the iteration is remembered)."""
    ctx = _ctx(request)
    page = page_request(request.query_params)
    live = ctx.live
    social = live.social(ctx.me)
    rows = live.memo(("utility",), SOCIAL_KINDS, lambda: shapes.utility_rows(social))
    start, stop, cursor = page_of(len(rows), page)
    body = {"items": rows[start:stop], "next_cursor": cursor, **shapes.utility_summary(social)}
    return _json(request, body)


async def polls(request: Request) -> Response:
    """``GET /polls``: a page of ``samoorg poll list --json``, newest first."""
    ctx = _ctx(request)
    page = page_request(request.query_params)
    live = ctx.live
    social = live.social(ctx.me)
    order = live.memo(("polls",), SOCIAL_KINDS, lambda: shapes.poll_order(social))
    start, stop, cursor = page_of(len(order), page)
    at = now_ms()
    return _page(
        request, [shapes.tally_json(social.tally(i), at) for i in order[start:stop]], cursor
    )


async def poll(request: Request) -> Response:
    """``GET /polls/{id}``: as ``samoorg poll show ID --json`` (id or unique prefix)."""
    from samoorg.crdt.kinds.polls import POLL_KIND

    ctx = _ctx(request)
    entry = _entry(ctx, request.path_params["id"], POLL_KIND)
    social = ctx.live.social(ctx.me)
    if entry.id not in social.polls.polls:
        reason = ctx.live.views.invalid().get(entry.id, "the views ignore it")
        raise RuleViolation(f"poll {entry.id.hex()[:12]} is ignored: {reason}")
    return _json(request, shapes.tally_json(social.tally(entry.id), now_ms()))


async def agreements(request: Request) -> Response:
    """``GET /agreements``: a page of ``samoorg agreement list --json``, oldest first."""
    from samoorg.crdt.kinds.agreements import AgreementState

    ctx = _ctx(request)
    page = page_request(request.query_params)
    live = ctx.live
    held = live.memo(("agreements",), AgreementState.kinds, live.views.agreements.all)
    start, stop, cursor = page_of(len(held), page)
    return _page(request, [shapes.agreement_summary(a, ctx.me) for a in held[start:stop]], cursor)


async def agreement(request: Request) -> Response:
    """``GET /agreements/{id}``: as ``samoorg agreement show ID --json`` (``version`` too)."""
    from samoorg.crdt.kinds.agreements import AGREEMENT_NEW

    ctx = _ctx(request)
    version = request.query_params.get("version")
    if version is not None and (
        not 4 <= len(version) <= 64 or any(c not in "0123456789abcdef" for c in version)
    ):
        raise ApiError(
            "invalid_parameter",
            f"expected version 4 to 64 lowercase hex digits, found {version[:70]!r}",
        )
    entry = _entry(ctx, request.path_params["id"], AGREEMENT_NEW)
    views = ctx.live.views
    return _json(
        request, shapes.agreement_detail(views, shapes.held_agreement(views, entry), version)
    )


async def _json_object(
    request: Request, *, required: dict[str, type], optional: dict[str, type]
) -> dict[str, Any]:
    """The request's JSON object, with exactly these fields of these types."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(
            "unsupported_media_type", f"expected Content-Type application/json, found {media!r}"
        )
    raw = await request.body()
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError("bad_json", f"expected a JSON body, found invalid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ApiError("invalid_body", f"expected a JSON object, found {type(value).__name__}")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        raise ApiError("invalid_body", f"expected no other fields, found {', '.join(unknown)}")
    for name, kind in {**required, **optional}.items():
        if name not in value:
            if name in required:
                raise ApiError("invalid_body", f"expected field {name!r}, found none")
            continue
        if not isinstance(value[name], kind):
            found = type(value[name]).__name__
            raise ApiError("invalid_body", f"expected {name} a {kind.__name__}, found {found}")
    return value


# -- help requests, initiatives and invites -------------------------------------


async def requests(request: Request) -> Response:
    """``GET /requests``: a page of ``samoorg request list --json``, oldest first."""
    from samoorg.crdt.kinds.pledges import REQUEST

    return _appeals(request, REQUEST)


async def initiatives(request: Request) -> Response:
    """``GET /initiatives``: a page of ``samoorg initiative list --json``, oldest first."""
    from samoorg.crdt.kinds.pledges import INITIATIVE

    return _appeals(request, INITIATIVE)


def _appeals(request: Request, kind: str) -> Response:
    ctx = _ctx(request)
    page = page_request(request.query_params)
    live = ctx.live
    # The order is remembered; a row's status depends on the time, so rows are not.
    listed = live.memo(
        ("appeals", kind), PledgeState.kinds, lambda: live.views.pledges.appeals(kind)
    )
    start, stop, cursor = page_of(len(listed), page)
    at = now_ms()
    return _page(
        request, [shapes.appeal_row(live.views, a, at) for a in listed[start:stop]], cursor
    )


async def request_detail(request: Request) -> Response:
    """``GET /requests/{id}``: as ``samoorg request show ID --json`` (id or unique prefix)."""
    from samoorg.crdt.kinds.pledges import REQUEST

    return _appeal(request, REQUEST)


async def initiative_detail(request: Request) -> Response:
    """``GET /initiatives/{id}``: as ``samoorg initiative show ID --json`` (id or prefix)."""
    from samoorg.crdt.kinds.pledges import INITIATIVE

    return _appeal(request, INITIATIVE)


def _appeal(request: Request, kind: str) -> Response:
    ctx = _ctx(request)
    entry = _entry(ctx, request.path_params["id"], kind)
    views = ctx.live.views
    return _json(
        request, shapes.appeal_detail(views, shapes.held_appeal(views, entry, kind), now_ms())
    )


async def invites(request: Request) -> Response:
    """``GET /invites``: a page of ``samoorg invite list --json`` (sent and accepted)."""
    ctx = _ctx(request)
    page = page_request(request.query_params)
    live = ctx.live
    listed = live.memo(
        ("invites",), TrustState.kinds, lambda: shapes.listed_invites(live.views, ctx.me)
    )
    start, stop, cursor = page_of(len(listed), page)
    at = now_ms()
    return _page(request, [shapes.invite_row(*invite, at) for invite in listed[start:stop]], cursor)
