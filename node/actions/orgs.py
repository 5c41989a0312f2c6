"""Org actions: create and edit an org, invite, join, leave, remove, name admins.

Each writes one record of the org family (``crdt/kinds/orgs.py``,
docs/protocol.md §8.14) through the one write path, so the views' rules
refuse what a peer would ignore (only admins invite, remove, edit and name
admins; the last admin stays), with the same reason. An org argument is a
whole id, 6+ hex digits of it, or the org's name
(:func:`~samoorg.node.api.org_shapes.held_org`); a member argument is any
participant reference (:meth:`Actor.member`). Each answers
:func:`~samoorg.node.api.org_shapes.org_json` of the org after the write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.actions import Actor, Done
from samoorg.node.actions.profiles import contact

if TYPE_CHECKING:
    from samoorg.crdt.kinds.orgs import Org, OrgFields
    from samoorg.protocol import dcbor


def _fields(name: str, description: str, contacts: Sequence[str]) -> OrgFields:
    from samoorg.crdt.kinds.orgs import org_fields
    from samoorg.crdt.kinds.profiles import MAX_CONTACTS

    if len(contacts) > MAX_CONTACTS:
        raise MalformedInput(f"expected at most {MAX_CONTACTS} contacts, found {len(contacts)}")
    try:
        return org_fields(name, description, [contact(c) for c in contacts])
    except RuleViolation as exc:
        raise MalformedInput(str(exc)) from None


def _done(actor: Actor, org_id: bytes, kind: str, body: dict[str, dcbor.Value]) -> Done:
    from samoorg.node.api.org_shapes import org_json

    entry = actor.write(kind, body)
    org = actor.views.orgs.get(org_id)
    assert org is not None
    return Done(org_json(org), (entry,))


def held(actor: Actor, ref: str) -> Org:
    """The org ``ref`` names."""
    from samoorg.node.api.org_shapes import held_org

    return held_org(actor.views, ref)


def org_new(
    actor: Actor, *, name: str, description: str = "", contacts: Sequence[str] = ()
) -> Done:
    """Create an org; we are its first member and admin."""
    from samoorg.crdt.kinds.orgs import ORG_NEW, org_new_body
    from samoorg.node.api.org_shapes import org_json

    entry = actor.write(ORG_NEW, org_new_body(_fields(name, description, contacts)))
    org = actor.views.orgs.get(entry.id)
    assert org is not None
    return Done(org_json(org), (entry,))


def org_edit(
    actor: Actor,
    *,
    org: str,
    name: str | None = None,
    description: str | None = None,
    contacts: Sequence[str] | None = None,
    no_contacts: bool = False,
) -> Done:
    """Replace some of the org's fields (``None``: unchanged); admins only."""
    from samoorg.crdt.kinds.orgs import ORG_EDIT, org_edit_body

    found = held(actor, org)
    current = found.fields
    if contacts and no_contacts:
        raise MalformedInput("expected contacts or no_contacts, not both")
    if name is None and description is None and contacts is None and not no_contacts:
        raise MalformedInput("expected something to change")
    kept = [f"{c.type}={c.value}" for c in current.contacts]
    fields = _fields(
        name if name is not None else current.name,
        description if description is not None else current.description,
        [] if no_contacts else (contacts if contacts is not None else kept),
    )
    return _done(actor, found.id, ORG_EDIT, org_edit_body(found.id, fields))


def org_invite(actor: Actor, *, org: str, member: str) -> Done:
    """Invite a participant (admins only); they become a member when they join."""
    from samoorg.crdt.kinds.orgs import ORG_INVITE, org_member_body

    found = held(actor, org)
    return _done(actor, found.id, ORG_INVITE, org_member_body(found.id, actor.member(member)))


def org_join(actor: Actor, *, org: str) -> Done:
    """Accept an invitation (or ask to join: an admin's invite then makes us a member)."""
    from samoorg.crdt.kinds.orgs import ORG_JOIN, org_self_body

    found = held(actor, org)
    done = _done(actor, found.id, ORG_JOIN, org_self_body(found.id))
    after = actor.views.orgs.get(found.id)
    if after is not None and not after.is_member(actor.me):
        return Done(
            done.shape, done.entries, ("asked to join: an admin's invite makes you a member",)
        )
    return done


def org_leave(actor: Actor, *, org: str) -> Done:
    """End our membership (or decline an invitation, or withdraw a request to join)."""
    from samoorg.crdt.kinds.orgs import ORG_LEAVE, org_self_body

    found = held(actor, org)
    return _done(actor, found.id, ORG_LEAVE, org_self_body(found.id))


def org_remove(actor: Actor, *, org: str, member: str) -> Done:
    """End a participant's membership or invitation (admins only)."""
    from samoorg.crdt.kinds.orgs import ORG_REMOVE, org_member_body

    found = held(actor, org)
    return _done(actor, found.id, ORG_REMOVE, org_member_body(found.id, actor.member(member)))


def org_admin(actor: Actor, *, org: str, member: str, admin: bool = True) -> Done:
    """Make a member an admin, or (``admin`` false) take it back (admins only)."""
    from samoorg.crdt.kinds.orgs import ORG_ADMIN, org_admin_body

    found = held(actor, org)
    body = org_admin_body(found.id, actor.member(member), admin)
    return _done(actor, found.id, ORG_ADMIN, body)
