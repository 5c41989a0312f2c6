"""Names and profiles: the petnames of this node, and any participant's profile page.

``GET /names`` lists every named participant (``samoorg name list``): the
name shown, this node's petname, the self-chosen name, and a mark when a name
is carried by more than one participant (a collision is shown, never merged);
forms set a petname (``samoorg name set``: the participant typed as an id, 6+
characters of one or a name) and remove one. Petnames live in the peer book
(``peers.sqlite``) and never leave the node (:func:`~samoorg.node.names.give_petname`).

``GET /profiles/{id}`` (an id, a fragment or a name, as the CLI resolves it)
shows a participant's profile (``samoorg profile show``): display name,
about, typed contacts, and their status (fine, needs regular support, needs
urgent help) with its message; their listings and the reviews of them; a
form to give them a petname; and, on one's own, the form that publishes a new
profile (``POST /profiles/edit``, the action ``profile.set``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.crdt.algorithms.listing_match import ListingQuery
from samoorg.crdt.kinds.profiles import CONTACT_TYPES, PROFILE_KIND, STATUS_URGENT, STATUSES
from samoorg.node.actions.refs import resolve_member
from samoorg.node.api.portal_shapes import review_json, search_page
from samoorg.node.api.routes import names_of
from samoorg.node.api.shapes import jsonable, profile_json
from samoorg.node.names import directory, forget_petname, give_petname
from samoorg.node.store import now_ms
from samoorg.node.web.acting import field_of, show
from samoorg.node.web.forms import Refusal, attempt, done, perform, read_form
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.node.api.routes import ApiContext
    from samoorg.node.web.forms import Form

PROFILE_LISTINGS: Final = 10
"""A participant's newest listings shown on their profile page."""
RESOLVER_ERRORS: Final = frozenset({"not_found", "ambiguous", "bad_identifier"})
PROFILE_FIELDS: Final = {
    "name": ("name",),
    "contacts": ("contact", "'type'", "email"),
    "status": ("status",),
    "message": ("message",),
    "about": ("about",),
}
"""The profile form's fields and the words of a refusal about each."""


def _directory_values(request: Request) -> dict[str, Any]:
    rows = directory(names_of(context(request), known=False))
    return {"rows": rows, "collisions": sum(1 for r in rows if r["collides"])}


async def names_page(request: Request) -> Response:
    """``GET /names``: every named participant, and the petname forms."""
    flash = request.state.session.flash_once("names")
    return show(
        request, "names.html", {**_directory_values(request), "flash": flash}, active="names"
    )


def _back(form: Form, default: str) -> str:
    """The page to return to after a petname form (one of ours: ``/profiles/...`` or ``/names``)."""
    back = form.get("next")
    return back if back.startswith(("/profiles/", "/names")) and "//" not in back else default


def _petname_refused(request: Request, form: Form, refusal: Refusal) -> Response:
    field = "who" if refusal.name in RESOLVER_ERRORS else "name"
    back = _back(form, "/names")
    if back.startswith("/profiles/"):
        ident = back.removeprefix("/profiles/")
        values = _profile_values(request, ident)
        return show(
            request,
            "profile.html",
            values,
            active="names",
            refusal=refusal,
            field=f"petname.{field}",
            typed={f"petname.{k}": v for k, v in form.values.items()},
        )
    values = {**_directory_values(request), "flash": None}
    return show(
        request,
        "names.html",
        values,
        active="names",
        refusal=refusal,
        field=field,
        typed=form.values,
    )


async def name_set(request: Request) -> Response:
    """``POST /names/set``: give a participant (``who``) a petname (``name``)."""
    form = await read_form(request)
    ctx = context(request)

    def give() -> tuple[bytes, str]:
        names = names_of(ctx)
        key = resolve_member(names, form.get("who"))
        return key, give_petname(ctx.home, names, key, form.get("name"))

    result = attempt(give)
    if isinstance(result, Refusal):
        return _petname_refused(request, form, result)
    key, name = result
    request.state.session.flash_once("names", {"set": peer_id(key), "name": name})
    return done(_back(form, "/names"))


async def name_remove(request: Request) -> Response:
    """``POST /names/remove``: forget the petname of ``who``."""
    form = await read_form(request)
    ctx = context(request)
    result = attempt(
        lambda: forget_petname(ctx.home, resolve_member(names_of(ctx), form.get("who")))
    )
    if isinstance(result, Refusal):
        return _petname_refused(request, form, result)
    return done(_back(form, "/names"))


def _profile_values(request: Request, ident: str) -> dict[str, Any]:
    ctx = context(request)
    names = names_of(ctx)
    key = resolve_member(names, ident)
    views = ctx.live.views
    listings, _ = search_page(
        ctx.store, views, ListingQuery(author=key, now=now_ms()), 0, PROFILE_LISTINGS
    )
    reviews = [review_json(r) for r in views.reviews.of(key)]
    shown = jsonable(profile_json(views, key))
    return {
        "profile": shown,
        "contacts_text": "\n".join(f"{c['type']}={c['value']}" for c in shown["contacts"]),
        "ident": peer_id(key),
        "mine": key == ctx.me,
        "petname": names.petnames.get(key),
        "listings": jsonable(listings),
        "reviews": jsonable(reviews),
        "statuses": STATUSES,
        "contact_types": CONTACT_TYPES,
        "me": peer_id(ctx.me),
    }


async def profile(request: Request) -> Response:
    """``GET /profiles/{id}``: a participant's profile (``me``: one's own)."""
    ident = request.path_params["id"]
    if ident == "me":
        ident = peer_id(context(request).me)
    return show(request, "profile.html", _profile_values(request, ident), active="names")


def _profile_body(form: Form) -> dict[str, Any]:
    """The body of ``profile.set`` from the form (no contact lines: no contacts)."""
    lines = [line.strip() for line in form.values.get("contacts", "").splitlines()]
    contacts = [line for line in lines if line]
    body: dict[str, Any] = {
        "name": form.get("name"),
        "about": form.get("about"),
        "status": form.get("status"),
        "message": form.get("message"),
    }
    if contacts:
        body["contacts"] = contacts
    else:
        body["no_contacts"] = True
    return body


async def profile_edit(request: Request) -> Response:
    """``POST /profiles/edit``: publish one's own profile (the action ``profile.set``)."""
    form = await read_form(request)
    result = perform(request, "profile.set", _profile_body(form))
    me = peer_id(context(request).me)
    if isinstance(result, Refusal):
        return show(
            request,
            "profile.html",
            _profile_values(request, me),
            active="names",
            refusal=result,
            field=field_of(result.message, PROFILE_FIELDS),
            typed=form.values,
        )
    return done(f"/profiles/{me}")


def urgent_members(ctx: ApiContext) -> list[dict[str, Any]]:
    """The profiles of members who need urgent help (the home page), by name."""

    def compute() -> list[dict[str, Any]]:
        views = ctx.live.views
        found = []
        for key in views.profiles.display_names():
            held = views.profiles.profile(key)
            if held is not None and held.status == STATUS_URGENT and not views.is_forked(key):
                found.append(jsonable(profile_json(views, key)))
        found.sort(key=lambda p: (str(p["display_name"]).casefold(), p["id"]))
        return found

    return ctx.live.memo(("web.urgent",), (PROFILE_KIND,), compute)


ROUTES: Final = [
    Route("/names", names_page),
    Route("/names/set", name_set, methods=["POST"]),
    Route("/names/remove", name_remove, methods=["POST"]),
    Route("/profiles/edit", profile_edit, methods=["POST"]),
    Route("/profiles/{id}", profile),
]
