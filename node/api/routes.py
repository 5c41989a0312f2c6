"""The API's endpoints: each reads the daemon's views and answers the CLI's JSON shape.

Reads come from :class:`~samoorg.node.daemon_views.LiveViews` (in memory,
current), shaped by :mod:`samoorg.node.api.shapes`, the builders the CLI's
``--json`` uses. Listings page through the view's order
(:mod:`samoorg.node.api.pages`); the shape of each item is computed for the
page only. Writes are the actions of :data:`~samoorg.node.actions.table.ACTIONS`
(:func:`action_handler`), the functions the CLI runs offline, through the one
write path. References (ids, prefixes) are resolved as the CLI resolves them
(:mod:`samoorg.node.actions.refs`), so a malformed one is the same error.
Errors are raised as exceptions of the taxonomy; :mod:`samoorg.node.api.app`
turns them into JSON answers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from samoorg.crdt.algorithms.netting import suggest_netting
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds.pledges import PledgeState
from samoorg.crdt.kinds.trust import TrustState
from samoorg.node.actions import Action, Actor, check_body
from samoorg.node.actions.refs import resolve_entry, resolve_member
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
    window_of,
)
from samoorg.node.daemon_views import SOCIAL_KINDS, LiveViews, run_in_thread
from samoorg.node.home import Home
from samoorg.node.names import Names
from samoorg.node.store import Store, now_ms
from samoorg.node.web.sessions import LINK_TTL, WebSessions
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.kinds.agreements import Agreement
    from samoorg.crdt.kinds.trust import InviteOutcome
    from samoorg.node.replication import SyncReport
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.entry import Entry

SyncOnce = Callable[..., Awaitable[tuple[bytes, "SyncReport", float]]]
"""``sync(address, hops=, timeout=)``: :meth:`samoorg.node.daemon.Node.sync_once`."""
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
    sessions: WebSessions = field(default_factory=WebSessions)
    """The web organizer's login links and sessions (``POST /web/login`` issues links)."""
    peers_changed: Callable[[], None] = lambda: None
    """Tell the daemon that an action changed the peer book (it dials, rescopes at once)."""
    sync: SyncOnce | None = None
    """The daemon's one session with a peer (``POST /sync``); ``None`` without a node."""

    @property
    def me(self) -> bytes:
        """Our identity (the founding key of this device's, §8.11.1): what views count."""
        return self.live.views.identity(self.signer.public_key)

    @property
    def device(self) -> bytes:
        """This device's key."""
        return self.signer.public_key

    def actor(self) -> Actor:
        """The :class:`~samoorg.node.actions.Actor` of the daemon, for its actions."""
        return Actor.of(
            self.home,
            self.store,
            self.live.state,
            self.signer,
            self.live.social,
            lambda: names_of(self),
        )


