"""Polls: the question, the options, the tally of trust-list members' votes; vote, open one.

``GET /polls`` lists polls newest first (``samoorg poll list``) with a form
for a new one (options one per line, as ``--option`` repeated);
``GET /polls/{id}`` shows one (``samoorg poll show``): each option with its
votes as a bar, the leading option, the votes not counted (from outside the
trust list), and the vote form while the poll is open. A later vote
replaces an earlier one. The actions are the CLI's
(:mod:`samoorg.node.actions.polls`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.node.actions import polls as actions
from samoorg.node.actions.forum import ignored
from samoorg.node.api.shapes import jsonable, poll_order, tally_json
from samoorg.node.daemon_views import SOCIAL_KINDS
from samoorg.node.store import now_ms
from samoorg.node.web import forms
from samoorg.node.web.acting import field_of, future_time, show, start_param, submit, window
from samoorg.node.web.charts import progress_percent
from samoorg.node.web.site import context

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.node.actions import Actor, Done
    from samoorg.node.web.forms import Form, Refusal

MAX_OPTION_LINES: Final = 64


def _with_bars(poll: dict[str, Any]) -> dict[str, Any]:
    """A tally with each option's share of the counted votes (a bar's width, in %)."""
    for option in poll["options"]:
        option["bar"] = progress_percent(option["votes"], poll["votes_counted"])
    return poll


async def listing(request: Request) -> Response:
    """``GET /polls``: polls, newest first, and the form for a new one."""
    return show(request, "polls.html", _list_values(request), active="polls")


def _list_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    live = ctx.live
    social = live.social(ctx.me)
    order = live.memo(("polls",), SOCIAL_KINDS, lambda: poll_order(social))
    shown, win = window(order, start_param(request))
    at = now_ms()
    return {"polls": [jsonable(tally_json(social.tally(i), at)) for i in shown], "window": win}


def _poll_values(request: Request) -> dict[str, Any]:
    from samoorg.crdt.kinds.polls import POLL_KIND

    ctx = context(request)
    entry = forms.actor(request).entry(request.path_params["id"], POLL_KIND)
    social = ctx.live.social(ctx.me)
    if entry.id not in social.polls.polls:
        raise ignored(ctx.live.views, entry, "poll")
    tally = social.tally(entry.id)
    mine = tally.ballots.get(ctx.me)
    return {
        "poll": _with_bars(jsonable(tally_json(tally, now_ms()))),
        "my_choice": None if mine is None else mine.option + 1,
    }


async def poll(request: Request) -> Response:
    """``GET /polls/{id}``: one poll and its tally."""
    return show(request, "poll.html", _poll_values(request), active="polls")


async def vote(request: Request) -> Response:
    """``POST /polls/{id}/vote``: an option number."""
    ref = request.path_params["id"]

    def refused(request: Request, form: Form, refusal: Refusal) -> Response:
        values = _poll_values(request)
        return show(request, "poll.html", values, active="polls", refusal=refusal, field="option")

    return await submit(
        request,
        lambda actor, form: actions.vote(actor, poll=ref, option=form.get("option")),
        lambda _done, _form: f"/polls/{ref}",
        refused,
    )


def _new_refused(request: Request, form: Form, refusal: Refusal) -> Response:
    fields = {"question": (), "closes": ("closing", "date"), "options": ("option",)}
    return show(
        request,
        "polls.html",
        _list_values(request),
        active="polls",
        refusal=refusal,
        field=field_of(refusal.message, fields),
        typed=form.values,
    )


async def create(request: Request) -> Response:
    """``POST /polls``: the question, options one per line, and when it closes."""

    def run(actor: Actor, form: Form) -> Done:
        text = form.get("closes")
        closes = future_time(text, now_ms(), "a closing time") if text else None
        lines = form.values.get("options", "").splitlines()[:MAX_OPTION_LINES]
        options = [line.strip() for line in lines if line.strip()]
        return actions.poll_new(
            actor, question=form.get("question"), options=options, closes=closes
        )

    return await submit(request, run, lambda made, _: f"/polls/{made.shape['id']}", _new_refused)


ROUTES: Final = [
    Route("/polls", listing),
    Route("/polls", create, methods=["POST"]),
    Route("/polls/{id}", poll),
    Route("/polls/{id}/vote", vote, methods=["POST"]),
]
