"""The forum: ideas with their comments and ratings; post, comment, rate.

``GET /forum`` lists ideas (``?sort=utility`` the most supported first, as
``samoorg idea list``, or ``recent``) with a form to post one; the list is a
live section (``static/live.js``): when the event stream says an idea,
comment or rating arrived, from this browser or another node, the page
fetches itself again and swaps the list in, so a new idea appears without a
reload. ``GET /forum/{id}`` shows one
idea (``samoorg idea show``), its ratings and comments, and the forms to
comment and to rate it. The actions are the CLI's
(:mod:`samoorg.node.actions.forum`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.crdt.framework.errors import MalformedInput
from samoorg.node.actions import forum as actions
from samoorg.node.api.shapes import idea_detail, idea_order, idea_summary, jsonable
from samoorg.node.daemon_views import SOCIAL_KINDS
from samoorg.node.web import forms
from samoorg.node.web.acting import field_of, show, start_param, submit, window
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.node.actions import Actor, Done
    from samoorg.node.web.acting import Shown
    from samoorg.node.web.forms import Form, Refusal

SORTS: Final = ("utility", "recent")
SCORES: Final = range(6)
Fields = Mapping[str, tuple[str, ...]]


def _sort(request: Request) -> str:
    sort = request.query_params.get("sort", SORTS[0])
    return sort if sort in SORTS else SORTS[0]


def _list_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    live = ctx.live
    social = live.social(ctx.me)
    sort = _sort(request)
    order = live.memo(("ideas", sort), SOCIAL_KINDS, lambda: idea_order(social, sort))
    shown, win = window(order, start_param(request))
    return {
        "ideas": [jsonable(idea_summary(social, i)) for i in shown],
        "window": win,
        "sort": sort,
        "sorts": SORTS,
        "me": peer_id(ctx.me),
    }


async def forum(request: Request) -> Response:
    """``GET /forum`` (``?sort=``, ``?start=``)."""
    return show(request, "forum.html", _list_values(request), active="forum")


def _idea_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    actor = forms.actor(request)
    entry = actions.held_idea(actor, request.path_params["id"])
    social = ctx.live.social(ctx.me)
    return {
        "idea": jsonable(idea_detail(social, entry.id)),
        "scores": SCORES,
        "me": peer_id(ctx.me),
    }


async def idea(request: Request) -> Response:
    """``GET /forum/{id}``: one idea with its ratings and comments."""
    return show(request, "idea.html", _idea_values(request), active="forum")


def _refused(template: str, values: Callable[[Request], dict[str, Any]], fields: Fields) -> Shown:
    def shown(request: Request, form: Form, refusal: Refusal) -> Response:
        field = field_of(refusal.message, fields)
        return show(
            request,
            template,
            values(request),
            active="forum",
            refusal=refusal,
            field=field,
            typed=form.values,
        )

    return shown


def _to_idea(request: Request) -> Callable[[Done, Form], str]:
    return lambda _done, _form: request.url.path.rsplit("/", 1)[0]


async def post(request: Request) -> Response:
    """``POST /forum``: title and body of a new idea."""

    def run(actor: Actor, form: Form) -> Done:
        return actions.idea_post(actor, title=form.get("title"), body=form.get("body"))

    refused = _refused("forum.html", _list_values, {"title": (), "body": ("body",)})
    return await submit(request, run, lambda _done, _form: "/forum?sort=recent", refused)


async def comment(request: Request) -> Response:
    """``POST /forum/{id}/comment``: the comment's text."""
    ref = request.path_params["id"]

    def run(actor: Actor, form: Form) -> Done:
        return actions.comment(actor, idea=ref, text=form.get("text"))

    refused = _refused("idea.html", _idea_values, {"text": ()})
    return await submit(request, run, _to_idea(request), refused)


async def rate(request: Request) -> Response:
    """``POST /forum/{id}/rate``: a score 0 to 5 and an optional comment."""
    ref = request.path_params["id"]

    def run(actor: Actor, form: Form) -> Done:
        return actions.rate(
            actor, subject=ref, score=score(form.get("score")), comment=form.get("comment")
        )

    refused = _refused("idea.html", _idea_values, {"score": (), "comment": ("comment",)})
    return await submit(request, run, _to_idea(request), refused)


def score(text: str) -> int:
    """The score field as the CLI reads its SCORE argument (an integer; the rules judge it)."""
    if not text.lstrip("-").isdigit() or len(text) > 3:
        raise MalformedInput(f"expected a score 0 to 5, found {text!r}")
    return int(text)


ROUTES: Final = [
    Route("/forum", forum),
    Route("/forum", post, methods=["POST"]),
    Route("/forum/{id}", idea),
    Route("/forum/{id}/comment", comment, methods=["POST"]),
    Route("/forum/{id}/rate", rate, methods=["POST"]),
]
