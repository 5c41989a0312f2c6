"""Help requests and initiatives: lists, detail with progress, propose one, back one.

``GET /requests`` lists both (the rows of ``samoorg request list`` and
``samoorg initiative list``) with a progress bar of the live intentions
(pledged: intentions, commitments and fulfilled ones) against the goal, the
backers, the deadline and the status. ``GET /requests/{id}`` and
``GET /initiatives/{id}`` show one, its backers (released ones too, as
``show`` does) and a form to back it with an intention in its currency.
Forms: ask for help, propose an initiative, back, close one's own. The
actions are those of the CLI (:mod:`samoorg.node.actions`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.kinds.pledges import INITIATIVE, REQUEST, PledgeState
from samoorg.node.actions import appeals, pledges
from samoorg.node.api.shapes import appeal_detail, appeal_row, held_appeal, jsonable
from samoorg.node.store import now_ms
from samoorg.node.web.acting import field_of, future_time, show, start_param, submit, window
from samoorg.node.web.charts import progress_percent
from samoorg.node.web.site import context, remembered
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.pledges import Appeal
    from samoorg.node.actions import Actor, Done
    from samoorg.node.web.acting import Shown
    from samoorg.node.web.forms import Form, Refusal

PATHS: Final = {REQUEST: "/requests", INITIATIVE: "/initiatives"}
LABEL: Final = {REQUEST: "request", INITIATIVE: "initiative"}
ROWS_SECONDS: Final = 5.0


def _row(views: Views, appeal: Appeal, at: int, detail: bool = False) -> dict[str, Any]:
    """The appeal's row (or detail) with ``progress``: live intentions against the goal, in %."""
    row: dict[str, Any] = jsonable((appeal_detail if detail else appeal_row)(views, appeal, at))
    row["progress"] = progress_percent(appeal.totals.pledged, appeal.goal)
    return row


async def listing(request: Request) -> Response:
    """``GET /requests``: help requests, then initiatives, each a page."""
    return show(request, "requests.html", _list_values(request), active="requests")


def _list_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    live, at = ctx.live, now_ms()
    start = start_param(request)
    found: dict[str, Any] = {"me": peer_id(ctx.me)}
    for kind, name in ((REQUEST, "requests"), (INITIATIVE, "initiatives")):
        listed = live.memo(
            ("appeals", kind), PledgeState.kinds, partial(live.views.pledges.appeals, kind)
        )
        first = start if name == request.query_params.get("list") else 0
        shown, win = window(listed, first)

        def rows(shown: list[Appeal] = shown) -> list[dict[str, Any]]:
            return [_row(live.views, a, at) for a in shown]

        # A row's status moves with the clock (a deadline passes): the first page is
        # remembered for ROWS_SECONDS at most; later pages are made when asked for.
        if win.start == 0:
            found[name] = remembered(
                request, ("requests", kind), PledgeState.kinds, ROWS_SECONDS, rows
            )
        else:
            found[name] = rows()
        found[f"{name}_window"] = win
    return found


def _detail_values(request: Request, kind: str) -> dict[str, Any]:
    ctx = context(request)
    views = ctx.live.views
    entry = ctx.actor().entry(request.path_params["id"])  # ambiguity names the authors
    row = _row(views, held_appeal(views, entry, kind), now_ms(), detail=True)
    me = peer_id(ctx.me)
    row["mine"] = row["author"] == me
    return {"appeal": row, "kind": LABEL[kind], "me": me}


def _kind(request: Request) -> str:
    return REQUEST if request.url.path.startswith("/requests") else INITIATIVE


async def detail(request: Request) -> Response:
    """``GET /requests/{id}`` or ``GET /initiatives/{id}``: one of them, with its backers."""
    return show(request, "appeal.html", _detail_values(request, _kind(request)), active="requests")


def _list_refused(fields: dict[str, tuple[str, ...]]) -> Shown:
    def shown(request: Request, form: Form, refusal: Refusal) -> Response:
        return show(
            request,
            "requests.html",
            _list_values(request),
            active="requests",
            refusal=refusal,
            field=field_of(refusal.message, fields),
            typed=form.values,
        )

    return shown


def _detail_refused(field: str) -> Shown:
    def shown(request: Request, form: Form, refusal: Refusal) -> Response:
        values = _detail_values(request, _kind(request))
        return show(
            request,
            "appeal.html",
            values,
            active="requests",
            refusal=refusal,
            field=field,
            typed=form.values,
        )

    return shown


def _to_created(created: Done, _: Form) -> str:
    return f"{PATHS[REQUEST if 'reason' in created.shape else INITIATIVE]}/{created.shape['id']}"


async def request_create(request: Request) -> Response:
    """``POST /requests``: amount, currency, reason, monthly."""

    def run(actor: Actor, form: Form) -> Done:
        amount = Amount.parse(form.get("amount"), form.get("currency"))
        return appeals.request_create(
            actor, amount=amount, reason=form.get("reason"), monthly=form.get("monthly") == "yes"
        )

    fields = {"amount": (), "currency": ("currency",), "reason": ("reason",)}
    return await submit(request, run, _to_created, _list_refused(fields))


async def initiative_propose(request: Request) -> Response:
    """``POST /initiatives``: title, goal, currency, description, deadline."""

    def run(actor: Actor, form: Form) -> Done:
        goal = Amount.parse(form.get("goal"), form.get("goal_currency"))
        text = form.get("deadline")
        deadline = future_time(text, now_ms(), "a deadline") if text else None
        return appeals.initiative_propose(
            actor,
            title=form.get("title"),
            goal=goal,
            description=form.get("description"),
            deadline=deadline,
        )

    fields = {
        "goal": (),
        "goal_currency": ("currency",),
        "deadline": ("deadline", "date"),
        "title": ("title",),
        "description": ("description",),
    }
    return await submit(request, run, _to_created, _list_refused(fields))


def _to_detail(request: Request) -> Callable[[Done, Form], str]:
    return lambda _done, _form: request.url.path.rsplit("/", 1)[0]


async def back(request: Request) -> Response:
    """``POST /requests/{id}/back`` or ``/initiatives/{id}/back``: an intention for it."""
    kind, ref = _kind(request), request.path_params["id"]

    def run(actor: Actor, form: Form) -> Done:
        appeal = _detail_values(request, kind)["appeal"]
        amount = Amount.parse(form.get("amount"), next(iter(appeal["goal"])))
        return pledges.intend(actor, amount=amount, **{LABEL[kind]: ref})

    return await submit(request, run, _to_detail(request), _detail_refused("amount"))


async def close(request: Request) -> Response:
    """``POST /requests/{id}/close`` or ``/initiatives/{id}/close``: the author closes it."""
    kind, ref = _kind(request), request.path_params["id"]

    def run(actor: Actor, form: Form) -> Done:
        return appeals.close(actor, kind=kind, appeal=ref, note=form.get("note"))

    return await submit(request, run, _to_detail(request), _detail_refused("note"))


ROUTES: Final = [
    Route("/requests", listing),
    Route("/requests", request_create, methods=["POST"]),
    Route("/initiatives", initiative_propose, methods=["POST"]),
    Route("/requests/{id}", detail),
    Route("/initiatives/{id}", detail),
    Route("/requests/{id}/back", back, methods=["POST"]),
    Route("/initiatives/{id}/back", back, methods=["POST"]),
    Route("/requests/{id}/close", close, methods=["POST"]),
    Route("/initiatives/{id}/close", close, methods=["POST"]),
]