def _json(
    request: Request,
    body: Any,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON answer, times and bytes written as the CLI's ``--json`` writes them.

    Every peer id field gets its name beside it (``node/names.py``), as in the CLI.
    """
    from samoorg.node.names import with_names

    named = with_names(shapes.jsonable(body), lambda: names_of(_ctx(request), known=False))
    return JSONResponse(named, status_code=status_code, headers=headers)


def names_of(ctx: ApiContext, *, known: bool = True) -> Names:
    """The daemon's :class:`~samoorg.node.names.Names` (``known``: with every known id).

    The API's answers and the web organizer's pages name participants with it.
    """
    from samoorg.node.names import chosen_names, known_keys, read_petnames

    live = ctx.live
    chosen = live.memo(("chosen_names",), None, lambda: chosen_names(live.views))
    keys = known_keys(ctx.store, ctx.home) if known else frozenset()
    return Names(ctx.me, read_petnames(ctx.home), chosen, keys, live.views.identities())


def _member(ctx: ApiContext, text: str | None) -> bytes | None:
    """The participant ``text`` names: the one resolver (ids, fragments, names)."""
    return None if text is None else resolve_member(names_of(ctx), text)


def _entry(ctx: ApiContext, text: str, *kinds: str) -> Entry:
    """The held entry named by a whole id or a unique prefix, among entries of ``kinds``."""
    return resolve_entry(ctx.store, ctx.live.state, text, *kinds, names=lambda: names_of(ctx))


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ApiContext)
    return ctx


def _page(request: Request, items: list[dict[str, Any]], next_cursor: str | None) -> JSONResponse:
    return _json(request, {"items": items, "next_cursor": next_cursor})


def status_body(ctx: ApiContext) -> dict[str, Any]:
    """What ``GET /status`` answers (the web's home page shows it too)."""
    # Counting the store's rows costs its size; the counts change only with entries.
    stats = ctx.live.memo(("stats",), None, ctx.store.stats)
    daemon = {**ctx.node_state(), "views": views_state(ctx.live)}
    return shapes.status_json(peer_id(ctx.device), str(ctx.home.path), stats, daemon)


def views_state(live: LiveViews) -> dict[str, Any]:
    """Which view domains the daemon holds (``loaded``) and loads now (``loading``: seconds
    since each load started); the others load when a request first reads them."""
    loading = [{"domain": n, "seconds": round(t, 1)} for n, t in live.loading().items()]
    return {"loaded": live.loaded(), "loading": loading}


def pool_body(ctx: ApiContext, hops: int | None) -> dict[str, Any]:
    """What ``GET /trust/pool`` answers, remembered until the trust kinds change."""
    live = ctx.live
    return live.memo(
        ("pool", hops), TrustState.kinds, lambda: shapes.pool_json(live.views, ctx.me, hops)
    )


def trust_rows_of(ctx: ApiContext, hops: int | None) -> list[dict[str, Any]]:
    """Every row of ``GET /trust/list``, remembered until the trust kinds change."""
    live = ctx.live
    return live.memo(
        ("trust", hops), TrustState.kinds, lambda: shapes.trust_rows(live.views, ctx.me, hops)
    )


def inbox_items(ctx: ApiContext) -> list[dict[str, Any]]:
    """The items of ``GET /inbox``, now."""
    from samoorg.crdt.kinds.inbox import action_items

    return [shapes.item_json(item) for item in action_items(ctx.live.views, ctx.me, now_ms())]


def utility_rows_of(ctx: ApiContext) -> list[dict[str, Any]]:
    """Every row of ``GET /utility`` (the iteration is remembered)."""
    live = ctx.live
    social = live.social(ctx.me)
    return live.memo(("utility",), SOCIAL_KINDS, lambda: shapes.utility_rows(social))


async def status(request: Request) -> Response:
    """``GET /status``: as ``samoorg status --json`` (``digests=true``: ``--digests``)."""
    ctx = _ctx(request)
    body = status_body(ctx)
    if bool_param(request.query_params, "digests"):
        body = {**body, "digests": ctx.live.views.digests()}
    return _json(request, body)


async def trust_pool(request: Request) -> Response:
    """``GET /trust/pool``: as ``samoorg trust pool --json``."""
    hops = optional_int(request.query_params, "hops", 1, MAX_HOPS)
    return _json(request, pool_body(_ctx(request), hops))


async def trust_list(request: Request) -> Response:
    """``GET /trust/list``: a page of ``samoorg trust list --json``."""
    ctx = _ctx(request)
    query = request.query_params
    hops = optional_int(query, "hops", 1, MAX_HOPS)
    page = page_request(query)
    rows = trust_rows_of(ctx, hops)
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
    # The ids the filters that do not depend on the time select are remembered ("overdue"
    # does); the outcomes are read for the page only.
    ids = live.memo(
        ("pledges", mine, to_me, everyone),
        PledgeState.kinds,
        lambda: shapes.listed_pledge_ids(views, ctx.me, mine=mine, to_me=to_me, everyone=everyone),
    )
    overdue = bool_param(query, "overdue")
    listed = shapes.listed_pledges(views, ctx.me, at, overdue=overdue, ids=ids)
    start = page.position or 0
    window = window_of(listed, start, start + page.limit + 1)
    rows = [shapes.pledge_row(views, o, at) for o in window[: page.limit]]
    more = len(window) > page.limit
    return _page(request, rows, encode_cursor(start + page.limit) if more else None)


async def ledger(request: Request) -> Response:
    """``GET /ledger``: a page of ``samoorg ledger --json`` (``mine``, ``with`` filter it).

    ``limit`` and ``cursor`` page each of the three lists at once.
    """
    ctx = _ctx(request)
    query = request.query_params
    mine = bool_param(query, "mine")
    other = _member(ctx, query.get("with"))
    page = page_request(query)
    index = await ledger_index_of(ctx)
    rows = index.rows(ctx.me, other, mine)
    return _json(
        request, shapes.ledger_json(ctx.live.views, index, rows, page.position or 0, page.limit)
    )


async def ledger_index_of(ctx: ApiContext) -> shapes.LedgerIndex:
    """The ledger netted and indexed per member, remembered until a pledge kind arrives.

    Netting over every debt takes seconds at 1M entries: unless the pledge view
    knows it already (from the checkpoint, or an earlier answer), it runs in a
    worker thread over a copy of the debts while the loop serves, and the view
    keeps it if its debts did not change meanwhile. The index is remembered
    as of the stamp taken before (entries arriving meanwhile make it stale).
    Names change without entries (petnames), so the rows carry ids only.
    """
    live = ctx.live
    kinds = PledgeState.kinds
    index: shapes.LedgerIndex | None = live.recall(("ledger",), kinds)
    if index is None:
        stamp = live.stamp(kinds)
        pledges = live.views.pledges
        debts, counts = pledges.debts(), pledges.commitment_counts()
        changes, netting = pledges.known_netting()
        if netting is None:
            netting = await run_in_thread(partial(suggest_netting, debts))
            pledges.keep_netting(changes, netting)
        index = await run_in_thread(partial(shapes.ledger_index, debts, counts, netting))
        live.remember(("ledger",), stamp, index)
    return index


async def inbox(request: Request) -> Response:
    """``GET /inbox``: as ``samoorg inbox --json``, what needs your action now."""
    page = page_request(request.query_params)
    items = inbox_items(_ctx(request))
    start, stop, cursor = page_of(len(items), page)
    return _page(request, items[start:stop], cursor)


async def entries_log(request: Request) -> Response:
    """``GET /log``: stored entries, newest first, as ``samoorg log --json`` items.

    ``invalid=true``: only those the views ignore, with the reason (``log --invalid``).
    """
    ctx = _ctx(request)
    query = request.query_params
    page = page_request(query)
    kinds = set(query.getlist("kind"))
    if len(kinds) > MAX_KINDS:
        raise ApiError("invalid_parameter", f"expected at most {MAX_KINDS} kinds, found more")
    author_text = query.get("author")
    author = _member(ctx, author_text)
    rows = ctx.live.newest_first(page.position, author, kinds)
    if bool_param(query, "invalid"):
        reasons = ctx.live.views.invalid()
        items, cursor = shapes.log_page((r for r in rows if r[1].id in reasons), page.limit)
        return _page(request, shapes.invalid_items(items, reasons), cursor)
    items, cursor = shapes.log_page(rows, page.limit)
    return _page(request, items, cursor)


async def names(request: Request) -> Response:
    """``GET /names``: as ``samoorg name list --json``, and the CLI's tables read it."""
    from samoorg.node.names import directory

    ctx = _ctx(request)
    page = page_request(request.query_params)
    rows = directory(names_of(ctx, known=False))
    start, stop, cursor = page_of(len(rows), page)
    return _json(request, {"me": peer_id(ctx.me), "items": rows[start:stop], "next_cursor": cursor})


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
    if ctx.hub.before_actions is not None and ctx.hub.wants_actions(kinds):
        await ctx.hub.before_actions()
    return StreamingResponse(
        ctx.hub.stream(kinds),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def devices(request: Request) -> Response:
    """``GET /devices``: as ``samoorg device list --json``."""
    from samoorg.node.actions.devices import devices_shape

    ctx = _ctx(request)
    return _json(request, devices_shape(ctx.live.views, ctx.device))


async def openapi(request: Request) -> Response:
    """``GET /openapi.json``: the OpenAPI 3.1 document of this API (encoded once: it is
    the same for the process's life and names no participant)."""
    return Response(_openapi_bytes(), media_type="application/json")


@functools.cache
def _openapi_bytes() -> bytes:
    from samoorg.node.api.openapi import document

    response = JSONResponse(shapes.jsonable(document()))
    return bytes(response.body)


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
    rows = utility_rows_of(ctx)
    start, stop, cursor = page_of(len(rows), page)
    social = ctx.live.social(ctx.me)
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


async def listings(request: Request) -> Response:
    """``GET /listings``: a page of ``samoorg listing search --json`` (same filters; ``q``)."""
    from samoorg.node.api import portal_shapes

    ctx = _ctx(request)
    query = portal_shapes.listing_query(request.query_params, now_ms(), ctx.live.views)
    page = page_request(request.query_params)
    items, cursor = portal_shapes.search_page(
        ctx.store, ctx.live.views, query, page.position or 0, page.limit
    )
    return _page(request, items, cursor)


async def listing(request: Request) -> Response:
    """``GET /listings/{id}``: as ``samoorg listing show ID --json`` (id or unique prefix)."""
    from samoorg.crdt.kinds.listings import LISTING
    from samoorg.node.api import portal_shapes

    ctx = _ctx(request)
    entry = _entry(ctx, request.path_params["id"], LISTING)
    views = ctx.live.views
    held = portal_shapes.held_listing(views, entry)
    return _json(request, portal_shapes.listing_detail_json(views, held, now_ms()))


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


NOTES_HEADER: Final = "samoorg-notes"
"""The header of a write's remarks for a person: a JSON list of strings (ASCII-escaped)."""


async def _json_body(request: Request) -> object:
    """The request's JSON value; an empty body is ``{}`` (an action without fields)."""
    raw = await request.body()
    if not raw:
        return {}
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(
            "unsupported_media_type", f"expected Content-Type application/json, found {media!r}"
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError("bad_json", f"expected a JSON body, found invalid JSON ({exc})") from None


def action_handler(chosen: Action) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one write action: the body's fields, the action, its shape (201)."""

    async def handle(request: Request) -> Response:
        ctx = _ctx(request)
        body = await _json_body(request)
        ctx.live.refresh()  # entries another process stored just before (its ids may be named)
        done = chosen.call(
            ctx.actor(), check_body(chosen.fields, body), request.path_params.get("id")
        )
        ctx.stored()
        if chosen.peer_book:
            ctx.peers_changed()
        headers = {NOTES_HEADER: json.dumps(list(done.notes))} if done.notes else None
        return _json(request, done.shape, chosen.status, headers)

    handle.__doc__ = f"``{chosen.method.upper()} {chosen.path}``: {chosen.summary}"
    return handle


async def pledge(request: Request) -> Response:
    """``GET /pledges/{id}``: one pledge's row, as an item of ``samoorg pledge list --json``."""
    from samoorg.node.actions import pledges as pledge_actions

    ctx = _ctx(request)
    return _json(request, pledge_actions.show(ctx.actor(), pledge=request.path_params["id"]))


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
    entry = _entry(ctx, request.path_params["id"])
    views = ctx.live.views
    return _json(
        request, shapes.appeal_detail(views, shapes.held_appeal(views, entry, kind), now_ms())
    )


async def invites(request: Request) -> Response:
    """``GET /invites``: a page of ``samoorg invite list --json`` (sent and accepted)."""
    ctx = _ctx(request)
    page = page_request(request.query_params)
    listed = invites_of(ctx)
    start, stop, cursor = page_of(len(listed), page)
    at = now_ms()
    return _page(request, [shapes.invite_row(*invite, at) for invite in listed[start:stop]], cursor)


def invites_of(ctx: ApiContext) -> list[tuple[InviteOutcome, str, bytes | None]]:
    """Every invite of ``GET /invites`` (sent and accepted), remembered."""
    live = ctx.live
    return live.memo(
        ("invites",), TrustState.kinds, lambda: shapes.listed_invites(live.views, ctx.me)
    )


async def web_login(request: Request) -> Response:
    """``POST /web/login``: a one-time link that opens a session of the web organizer."""
    ctx = _ctx(request)
    secret = ctx.sessions.issue()
    base = f"{request.url.scheme}://{request.url.netloc}"
    return _json(request, {"url": f"{base}/login?once={secret}", "expires_in": int(LINK_TTL)}, 201)


# -- agreement history, blame, members, distribution --------------------------------


def _held_agreement(ctx: ApiContext, prefix: str) -> Agreement:
    from samoorg.crdt.kinds.agreements import AGREEMENT_NEW as NEW

    return shapes.held_agreement(ctx.live.views, _entry(ctx, prefix, NEW))


async def agreement_history(request: Request) -> Response:
    """``GET /agreements/{id}/history``: ``samoorg agreement history --json`` as ``items``."""
    from samoorg.node.api.agreement_shapes import history_json, titled

    ctx = _ctx(request)
    agreement = _held_agreement(ctx, request.path_params["id"])
    return _json(request, titled(agreement, history_json(ctx.live.views, agreement)))


async def agreement_blame(request: Request) -> Response:
    """``GET /agreements/{id}/blame``: ``samoorg agreement blame --json`` as ``items``."""
    from samoorg.node.api.agreement_shapes import blame_json, titled

    ctx = _ctx(request)
    agreement = _held_agreement(ctx, request.path_params["id"])
    return _json(request, titled(agreement, blame_json(ctx.live.views, agreement)))


async def members(request: Request) -> Response:
    """``GET /members``: ``samoorg members --json`` as ``items``, or one agreement's acceptances."""
    from samoorg.crdt.kinds.agreements import AgreementState
    from samoorg.node.api.agreement_shapes import acceptances_json, members_json

    ctx = _ctx(request)
    prefix = request.query_params.get("agreement")
    live = ctx.live
    if prefix is not None:
        return _json(request, acceptances_json(live.views, _held_agreement(ctx, prefix)))
    page = page_request(request.query_params)
    items = live.memo(("members",), AgreementState.kinds, lambda: members_json(live.views))
    start, stop, cursor = page_of(len(items), page)
    return _page(request, items[start:stop], cursor)


async def distribute(request: Request) -> Response:
    """``GET /distribute?amount=&currency=``: as ``samoorg distribute AMOUNT CURRENCY --json``."""
    from samoorg.crdt.algorithms.money import Amount

    ctx = _ctx(request)
    query = request.query_params
    amount, currency = query.get("amount"), query.get("currency")
    if amount is None or currency is None or len(amount) > 40 or len(currency) > 3:
        raise ApiError("invalid_parameter", "expected amount and currency (e.g. 1000 and EUR)")
    total = Amount.parse(amount, currency)
    social = ctx.live.social(ctx.me)
    org = query.get("org")
    if org is None:
        return _json(request, shapes.distribute_json(social, total))
    from samoorg.node.api.org_shapes import org_distribute_json

    return _json(request, org_distribute_json(ctx.live.views, social, org, total))


async def orgs(request: Request) -> Response:
    """``GET /orgs``: ``samoorg org list --json`` (``member=`` only that participant's)."""
    from samoorg.node.api.org_shapes import org_json

    ctx = _ctx(request)
    member = _member(ctx, request.query_params.get("member"))
    views = ctx.live.views
    held = views.orgs.orgs() if member is None else views.orgs.of_member(member)
    start, stop, cursor = page_of(len(held), page_request(request.query_params))
    items = [org_json(org) for org in held[start:stop]]
    return _json(request, {"items": items, "next_cursor": cursor})


async def org(request: Request) -> Response:
    """``GET /orgs/{id}``: as ``samoorg org show ORG --json`` (id, 6+ hex digits, or name)."""
    from samoorg.node.api.org_shapes import held_org, org_detail_json

    ctx = _ctx(request)
    views = ctx.live.views
    held = held_org(views, request.path_params["id"])
    social = ctx.live.social(ctx.me)
    return _json(request, org_detail_json(views, social, held, now_ms()))
