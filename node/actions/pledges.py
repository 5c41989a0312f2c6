"""Pledge actions: intend, revise, withdraw, commit, and the beneficiary's fulfil / forgive.

Every action answers the pledge's row (:func:`~samoorg.node.api.shapes.pledge_row`,
the shape of ``samoorg pledge list --json`` items) as it is after the record.
A pledge is named by the id (or a unique prefix) of its intention or of any
record about it. The views judge each record (who may revise, commit or
confirm, in which state): their reason is the refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds.pledges import COMMIT, FORGIVE, FULFIL, INTEND, OPEN, REVISE, WITHDRAW
from samoorg.node.actions import Actor, Done, now
from samoorg.node.api.shapes import pledge_row
from samoorg.node.errors import NotFound
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.crdt.kinds.pledges import PledgeOutcome
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

PLEDGE_KINDS = (INTEND, REVISE, WITHDRAW, COMMIT, FULFIL, FORGIVE)


def find(actor: Actor, pledge: str) -> PledgeOutcome:
    """The pledge named by the id (or a unique prefix) of one of its records."""
    entry = actor.entry(pledge, *PLEDGE_KINDS)
    pledge_id = entry.id if entry.kind == INTEND else entry.body.get("pledge")
    outcome = actor.views.pledges.pledge(pledge_id) if isinstance(pledge_id, bytes) else None
    if outcome is None or outcome.intend is None:
        raise NotFound(f"no pledge with id starting {pledge}")
    return outcome


def row(actor: Actor, pledge_id: bytes) -> dict[str, Any]:
    """The pledge's row as the views hold it now."""
    outcome = actor.views.pledges.pledge(pledge_id)
    if outcome is None:
        raise NotFound(f"no pledge with id {pledge_id.hex()}")
    return pledge_row(actor.views, outcome, now())


def show(actor: Actor, *, pledge: str) -> dict[str, Any]:
    """The row of the pledge named by ``pledge`` (a read: ``GET /pledges/{id}``)."""
    return row(actor, find(actor, pledge).id)


def _written(actor: Actor, pledge_id: bytes, entry: Entry) -> Done:
    return Done(row(actor, pledge_id), (entry,))


def intend(
    actor: Actor,
    *,
    amount: Amount,
    to: str | None = None,
    request: str | None = None,
    initiative: str | None = None,
    listing: str | None = None,
    force: bool = False,
) -> Done:
    """Record an intention of ``amount`` to a participant, a help request or an initiative.

    With ``listing`` (a portal listing it pays or gives for), ``to`` defaults to
    the listing's author (:func:`samoorg.node.actions.portal.deal_fields`).
    A participant never seen here is refused unless ``force`` (:func:`check_known`).
    """
    from samoorg.crdt.framework.errors import MalformedInput
    from samoorg.crdt.framework.fields import amount_fields
    from samoorg.crdt.kinds.pledges import INITIATIVE, REQUEST

    body: dict[str, dcbor.Value] = dict(amount_fields(amount))
    if listing is not None and request is None and initiative is None:
        from samoorg.node.actions.portal import deal_fields

        body.update(deal_fields(actor, listing, to))
    elif sum(t is not None for t in (to, request, initiative)) != 1 or listing is not None:
        raise MalformedInput("expected exactly one of --to, --request or --initiative")
    elif to is not None:
        body["to"] = actor.member(to)
    elif request is not None:
        body["request"] = actor.entry(request, REQUEST).id
    elif initiative is not None:
        body["initiative"] = actor.entry(initiative, INITIATIVE).id
    beneficiary = body.get("to")
    if isinstance(beneficiary, bytes):
        check_known(actor, beneficiary, force)
    entry = actor.write(INTEND, body)
    return _written(actor, entry.id, entry)


def check_known(actor: Actor, key: bytes, force: bool) -> None:
    """Refuse a pledge to someone never seen here, unnamed and not on our trust list, unless forced.

    A mistyped id would otherwise make a promise that nobody can ever settle.
    """
    me = actor.me
    names = actor.names()
    if force or key == me or key in names.known or key in names.petnames:
        return
    if key in actor.views.trust.members(me):
        return
    raise RuleViolation(
        f"{peer_id(key)} was never seen here and is not on your trust list: check the id "
        "(a promise to a mistyped one can never be settled), or pass --force"
    )


def revise(actor: Actor, *, pledge: str, amount: str) -> Done:
    """Change an intention's amount (``amount`` text, in the pledge's currency)."""
    from samoorg.crdt.algorithms.money import Amount

    outcome = find(actor, pledge)
    new = Amount.parse(amount, outcome.currency)
    return _written(
        actor, outcome.id, actor.write(REVISE, {"pledge": outcome.id, "amount": new.minor})
    )


def withdraw(actor: Actor, *, pledge: str) -> Done:
    """Withdraw an intention (a commitment cannot be withdrawn)."""
    outcome = find(actor, pledge)
    return _written(actor, outcome.id, actor.write(WITHDRAW, {"pledge": outcome.id}))


def commit(actor: Actor, *, pledge: str, due: int | None = None, force: bool = False) -> Done:
    """Turn an intention of ours into an irrevocable commitment, due at ``due`` (ms) if given.

    An open intention to a participant never seen here is refused unless ``force``.
    """
    outcome = find(actor, pledge)
    if outcome.beneficiary is not None and outcome.state == OPEN:
        # Only a commitment that the rules would record (they say why not otherwise).
        check_known(actor, outcome.beneficiary, force)
    body: dict[str, dcbor.Value] = {"pledge": outcome.id}
    if due is not None:
        body["due"] = due
    return _written(actor, outcome.id, actor.write(COMMIT, body))


def fulfil(actor: Actor, *, pledge: str) -> Done:
    """Confirm, as its beneficiary, that a commitment was fulfilled."""
    return _close(actor, pledge, FULFIL)


def forgive(actor: Actor, *, pledge: str) -> Done:
    """Release, as its beneficiary, the giver from a commitment."""
    return _close(actor, pledge, FORGIVE)


def _close(actor: Actor, pledge: str, kind: str) -> Done:
    outcome = find(actor, pledge)
    if outcome.commit is None:
        raise RuleViolation(
            f"pledge {outcome.id.hex()[:12]} is not a commitment (it is {outcome.state})"
        )
    body = {"pledge": outcome.id, "commitment": outcome.commit.id}
    return _written(actor, outcome.id, actor.write(kind, body))
