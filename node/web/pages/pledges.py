"""The pledges page, the Exodus dispatcher: four tabs and the actions on each pledge.

Tabs (``?tab=``): my intentions, intentions in my favour, my commitments,
commitments in my favour, each a page of :func:`~samoorg.node.api.shapes.pledge_row`
rows (the rows of ``samoorg pledge list``), overdue commitments marked. The
actions are the CLI's (:mod:`samoorg.node.actions.pledges`): intend (to a
participant, a help request or an initiative), revise, withdraw, commit
(only with the box "this cannot be undone" ticked, as the CLI asks before
it commits); the intend and commit forms have the CLI's ``--force`` as a box
(a pledge to a participant never seen here and not on one's trust list is
refused without it), and, shown only to the beneficiary, fulfilled and forgive. A
refusal re-renders the tab with the reason next to the field; nothing is
stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds.pledges import (
    COMMITTED,
    FORGIVEN,
    FULFILLED,
    OPEN,
    RELEASED,
    WITHDRAWN,
    PledgeState,
)
from samoorg.node.actions import pledges as actions
from samoorg.node.api.shapes import jsonable, pledge_row
from samoorg.node.store import now_ms
from samoorg.node.web.acting import field_of, future_time, show, start_param, submit, window
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.crdt.kinds.pledges import PledgeOutcome
    from samoorg.node.actions import Actor, Done
    from samoorg.node.web.acting import Shown
    from samoorg.node.web.forms import Form, Refusal

TABS: Final = ("my_intentions", "to_me_intentions", "my_commitments", "to_me_commitments")
INTENTION_STATES: Final = frozenset({OPEN, WITHDRAWN, RELEASED})
COMMITMENT_STATES: Final = frozenset({COMMITTED, FULFILLED, FORGIVEN})
TARGETS: Final = ("to", "request", "initiative")
NOT_CONFIRMED: Final = "not committed: nothing was recorded"
"""The CLI's line when its question "commit?" is answered no."""


def tabs_of(outcomes: list[PledgeOutcome], me: bytes) -> dict[str, list[PledgeOutcome]]:
    """The pledges of each tab, newest intention first (one pass over the pledges)."""
    found: dict[str, list[PledgeOutcome]] = {tab: [] for tab in TABS}
    for outcome in outcomes:
        mine, to_me = outcome.author == me, outcome.beneficiary == me
        if not (mine or to_me):
            continue
        if outcome.state in INTENTION_STATES:
            if mine:
                found["my_intentions"].append(outcome)
            if to_me:
                found["to_me_intentions"].append(outcome)
        elif outcome.state in COMMITMENT_STATES:
            if mine:
                found["my_commitments"].append(outcome)
            if to_me:
                found["to_me_commitments"].append(outcome)
    for listed in found.values():
        listed.sort(key=_newest_first)
    return found


def _newest_first(outcome: PledgeOutcome) -> tuple[int, bytes]:
    intend = outcome.intend
    return (-intend.timestamp if intend is not None else 0), outcome.id


def _tab(request: Request) -> str:
    tab = request.query_params.get("tab", TABS[0])
    return tab if tab in TABS else TABS[0]


async def pledges(request: Request) -> Response:
    """``GET /pledges?tab=...&start=N``: one tab of the dispatcher."""
    return show(request, "pledges.html", _values(request, _tab(request)), active="pledges")


def _values(request: Request, tab: str, start: int | None = None) -> dict[str, Any]:
    ctx = context(request)
    live, me, at = ctx.live, ctx.me, now_ms()
    views = live.views
    tabs = live.memo(
        ("web.pledge_tabs", me), PledgeState.kinds, lambda: tabs_of(views.pledges.pledges(), me)
    )
    shown, win = window(tabs[tab], start_param(request) if start is None else start)
    rows = []
    for outcome in shown:
        row: dict[str, Any] = jsonable(pledge_row(views, outcome, at))
        row["mine"] = outcome.author == me
        row["to_me"] = outcome.beneficiary == me
        rows.append(row)
    return {
        "tab": tab,
        "tabs": [(name, len(tabs[name])) for name in TABS],
        "rows": rows,
        "window": win,
        "targets": TARGETS,
        "me": peer_id(me),
    }


