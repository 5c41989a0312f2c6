"""``samoorg inbox``: what needs your action (crdt/inbox.py decides what that is)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from samoorg.cli.community import load_views, member_label, money, now
from samoorg.cli.context import session
from samoorg.cli.output import count, format_time, instant, print_json, print_table
from samoorg.node.api.shapes import money_json
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.inbox import ActionItem

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_WHAT = {
    "commitment_overdue": "your commitment is overdue",
    "commitment_to_confirm": "commitment to you: mark fulfilled when received",
    "invite_accepted": "your invite was accepted: confirm it",
    "poll_closing": "poll closing: you have not voted",
}


def item_json(item: ActionItem) -> dict[str, Any]:
    """The JSON shape of one action item (shared with the API)."""
    amount = item.amount
    return {
        "kind": item.kind.value,
        "subject": item.subject.hex(),
        "with": peer_id(item.other) if item.other is not None else None,
        "when": instant(item.when),
        "amount": money_json(amount.minor, amount.currency) if amount is not None else None,
        "text": item.text,
    }


def inbox(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """What needs your action: accepted invites, commitments to confirm or overdue, polls."""
    from samoorg.crdt.inbox import action_items

    state = session(ctx)
    me = state.public_key()
    items = action_items(load_views(state), me, now())
    if as_json:
        print_json([item_json(item) for item in items])
        return
    if not items:
        typer.echo("nothing needs your action")
        return
    typer.echo(f"{count(len(items), 'item')} need your action")
    print_table(
        None,
        ["what", "about", "with", "when", "amount"],
        [
            (
                _WHAT[item.kind.value] + (f" ({item.text})" if item.text else ""),
                item.subject.hex()[:12],
                member_label(item.other, me) if item.other is not None else "",
                format_time(item.when) if item.when is not None else "",
                money(item.amount),
            )
            for item in items
        ],
    )


def register(app: typer.Typer) -> None:
    """Attach ``inbox`` to the root app."""
    app.command("inbox")(inbox)
