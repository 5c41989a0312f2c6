"""Profile commands: ``profile set`` (your own) and ``profile show`` (anyone's).

A profile is one signed ``profile`` record (``crdt/kinds/profiles.py``,
docs/protocol.md §8.12) that replaces the previous one entirely; ``set``
starts from your current profile, so the options you leave out keep their
values. ``set`` is the ``profile.set`` action (``node/actions/profiles.py``,
``POST /profiles`` through the daemon when it runs); ``show`` asks the daemon
when it runs (``GET /profiles/{id}``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from samoorg.cli.community import act, load_views
from samoorg.cli.context import session
from samoorg.cli.output import format_time, print_json

if TYPE_CHECKING:
    from samoorg.node.names import Names

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

profile_app = typer.Typer(
    help="Your profile (name, contacts, how you are doing) and others'.", no_args_is_help=True
)


@profile_app.command("set")
def profile_set(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option("--name", help="Your display name (1 to 64 characters).")
    ] = None,
    about: Annotated[str | None, typer.Option("--about", help="A few words about you.")] = None,
    contact: Annotated[
        list[str] | None,
        typer.Option(
            "--contact",
            metavar="TYPE=VALUE",
            help="email, phone, telegram, address or url (repeatable; replaces your contacts).",
        ),
    ] = None,
    no_contacts: Annotated[
        bool, typer.Option("--no-contacts", help="Remove all your contacts.")
    ] = False,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="fine, support (needs regular support) or urgent (needs urgent help)."
        ),
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", help="What your status is about.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Publish your profile; options you leave out keep their current values."""
    if contact and no_contacts:
        raise typer.BadParameter("expected --contact or --no-contacts, not both")
    given = {"name": name, "about": about, "contacts": contact, "status": status}
    body: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if message is not None:
        body["message"] = message
    if no_contacts:
        body["no_contacts"] = True
    state = session(ctx)
    shown = act(state, "profile.set", body).shape
    if as_json:
        print_json(shown)
        return
    _print(state.names(), shown)


@profile_app.command("show")
def profile_show(
    ctx: typer.Context,
    who: Annotated[
        str | None,
        typer.Argument(metavar="[ID]", help="A participant: id, 6+ characters of it, or a name."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a participant's profile (yours without ID)."""
    from samoorg.node.api.shapes import profile_json
    from samoorg.protocol.ids import peer_id

    state = session(ctx)
    wanted = who if who is not None else peer_id(state.public_key())

    def local() -> dict[str, Any]:
        return profile_json(load_views(state), state.resolve_member(wanted))

    shown = state.ask(lambda daemon: daemon.get(f"/profiles/{quote(wanted, safe='')}"), local)
    if as_json:
        print_json(shown)
        return
    _print(state.names(), shown)


def _print(names: Names, shown: dict[str, Any]) -> None:
    typer.echo(f"{names.label_text(shown['id'], you=False)}{'  FORKED' if shown['forked'] else ''}")
    typer.echo(f"id       {shown['id']}")
    if shown["entry"] is None:
        typer.echo("no profile published yet")
        return
    typer.echo(f"name     {shown['display_name']} (self-chosen)")
    typer.echo(
        f"status   {shown['status_label']}" + (f": {shown['message']}" if shown["message"] else "")
    )
    if shown["about"]:
        typer.echo(f"about    {shown['about']}")
    for item in shown["contacts"]:
        typer.echo(f"{item['type']:<8} {item['value']}")
    typer.echo(f"updated  {format_time(shown['updated'])} UTC")


def register(app: typer.Typer) -> None:
    """Attach ``profile`` to the root app."""
    app.add_typer(profile_app, name="profile")