def _form_tab(form: Form) -> str:
    tab = form.get("tab")
    return tab if tab in TABS else TABS[0]


def _refused(field: Callable[[Request, Refusal], str]) -> Shown:
    """Show the form's tab again with the refusal next to ``field(request, refusal)``."""

    def shown(request: Request, form: Form, refusal: Refusal) -> Response:
        name = field(request, refusal)
        return show(
            request,
            "pledges.html",
            _values(request, _form_tab(form), 0),
            active="pledges",
            refusal=refusal,
            field=name,
            # Only the intend form shows what was typed; a row's form is the row's.
            typed=form.values if "." not in name else {},
        )

    return shown


def _to_tab(_: Done, form: Form) -> str:
    return f"/pledges?tab={_form_tab(form)}"


def _intend_field(_: Request, refusal: Refusal) -> str:
    if refusal.name in {"not_found", "ambiguous", "bad_identifier"}:
        return "ref"
    words = {"amount": (), "currency": ("currency",), "ref": ("exactly", "never seen")}
    return field_of(refusal.message, words)


async def intend(request: Request) -> Response:
    """``POST /pledges/intend``: amount, currency, and a participant, request or initiative."""

    def run(actor: Actor, form: Form) -> Done:
        amount = Amount.parse(form.get("amount"), form.get("currency"))
        target = form.get("target")
        chosen: dict[str, Any] = {target: form.get("ref")} if target in TARGETS else {}
        return actions.intend(actor, amount=amount, force=form.get("force") == "yes", **chosen)

    return await submit(request, run, _to_tab, _refused(_intend_field))


def _row_action(
    run: Callable[[Actor, Form, str], Done], field: str
) -> Callable[[Request], Awaitable[Response]]:
    """The ``POST`` of a form on one pledge's row (``/pledges/{id}/...``)."""

    def row_field(request: Request, _: Refusal) -> str:
        return f"{request.path_params['id']}.{field}"

    async def handler(request: Request) -> Response:
        ref = request.path_params["id"]
        return await submit(
            request, lambda actor, form: run(actor, form, ref), _to_tab, _refused(row_field)
        )

    return handler


def _revise(actor: Actor, form: Form, ref: str) -> Done:

    return actions.revise(actor, pledge=ref, amount=form.get("amount"))


def _withdraw(actor: Actor, _: Form, ref: str) -> Done:

    return actions.withdraw(actor, pledge=ref)


def _commit(actor: Actor, form: Form, ref: str) -> Done:
    """Commit only with ``confirm`` ticked (the CLI's question); ``due`` optional."""

    due_text = form.get("due")
    due = future_time(due_text, now_ms(), "a due date") if due_text else None
    if form.get("confirm") != "yes":
        raise RuleViolation(NOT_CONFIRMED)
    return actions.commit(actor, pledge=ref, due=due, force=form.get("force") == "yes")


def _fulfil(actor: Actor, _: Form, ref: str) -> Done:

    return actions.fulfil(actor, pledge=ref)


def _forgive(actor: Actor, _: Form, ref: str) -> Done:

    return actions.forgive(actor, pledge=ref)


ROUTES: Final = [
    Route("/pledges", pledges),
    Route("/pledges/intend", intend, methods=["POST"]),
    Route("/pledges/{id}/revise", _row_action(_revise, "amount"), methods=["POST"]),
    Route("/pledges/{id}/withdraw", _row_action(_withdraw, "withdraw"), methods=["POST"]),
    Route("/pledges/{id}/commit", _row_action(_commit, "commit"), methods=["POST"]),
    Route("/pledges/{id}/fulfilled", _row_action(_fulfil, "close"), methods=["POST"]),
    Route("/pledges/{id}/forgive", _row_action(_forgive, "close"), methods=["POST"]),
]
