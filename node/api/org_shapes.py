"""The JSON shapes of organizations, shared by the CLI's ``--json`` and the API.

:func:`held_org` resolves what a user typed for an org (the one resolver,
:func:`samoorg.node.names.resolve_org`: a whole id, 6+ hex digits of it, or
its name); :func:`org_json` is one org (``org list``, the answer of every org
action); :func:`org_detail_json` adds what ``org show`` shows together: the
listings that count for the org and each member's utility (docs/protocol.md
§8.14).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from samoorg.node.api.times import Instant
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.orgs import Org
    from samoorg.crdt.kinds.social import SocialViews


def org_names(views: Views) -> dict[bytes, str]:
    """Org id -> its current name, for the resolver."""
    return {org.id: org.fields.name for org in views.orgs.orgs()}


def held_org(views: Views, text: str) -> Org:
    """The org ``text`` names (id, 6+ hex digits of it, or name); NotFound / Ambiguous."""
    from samoorg.crdt.framework.errors import MalformedInput
    from samoorg.node.names import resolve_org

    if len(text) > 128:
        raise MalformedInput(f"expected an org id or name, found {len(text)} characters")
    org = views.orgs.get(resolve_org(org_names(views), text))
    assert org is not None
    return org


def _people(keys: frozenset[bytes]) -> list[dict[str, Any]]:
    return [{"member": peer_id(k)} for k in sorted(keys, key=peer_id)]


def org_json(org: Org) -> dict[str, Any]:
    """One org: its current fields, members (with admins) and pending invitations."""
    fields = org.fields
    members = [
        {
            "member": peer_id(key),
            "admin": key in org.admins,
            "since": Instant(org.spans[key][-1][0]),
        }
        for key in sorted(org.members, key=peer_id)
    ]
    return {
        "id": org.id.hex(),
        "name": fields.name,
        "description": fields.description,
        "contacts": [{"type": c.type, "value": c.value} for c in fields.contacts],
        "creator": peer_id(org.creator),
        "created": Instant(org.created),
        "version": org.version.hex(),
        "members": members,
        "invited": _people(org.invited),
        "asking": _people(org.asking),
    }


def org_detail_json(views: Views, social: SocialViews, org: Org, now: int) -> dict[str, Any]:
    """``org show --json``: the org, its listings, and its members' utility (of our trust list)."""
    from samoorg.node.api.portal_shapes import listing_json
    from samoorg.node.api.shapes import percent

    utility = social.utility.utility
    whole = sum(utility.get(k, 0) for k in org.members)
    shown = org_json(org)
    for key, row in zip(sorted(org.members, key=peer_id), shown["members"], strict=True):
        row["utility"] = utility.get(key, 0)
        row["utility_percent"] = percent(row["utility"], whole)
    shown["listings"] = [listing_json(views, item, now) for item in views.orgs.listings_of(org.id)]
    return shown


def org_distribute_json(
    views: Views, social: SocialViews, org: str, total: Amount
) -> dict[str, Any]:
    """``distribute --org ORG --json``: ``total`` split among the org's members by utility."""
    from samoorg.node.api.shapes import distribute_json

    held = held_org(views, org)
    answer = distribute_json(social, total, held.members)
    return {"org": held.id.hex(), "org_name": held.fields.name, **answer}
