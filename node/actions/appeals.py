"""Help requests and initiatives: create, propose, close.

The answers are the rows of ``samoorg request list --json`` /
``initiative list --json`` (:func:`~samoorg.node.api.shapes.appeal_row`); a
closing adds the ids of the intentions it released. Only the author may
close, once: the views' reason is the refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samoorg.crdt.framework.fields import amount_fields
from samoorg.crdt.kinds.pledges import CLOSES, INITIATIVE, REQUEST
from samoorg.node.actions import Actor, Done, now
from samoorg.node.api.shapes import appeal_row, held_appeal

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry


def _row(actor: Actor, entry: Entry) -> Done:
    appeal = actor.views.pledges.appeal(entry.id)
    assert appeal is not None, "the views hold an appeal they accepted"
    return Done(appeal_row(actor.views, appeal, now()), (entry,))


def request_create(actor: Actor, *, amount: Amount, reason: str, monthly: bool = False) -> Done:
    """Ask the trust list for ``amount`` (every month if ``monthly``) for ``reason``."""
    body = {**amount_fields(amount), "reason": reason, "monthly": monthly}
    return _row(actor, actor.write(REQUEST, body))


def initiative_propose(
    actor: Actor,
    *,
    title: str,
    goal: Amount,
    description: str = "",
    deadline: int | None = None,
) -> Done:
    """Propose an initiative with a price ``goal``, collecting until ``deadline`` (ms)."""
    body: dict[str, dcbor.Value] = {**amount_fields(goal, "goal"), "title": title}
    if description:
        body["description"] = description
    if deadline is not None:
        body["deadline"] = deadline
    return _row(actor, actor.write(INITIATIVE, body))


def close(actor: Actor, *, kind: str, appeal: str, note: str = "") -> Done:
    """Close one's own request (``kind`` REQUEST) or initiative; its intentions are released."""
    from samoorg.crdt.kinds.pledges import RELEASED

    views = actor.views
    held = held_appeal(views, actor.entry(appeal, kind), kind)
    close_kind = next(k for k, closed in CLOSES.items() if closed == kind)
    field = "request" if kind == REQUEST else "initiative"
    body: dict[str, dcbor.Value] = {field: held.id}
    if note:
        body["note"] = note
    entry = actor.write(close_kind, body)
    released = [p for p in views.pledges.backers(held.id, released=True) if p.state == RELEASED]
    closed = views.pledges.appeal(held.id)
    assert closed is not None
    shape = {**appeal_row(views, closed, now()), "released": [p.id.hex() for p in released]}
    return Done(shape, (entry,))
