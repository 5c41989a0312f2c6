"""The ledger: outstanding commitments per pair, and the netting suggestions as cycles.

The numbers are the first page of ``samoorg ledger --json``
(:func:`~samoorg.node.api.shapes.ledger_json`, over the API's ledger index,
remembered until a pledge record arrives): each pair's
debt, each cycle of debt that could cancel out (drawn as a picture, members
on a circle, an arrow from each debtor to the member it owes) and what
remains after netting. ``?mine=1`` keeps what involves this node. Long
tables are cut to :data:`MAX_ROWS` rows and :data:`MAX_CYCLES` pictures, with
the totals said.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.crdt.kinds.pledges import PledgeState
from samoorg.node.api.routes import ledger_index_of
from samoorg.node.api.shapes import LedgerIndex, ledger_json
from samoorg.node.web.charts import CycleDrawing, cycle_svg
from samoorg.node.web.i18n import translate
from samoorg.node.web.render import money, page, request_lang
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

MAX_ROWS: Final = 50
MAX_CYCLES: Final = 12


def label(ident: str, me: str, you: str) -> str:
    """A participant as a picture names it: ``you``, or the end of the id (as chains show it)."""
    return you if ident == me else "…" + ident[-6:]


async def ledger(request: Request) -> Response:
    """``GET /ledger`` (``?mine=1``)."""
    ctx = context(request)
    mine = request.query_params.get("mine") in {"1", "true", "yes"}
    lang = request_lang(request)
    index = await ledger_index_of(ctx)  # the API's, netted in a worker thread
    values = ctx.live.memo(
        ("web.ledger", mine, lang), PledgeState.kinds, lambda: _values(request, index, mine, lang)
    )
    return page(request, "ledger.html", values, active="ledger")


def _values(request: Request, index: LedgerIndex, mine: bool, lang: str) -> dict[str, Any]:
    """What the page shows; the pictures are drawn once per change of the pledges."""
    ctx = context(request)
    body = ledger_json(ctx.live.views, index, index.rows(ctx.me, None, mine), 0, MAX_ROWS)
    me = peer_id(ctx.me)
    you = translate(lang, "common.you")
    cycles = [
        {
            "members": c["cycle"],
            "amount": c["amount"],
            "svg": cycle_svg(
                CycleDrawing(
                    [label(m, me, you) for m in c["cycle"]],
                    money(c["amount"]),
                    title=" → ".join(label(m, me, you) for m in (*c["cycle"], c["cycle"][0])),
                    ident=str(n),
                )
            ),
        }
        for n, c in enumerate(body["netting"][:MAX_CYCLES])
    ]
    totals = body["totals"]
    return {
        "mine": mine,
        "me": me,
        "outstanding": body["outstanding"],
        "outstanding_total": totals["outstanding"],
        "cycles": cycles,
        "cycles_total": totals["netting"],
        "after": body["after_netting"],
        "after_total": totals["after_netting"],
    }


ROUTES: Final = [Route("/ledger", ledger)]
