"""Organizations: ``org new|edit|invite|join|leave|remove|admin|show|list``.

An org (``crdt/kinds/orgs.py``, docs/protocol.md §8.14) has members and
admins; membership is mutual (an admin invites, the member joins) and either
side can end it. Writes are the ``org.*`` actions (``node/actions/orgs.py``,
``POST /orgs...`` through the daemon when it runs); ``show`` and ``list`` ask
the daemon when it runs (``GET /orgs/{id}``, ``GET /orgs``). An ORG argument
is the org's id, 6+ hex digits of it, or its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from samoorg.cli.community import act, load_views, now, print_notes
from samoorg.cli.context import session
from samoorg.cli.output import format_time, print_json, print_table

if TYPE_CHECKING:
    from samoorg.cli.context import Session
    from samoorg.node.names import Names

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
OrgArgument = Annotated[str, typer.Argument(help="The org: its id, 6+ hex digits of it, or name.")]
MemberArgument = Annotated[
    str, typer.Argument(help="A participant: id, 6+ characters of it, or a name.")
]
ContactOption = Annotated[
    list[str] | None,
    typer.Option(
        "--contact",
        metavar="TYPE=VALUE",
        help="email, phone, telegram, address or url (repeatable; replaces the contacts).",
    ),
]
org_app = typer.Typer(
    help="Organizations: members, admins, their listings and utility.", no_args_is_help=True
)


def _write(
    state: Session, name: str, body: dict[str, Any], ident: str | None, as_json: bool
) -> None:
    done = act(state, name, {k: v for k, v in body.items() if v is not None}, ident)
    print_notes(done)
    if as_json:
        print_json(done.shape)
        return
    _print_org(state.names(), done.shape)


@org_app.command("new")
def org_new(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The org's name (1 to 64 characters).")],
    description: Annotated[str, typer.Option("--description", help="What it is and does.")] = "",
    contact: ContactOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an organization; you are its first member and admin."""
    body = {"name": name, "description": description or None, "contacts": contact or None}
    _write(session(ctx), "org.new", body, None, as_json)


