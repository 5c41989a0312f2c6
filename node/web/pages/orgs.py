"""Organizations: the list of orgs, one org's page, and the forms of the ``org.*`` actions.

``GET /orgs`` is ``samoorg org list`` (``?mine=1``: ``org list --mine``):
every org this node knows, by name, with its members and admins; its form
creates an org (the action ``org.new``: we are its first member and admin).

``GET /orgs/{id}`` (the org's id, 6+ hex digits of it, or its name, as the
CLI resolves it) is ``samoorg org show``: name, description, contacts, the
members with their admin mark, since when and their utility (as our trust
list sees it), who is invited and who asks to join, and the listings that
count for the org. Its forms are the CLI's commands: for admins ``org
edit``, ``org invite``, ``org remove`` and ``org admin`` (``--revoke``), for
anyone ``org join`` and ``org leave``. Every form calls the action the CLI
calls (``perform``), so a refusal (the last admin leaving, a non-admin
inviting) shows the CLI's line next to its field and stores nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.node.api.org_shapes import held_org, org_detail_json, org_json
from samoorg.node.api.shapes import jsonable
from samoorg.node.store import now_ms
from samoorg.node.web.acting import field_of, show
from samoorg.node.web.forms import Refusal, done, perform, read_form
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.node.web.forms import Form

ORG_FIELDS: Final = {
    "name": ("name",),
    "contacts": ("contact", "'type'", "email"),
    "description": ("description",),
}
"""The org form's fields and the words of a refusal about each (else the name's)."""


def _contacts(form: Form) -> list[str]:
    """The ``TYPE=VALUE`` lines of the contacts field (empty lines left out)."""
    lines = (line.strip() for line in form.values.get("contacts", "").splitlines())
    return [line for line in lines if line]


# -- the list ---------------------------------------------------------------------


def _list_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    ctx.live.refresh()
    mine = request.query_params.get("mine", "") not in ("", "0")
    orgs = ctx.live.views.orgs
    held = orgs.of_member(ctx.me) if mine else orgs.orgs()
    return {"orgs": jsonable([org_json(o) for o in held]), "mine": mine}


async def orgs_page(request: Request) -> Response:
    """``GET /orgs?mine=1``: every org (or ours), and the form that creates one."""
    return show(request, "orgs.html", _list_values(request), active="orgs")


async def org_new(request: Request) -> Response:
    """``POST /orgs/new``: create an org (``org.new``); we are its first member and admin."""
    form = await read_form(request)
    body = {"name": form.get("name"), "description": form.get("description")}
    result = perform(request, "org.new", {**body, "contacts": _contacts(form)})
    if isinstance(result, Refusal):
        return show(
            request,
            "orgs.html",
            _list_values(request),
            active="orgs",
            refusal=result,
            field="new." + field_of(result.message, ORG_FIELDS),
            typed={f"new.{k}": v for k, v in form.values.items()},
        )
    return done(f"/orgs/{result.shape['id']}")


# -- one org ------------------------------------------------------------------------


def _org_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    ctx.live.refresh()  # entries another process stored just before
    views = ctx.live.views
    held = held_org(views, request.path_params["id"])
    shown = jsonable(org_detail_json(views, ctx.live.social(ctx.me), held, now_ms()))
    me = peer_id(ctx.me)
    return {
        "org": shown,
        "admin": held.is_admin(ctx.me),
        "member": held.is_member(ctx.me),
        "pending": me in {p["member"] for p in (*shown["invited"], *shown["asking"])},
        "current": {
            "edit.name": shown["name"],
            "edit.description": shown["description"],
            "edit.contacts": "\n".join(f"{c['type']}={c['value']}" for c in shown["contacts"]),
        },
    }


async def org_page(request: Request) -> Response:
    """``GET /orgs/{id}``: one org (``org show``) and its forms."""
    flash = request.state.session.flash_once("org")
    return show(request, "org.html", {**_org_values(request), "flash": flash}, active="orgs")


def _acted(
    request: Request, form: Form, result: Any, prefix: str, fields: Mapping[str, Any]
) -> Response:
    """After an org form: the org's page (303, with the action's notes once), or its page
    with the refusal."""
    if not isinstance(result, Refusal):
        if result.notes:
            request.state.session.flash_once("org", {"notes": list(result.notes)})
        return done(f"/orgs/{result.shape['id']}")
    values = _org_values(request)
    field = field_of(result.message, fields) if fields else "form"
    if prefix in ("edit", "invite") and not values["admin"]:
        field = "form"  # not an admin: no form to show it next to
        prefix = "self"
    return show(
        request,
        "org.html",
        {**values, "flash": None},
        active="orgs",
        refusal=result,
        field=f"{prefix}.{field}",
        typed={f"{prefix}.{k}": v for k, v in form.values.items()},
    )


async def org_edit(request: Request) -> Response:
    """``POST /orgs/{id}/edit``: change the org's fields (``org edit``; admins)."""
    form = await read_form(request)
    contacts = _contacts(form)
    body: dict[str, Any] = {"name": form.get("name"), "description": form.get("description")}
    body.update({"contacts": contacts} if contacts else {"no_contacts": True})
    result = perform(request, "org.edit", body, request.path_params["id"])
    return _acted(request, form, result, "edit", ORG_FIELDS)


async def org_invite(request: Request) -> Response:
    """``POST /orgs/{id}/invite``: invite a participant (``org invite``; admins)."""
    form = await read_form(request)
    body = {"member": form.get("member")}
    result = perform(request, "org.invite", body, request.path_params["id"])
    return _acted(request, form, result, "invite", {"member": ()})


async def org_remove(request: Request) -> Response:
    """``POST /orgs/{id}/remove``: end a membership or invitation (``org remove``; admins)."""
    form = await read_form(request)
    body = {"member": form.get("member")}
    result = perform(request, "org.remove", body, request.path_params["id"])
    return _acted(request, form, result, "members", {})


async def org_admin(request: Request) -> Response:
    """``POST /orgs/{id}/admin``: make a member an admin or (``admin=no``) take it back."""
    form = await read_form(request)
    body = {"member": form.get("member"), "admin": form.get("admin", "yes") != "no"}
    result = perform(request, "org.admin", body, request.path_params["id"])
    return _acted(request, form, result, "members", {})


def _self_action(verb: str) -> Any:
    """``POST /orgs/{id}/VERB``: ``org join`` or ``org leave`` as this node."""

    async def handler(request: Request) -> Response:
        form = await read_form(request)
        result = perform(request, f"org.{verb}", {}, request.path_params["id"])
        return _acted(request, form, result, "self", {})

    handler.__doc__ = f"``POST /orgs/{{id}}/{verb}``: ``org {verb}`` as this node."
    return handler


ROUTES: Final = [
    Route("/orgs", orgs_page),
    Route("/orgs/new", org_new, methods=["POST"]),
    Route("/orgs/{id}", org_page),
    Route("/orgs/{id}/edit", org_edit, methods=["POST"]),
    Route("/orgs/{id}/invite", org_invite, methods=["POST"]),
    Route("/orgs/{id}/remove", org_remove, methods=["POST"]),
    Route("/orgs/{id}/admin", org_admin, methods=["POST"]),
    Route("/orgs/{id}/join", _self_action("join"), methods=["POST"]),
    Route("/orgs/{id}/leave", _self_action("leave"), methods=["POST"]),
]
