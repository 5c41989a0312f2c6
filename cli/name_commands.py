"""Petnames: ``name set/list/remove``, local names for participants that never leave the node.

A petname is stored in the peer book (``node/peerbook.py``), not in the feed:
no peer ever sees it. It is preferred over the participant's self-chosen
profile name everywhere a participant is shown or typed (``node/names.py``).
Two participants cannot have the same petname here; a petname equal to
someone else's self-chosen name is allowed and shown as a collision (``!``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from samoorg.cli.context import session
from samoorg.cli.output import print_json, print_table

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
WhoArgument = Annotated[
    str, typer.Argument(metavar="ID", help="A participant: id, 6+ characters of it, or a name.")
]

name_app = typer.Typer(
    help="Your own names for participants (never shared with anyone).", no_args_is_help=True
)


@name_app.command("set")
def name_set(
    ctx: typer.Context,
    who: WhoArgument,
    name: Annotated[str, typer.Argument(help="The name you give them (at most 40 characters).")],
    as_json: JsonFlag = False,
) -> None:
    """Give a participant a name of your own; it replaces their self-chosen name for you."""
    from samoorg.cli.community import act

    state = session(ctx)
    done = act(state, "name.set", {"id": who, "name": name})
    state.forget_names()  # the answer names them by the new name, as the daemon's does
    if as_json:
        print_json(done.shape)
        return
    typer.echo(f"{done.shape['petname']} is now {done.shape['id']}")


@name_app.command("remove")
def name_remove(ctx: typer.Context, who: WhoArgument, as_json: JsonFlag = False) -> None:
    """Forget the name you gave a participant."""
    from samoorg.cli.community import act

    state = session(ctx)
    done = act(state, "name.remove", {"id": who})
    state.forget_names()
    if as_json:
        print_json(done.shape)
        return
    typer.echo(f"removed the name of {done.shape['id']}")


@name_app.command("list")
def name_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every named participant: your petname, their self-chosen name, collisions (!)."""
    from samoorg.node.names import directory, short_id
    from samoorg.protocol.ids import parse_peer_id

    state = session(ctx)
    rows = directory(state.names())
    if as_json:
        print_json({"items": rows})
        return
    if not rows:
        typer.echo("nobody is named yet (samoorg name set ID NAME, or profiles arrive)")
        return
    print_table(
        None,
        ["name", "petname", "self-chosen", "id", "collides"],
        [
            (
                r["name"],
                r["petname"] or "",
                r["chosen"] or "",
                short_id(parse_peer_id(r["id"])),
                "yes" if r["collides"] else "",
            )
            for r in rows
        ],
    )


def register(app: typer.Typer) -> None:
    """Attach ``name`` to the root app."""
    app.add_typer(name_app, name="name")
