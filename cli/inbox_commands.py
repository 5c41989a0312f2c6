"""``samoorg inbox``: what needs your action (crdt/kinds/inbox.py decides what that is)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samoorg.cli.community import load_views, now, peer_label, totals_text
from samoorg.cli.context import Session, session
from samoorg.cli.output import count, format_time, jsonable, print_json, print_table
from samoorg.node.api.shapes import item_json

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_WHAT = {
    "commitment_overdue": "your commitment is overdue",
    "commitment_to_confirm": "commitment to you: mark fulfilled when received",
    "invite_accepted": "your invite was accepted (your node confirms it when it runs or syncs)",
    "poll_closing": "poll closing: you have not voted",
    "recovery_of_yours": "a recovery request for your own identity: veto it if it is not you",
    "recovery_to_approve": "a recovery request for someone you guard: approve once checked",
}


def inbox(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """What needs your action: invites, commitments, polls, recovery requests."""
    state = session(ctx)
    names = state.names()
    items = state.ask(lambda daemon: list(daemon.pages("/inbox", {})), lambda: _local(state))
    if as_json:
        print_json({"items": items})
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
                _WHAT[item["kind"]] + (f" ({item['text']})" if item["text"] else ""),
                item["subject"][:12],
                peer_label(names, item["with"]),
                format_time(item["when"]) if item["when"] is not None else "",
                totals_text(item["amount"] or {}),
            )
            for item in items
        ],
    )


def _local(state: Session) -> list[Any]:
    """The items offline (the inbox's rules, and every domain they read, imported only here)."""
    from samoorg.crdt.kinds.inbox import action_items

    items = action_items(load_views(state), state.me(), now())
    return list(jsonable([item_json(i) for i in items]))


def register(app: typer.Typer) -> None:
    """Attach ``inbox`` to the root app."""
    app.command("inbox")(inbox)