@org_app.command("edit")
def org_edit(
    ctx: typer.Context,
    org: OrgArgument,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    contact: ContactOption = None,
    no_contacts: Annotated[
        bool, typer.Option("--no-contacts", help="Remove its contacts.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change an org's name, description or contacts (admins; the last edit wins)."""
    if contact and no_contacts:
        raise typer.BadParameter("expected --contact or --no-contacts, not both")
    body = {
        "name": name,
        "description": description,
        "contacts": contact,
        "no_contacts": no_contacts or None,
    }
    _write(session(ctx), "org.edit", body, org.strip(), as_json)


def _member_command(verb: str, summary: str) -> Any:
    """``org invite`` or ``org remove``: ORG and a MEMBER."""

    def command(
        ctx: typer.Context, org: OrgArgument, member: MemberArgument, as_json: JsonFlag = False
    ) -> None:
        _write(session(ctx), f"org.{verb}", {"member": member}, org.strip(), as_json)

    command.__doc__ = summary
    return command


def _self_command(verb: str, summary: str) -> Any:
    """``org join`` or ``org leave``: ORG only."""

    def command(ctx: typer.Context, org: OrgArgument, as_json: JsonFlag = False) -> None:
        _write(session(ctx), f"org.{verb}", {}, org.strip(), as_json)

    command.__doc__ = summary
    return command


org_app.command("invite")(
    _member_command("invite", "Invite a participant (admins); they are a member once they join.")
)
org_app.command("join")(
    _self_command(
        "join",
        "Accept an org's invitation (or ask to join: an admin's invite then makes you a member).",
    )
)
org_app.command("leave")(
    _self_command("leave", "Leave an org (or decline its invitation); the last admin cannot leave.")
)
org_app.command("remove")(
    _member_command(
        "remove", "End a member's membership or invitation (admins); the last admin stays."
    )
)


@org_app.command("admin")
def org_admin(
    ctx: typer.Context,
    org: OrgArgument,
    member: MemberArgument,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take the admin role back instead.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Make a member an admin (admins only), or with --revoke take it back."""
    body = {"member": member, "admin": not revoke}
    _write(session(ctx), "org.admin", body, org.strip(), as_json)


@org_app.command("show")
def org_show(ctx: typer.Context, org: OrgArgument, as_json: JsonFlag = False) -> None:
    """An org with its members (and their utility in your trust list) and its listings."""
    state = session(ctx)

    def local() -> dict[str, Any]:
        from samoorg.node.api.org_shapes import held_org, org_detail_json

        views = load_views(state)
        held = held_org(views, org)
        return org_detail_json(views, views.social(state.public_key()), held, now())

    shown = state.ask(lambda daemon: daemon.get(f"/orgs/{quote(org.strip(), safe='')}"), local)
    if as_json:
        print_json(shown)
        return
    names = state.names()
    _print_org(names, shown, members=False)
    print_table(
        None,
        ["member", "admin", "since (UTC)", "utility %"],
        [
            (
                names.label_text(m["member"]),
                "admin" if m["admin"] else "",
                format_time(m["since"]),
                m["utility_percent"],
            )
            for m in shown["members"]
        ],
    )
    listings = shown["listings"]
    typer.echo(f"{len(listings)} listing{'' if len(listings) == 1 else 's'} for the org")
    for item in listings:
        by = names.label_text(item["author"])
        typer.echo(
            f"  {item['id'][:12]}  {item['side']:<7} {item['status']:<9} {item['title']}  ({by})"
        )


@org_app.command("list")
def org_list(
    ctx: typer.Context,
    member: Annotated[
        str | None, typer.Option("--member", help="Only this participant's orgs (id or name).")
    ] = None,
    mine: Annotated[
        bool, typer.Option("--mine", help="Only the orgs you are a member of.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Every organization known here, by name (or one participant's)."""
    from samoorg.protocol.ids import peer_id

    state = session(ctx)
    if mine and member is not None:
        raise typer.BadParameter("expected --member or --mine, not both")
    who = peer_id(state.public_key()) if mine else member

    def local() -> dict[str, Any]:
        from samoorg.node.api.org_shapes import org_json

        orgs = load_views(state).orgs
        held = orgs.orgs() if who is None else orgs.of_member(state.resolve_member(who))
        return {"items": [org_json(o) for o in held]}

    query = {"member": who} if who is not None else {}
    shown = state.ask(lambda daemon: {"items": list(daemon.pages("/orgs", query))}, local)
    if as_json:
        print_json(shown)
        return
    names = state.names()
    print_table(
        None,
        ["org", "name", "members", "admins", "created (UTC)"],
        [
            (
                o["id"][:12],
                o["name"],
                len(o["members"]),
                ", ".join(names.label_text(m["member"]) for m in o["members"] if m["admin"]),
                format_time(o["created"]),
            )
            for o in shown["items"]
        ],
    )


def _print_org(names: Names, shown: dict[str, Any], *, members: bool = True) -> None:
    typer.echo(f"org      {shown['name']}")
    typer.echo(f"id       {shown['id']}")
    if shown["description"]:
        typer.echo(f"about    {shown['description']}")
    for item in shown["contacts"]:
        typer.echo(f"{item['type']:<8} {item['value']}")
    typer.echo(
        f"created  {format_time(shown['created'])} UTC by {names.label_text(shown['creator'])}"
    )
    if members:
        for m in shown["members"]:
            role = "admin " if m["admin"] else "member"
            typer.echo(f"{role}   {names.label_text(m['member'])}")
    for m in shown["invited"]:
        typer.echo(f"invited  {names.label_text(m['member'])} (not joined yet)")
    for m in shown["asking"]:
        typer.echo(f"asking   {names.label_text(m['member'])} (not invited yet)")


def register(app: typer.Typer) -> None:
    """Attach ``org`` to the root app."""
    app.add_typer(org_app, name="org")
