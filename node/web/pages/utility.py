"""Ratings and utility: each member's utility, the distribution as a chart, a split preview.

``GET /utility`` shows the rows of ``samoorg utility`` (a page of them), a
bar chart of the whole distribution (members highest first, grouped into
bars beyond :data:`~samoorg.node.web.charts.MAX_BARS`), the latest ratings,
and a form to rate a member. ``?amount=1000&currency=EUR`` adds the
``samoorg distribute`` preview: the amount split in proportion to utility by
the largest remainder, exactly, in minor units (the shares add up to the
amount). A preview stores nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.algorithms.shares import distribute
from samoorg.node.actions import forum as actions
from samoorg.node.api.shapes import (
    jsonable,
    rating_rows,
    utility_rows,
    utility_summary,
)
from samoorg.node.daemon_views import SOCIAL_KINDS
from samoorg.node.web.acting import field_of, show, start_param, submit, window
from samoorg.node.web.charts import bars_of, distribution_svg
from samoorg.node.web.forms import Refusal, attempt
from samoorg.node.web.i18n import translate
from samoorg.node.web.pages.forum import score
from samoorg.node.web.render import request_lang
from samoorg.node.web.site import context
from samoorg.protocol.ids import parse_peer_id, peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.node.actions import Actor, Done
    from samoorg.node.web.forms import Form

MAX_RATINGS: Final = 25
PREVIEW_ROWS: Final = 50


def _values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    live = ctx.live
    social = live.social(ctx.me)
    rows = live.memo(("utility",), SOCIAL_KINDS, lambda: utility_rows(social))
    summary = live.memo(("web.utility_summary",), SOCIAL_KINDS, lambda: utility_summary(social))
    lang = request_lang(request)
    chart = live.memo(
        ("web.utility_chart", lang),
        SOCIAL_KINDS,
        lambda: distribution_svg(
            bars_of([(r["id"], r["utility"], f"{r['id']} {r['utility_percent']} %") for r in rows]),
            translate(lang, "utility.chart_title"),
            translate(lang, "utility.chart_axis"),
        ),
    )
    ratings = live.memo(("ratings",), SOCIAL_KINDS, lambda: rating_rows(live.views, social))
    shown, win = window(rows, start_param(request))
    values: dict[str, Any] = {
        "rows": shown,
        "window": win,
        "summary": summary,
        "chart": chart,
        "ratings": jsonable(ratings[-MAX_RATINGS:][::-1]),
        "ratings_total": len(ratings),
        "me": peer_id(ctx.me),
    }
    return values


async def utility(request: Request) -> Response:
    """``GET /utility`` (``?amount=&currency=`` for the distribute preview)."""
    preview = _preview(request)
    refusal = preview if isinstance(preview, Refusal) else None
    values = {**_values(request), "preview": None if refusal is not None else preview}
    field = field_of(refusal.message, {"amount": (), "currency": ("currency",)}) if refusal else ""
    return show(
        request,
        "utility.html",
        values,
        active="utility",
        refusal=refusal,
        field=field,
        typed=request.query_params,
    )


def _preview(request: Request) -> dict[str, Any] | Refusal | None:
    """The distribute preview asked for, its refusal, or None when none is asked for.

    The split is over every member (``samoorg distribute``); the page shows the
    first :data:`PREVIEW_ROWS` shares and the total of all of them.
    """
    amount_text = request.query_params.get("amount")
    if amount_text is None:
        return None
    ctx = context(request)
    live = ctx.live
    social = live.social(ctx.me)
    rows = live.memo(("utility",), SOCIAL_KINDS, lambda: utility_rows(social))
    currency = request.query_params.get("currency", "")

    def split() -> dict[str, Any]:
        total = Amount.parse(amount_text, currency)
        shares = distribute(total, social.utility.utility)
        every = sum(share.minor for share in shares.values())
        shown = [
            {
                "id": row["id"],
                "utility_percent": row["utility_percent"],
                "share": shares[parse_peer_id(row["id"])].format(),
            }
            for row in rows[:PREVIEW_ROWS]
        ]
        return {
            "currency": total.currency,
            "shares": shown,
            "members": len(rows),
            "total": Amount(total.currency, every).format(),
        }

    return attempt(split)


def _refused(request: Request, form: Form, refusal: Refusal) -> Response:
    member = refusal.name in {"not_found", "ambiguous", "malformed"}
    field = "score" if "score" in refusal.message or not member else "member"
    values = {**_values(request), "preview": None}
    return show(
        request,
        "utility.html",
        values,
        active="utility",
        refusal=refusal,
        field=field,
        typed=form.values,
    )


async def rate_member(request: Request) -> Response:
    """``POST /utility/rate``: rate a participant 0 to 5, with a comment."""

    def run(actor: Actor, form: Form) -> Done:
        return actions.rate(
            actor,
            subject=form.get("member"),
            score=score(form.get("score")),
            comment=form.get("comment"),
        )

    return await submit(request, run, lambda _done, _form: "/utility", _refused)


ROUTES: Final = [
    Route("/utility", utility),
    Route("/utility/rate", rate_member, methods=["POST"]),
]
