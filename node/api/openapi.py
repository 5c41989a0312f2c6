"""The OpenAPI 3.1 document of ``/api/v1/``, written by hand from one table.

:data:`ENDPOINTS` lists every route with its parameters, its answer and the
errors it may give; :func:`document` turns the table into the document served
at ``/api/v1/openapi.json``. A test checks that the table and the app's
routes name the same paths and methods, and that the document validates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

from samoorg.node.actions import Action
from samoorg.node.actions.table import ACTIONS
from samoorg.node.api.errors import error_names
from samoorg.node.api.pages import DEFAULT_LIMIT, MAX_LIMIT
from samoorg.node.api.shapes import LEDGER_SECTIONS

PREFIX: Final = "/api/v1"
VERSION: Final = "1.0.0"


@dataclass(frozen=True, slots=True)
class Param:
    """One query or path parameter."""

    name: str
    schema: dict[str, Any]
    description: str
    where: str = "query"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One route of the API."""

    method: str
    path: str
    summary: str
    answer: str
    """A schema name of :data:`SCHEMAS`, or ``events`` for the event stream."""
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()
    body: str | None = None
    status: int = 200


_INT = {"type": "integer"}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_PAGE = (
    Param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "At most this many items.",
    ),
    Param("cursor", _STR, "The next_cursor of the previous page."),
)
_HOPS = Param("hops", {"type": "integer", "minimum": 1}, "Only members within N personal links.")
_KIND = Param("kind", {"type": "array", "items": _STR}, "Only entries of this kind (repeatable).")

_READS: Final[tuple[Endpoint, ...]] = (
    Endpoint(
        "get",
        "/status",
        "Identity, store counts and the daemon's state.",
        "Status",
        (Param("digests", _BOOL, "Also the view digests (equal on converged nodes)."),),
        (422,),
    ),
    Endpoint("get", "/trust/pool", "Members of your trust list and their pool.", "Pool", (_HOPS,)),
    Endpoint(
        "get",
        "/trust/list",
        "Everyone reachable from you over mutual guarantees, then forked participants.",
        "TrustPage",
        (_HOPS, *_PAGE),
        (400,),
    ),
    Endpoint(
        "get",
        "/ideas",
        "Ideas, most supported (utility) or most recent first.",
        "IdeaPage",
        (
            Param("sort", {"enum": ["utility", "recent"], "default": "utility"}, "The order."),
            *_PAGE,
        ),
        (400,),
    ),
    Endpoint(
        "get",
        "/ideas/{id}",
        "One idea with its ratings and comments.",
        "IdeaDetail",
        (Param("id", _STR, "The idea's id or a unique prefix (hex).", "path"),),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/pledges",
        "Intentions and commitments you give or receive (or everyone's), with their state.",
        "PledgePage",
        (
            Param("everyone", _BOOL, "Everyone's pledges, not only yours and to you."),
            Param("mine", _BOOL, "Only pledges you made."),
            Param("to_me", _BOOL, "Only pledges to you."),
            Param("overdue", _BOOL, "Only overdue commitments."),
            *_PAGE,
        ),
        (400,),
    ),
    Endpoint(
        "get",
        "/pledges/{id}",
        "One pledge, named by the id (or a unique prefix) of any of its records.",
        "Pledge",
        (Param("id", _STR, "The pledge's id or a unique prefix (hex).", "path"),),
        (400, 404),
    ),
    Endpoint(
        "get",
        "/ledger",
        "A page of each list: outstanding commitments per pair, netting suggestions and"
        " what remains (limit and cursor page the three lists at once).",
        "Ledger",
        (
            Param("mine", _BOOL, "Only debts you owe or are owed."),
            Param("with", _STR, "Only debts between you and this participant (id or name)."),
            *_PAGE,
        ),
        (400, 404, 422),
    ),
    Endpoint(
        "get",
        "/inbox",
        "What needs your action: accepted invites, commitments, polls closing.",
        "Inbox",
        _PAGE,
        (400, 422),
    ),
    Endpoint(
        "get",
        "/log",
        "Stored entries, newest first.",
        "EntryPage",
        (
            Param("author", _STR, "Only this author's entries (id, id fragment or name)."),
            _KIND,
            Param("invalid", _BOOL, "Only entries the views ignore, with the reason."),
            *_PAGE,
        ),
        (400, 404),
    ),
    Endpoint(
        "get",
        "/profiles/{id}",
        "A participant's profile: display name, about, contacts, status.",
        "Profile",
        (Param("id", _STR, "A participant: peer id, 6+ characters of it, or a name.", "path"),),
        (400, 404),
    ),
    Endpoint(
        "get",
        "/names",
        "Every named participant: petname, self-chosen name, whether the name collides.",
        "Names",
        _PAGE,
        (400, 422),
    ),
    Endpoint(
        "get",
        "/events",
        "Server-sent events: `entry` per new entry, `action` per new inbox item.",
        "events",
        (_KIND,),
    ),
    Endpoint("get", "/openapi.json", "This document.", "Document"),
    Endpoint(
        "get",
        "/devices",
        "The devices of your identity, and which are revoked from which entry on.",
        "Devices",
    ),
    Endpoint(
        "get",
        "/requests",
        "Help requests, oldest first, with what was pledged, committed and fulfilled.",
        "RequestPage",
        _PAGE,
        (400,),
    ),
    Endpoint(
        "get",
        "/requests/{id}",
        "One help request with its backers (released ones too).",
        "RequestDetail",
        (Param("id", _STR, "The request's id or a unique prefix (hex).", "path"),),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/initiatives",
        "Initiatives, oldest first, with their status and totals.",
        "InitiativePage",
        _PAGE,
        (400,),
    ),
    Endpoint(
        "get",
        "/initiatives/{id}",
        "One initiative with its backers (released ones too).",
        "InitiativeDetail",
        (Param("id", _STR, "The initiative's id or a unique prefix (hex).", "path"),),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/invites",
        "Invites you sent and invites you accepted, with their state.",
        "InvitePage",
        _PAGE,
        (400,),
    ),
    Endpoint(
        "get",
        "/ratings",
        "Every rating that counts: each rater's latest rating of each subject.",
        "RatingPage",
        _PAGE,
        (400,),
    ),
    Endpoint(
        "get",
        "/utility",
        "Each trust-list member's utility, highest first, and the algorithm's figures.",
        "UtilityPage",
        _PAGE,
        (400,),
    ),
    Endpoint(
        "get", "/polls", "Polls, newest first, with their tallies.", "PollPage", _PAGE, (400,)
    ),
    Endpoint(
        "get",
        "/polls/{id}",
        "One poll: its options and the votes of trust-list members.",
        "Poll",
        (Param("id", _STR, "The poll's id or a unique prefix (hex).", "path"),),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/agreements",
        "Every agreement held, oldest first, with its version and acceptances.",
        "AgreementPage",
        _PAGE,
        (400,),
    ),
    Endpoint(
        "get",
        "/agreements/{id}",
        "One agreement's text: the current version, or the one named by `version`.",
        "AgreementText",
        (
            Param("id", _STR, "The agreement's id or a unique prefix (hex).", "path"),
            Param("version", _STR, "A version hash or an edit's entry id (lowercase hex prefix)."),
        ),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/listings",
        "Portal listings, newest first: full-text search (q) with filters.",
        "ListingPage",
        (
            Param("q", _STR, "Words to find (each as a prefix) in title, description, tags."),
            Param("side", {"enum": ["offer", "request"]}, "Offers or requests only."),
            Param("tag", _STR, "Only listings with this tag."),
            Param("currency", _STR, "Only listings priced in this currency."),
            Param("min_price", _INT, "At least this many minor units (with currency)."),
            Param("max_price", _INT, "At most this many minor units (with currency)."),
            Param("geohash", _STR, "A geohash prefix."),
            Param("author", _STR, "Only this participant's (a peer id)."),
            Param(
                "org", _STR, "Only the listings that count for this org (id, 6+ hex digits, name)."
            ),
            Param(
                "status",
                {"enum": ["active", "reserved", "done", "withdrawn", "expired"]},
                "The status shown now (active: not expired).",
            ),
            *_PAGE,
        ),
        (400,),
    ),
    Endpoint(
        "get",
        "/listings/{id}",
        "One listing with its current fields and the reviews of deals made through it.",
        "ListingDetail",
        (Param("id", _STR, "The listing's id or a unique prefix (hex).", "path"),),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/agreements/{id}/history",
        "Who changed what: every edit, oldest first, then pending and invalid entries.",
        "AgreementHistory",
        (Param("id", _STR, "The agreement's id or a unique prefix (hex).", "path"),),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/agreements/{id}/blame",
        "Each line of the current text with the last edit that touched it.",
        "AgreementBlame",
        (Param("id", _STR, "The agreement's id or a unique prefix (hex).", "path"),),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/members",
        "Who accepted the agreements (or, with `agreement`, which version each accepted).",
        "Members",
        (
            Param("agreement", _STR, "Only this agreement's acceptances (id or unique prefix)."),
            *_PAGE,
        ),
        (400, 404, 409, 422),
    ),
    Endpoint(
        "get",
        "/distribute",
        "An amount split among trust-list members in proportion to utility (exact).",
        "Distribution",
        (
            Param("amount", _STR, "The amount to share, e.g. 1000 or 99.95."),
            Param("currency", _STR, "ISO 4217 code, e.g. EUR."),
            Param("org", _STR, "Only among this org's members (id, 6+ hex digits, or name)."),
        ),
        (400, 404, 409),
    ),
    Endpoint(
        "get",
        "/orgs",
        "Every organization known here (or one participant's), by name.",
        "OrgList",
        (
            Param("member", _STR, "Only the orgs this participant is a member of (id or name)."),
            *_PAGE,
        ),
        (400, 404, 422),
    ),
    Endpoint(
        "get",
        "/orgs/{id}",
        "One organization with its members, their utility and its listings.",
        "OrgDetail",
        (Param("id", _STR, "The org: its id, 6+ hex digits of it, or its name.", "path"),),
        (400, 404),
    ),
    Endpoint(
        "post",
        "/web/login",
        "A one-time link that opens a session of the web organizer (samoorg web).",
        "WebLogin",
        status=201,
    ),
    Endpoint(
        "post",
        "/import",
        "Verify and store one batch of a bundle's records (samoorg import).",
        "Imported",
        (),
        (400, 413, 415, 422),
        "ImportBody",
    ),
    Endpoint(
        "post",
        "/sync",
        "One replication session with a peer, on the daemon's own host (samoorg sync).",
        "SyncReport",
        (),
        (400, 409, 413, 415, 422, 502),
        "SyncBody",
    ),
)


def _body_name(action: Action) -> str:
    return "".join(part.title() for part in action.name.replace(".", "_").split("_")) + "Body"


def _action_endpoint(action: Action) -> Endpoint:
    params = (
        (Param("id", _STR, "An id or a unique prefix of it (hex).", "path"),)
        if "{id}" in action.path
        else ()
    )
    return Endpoint(
        action.method,
        action.path,
        action.summary,
        action.answer,
        params,
        (400, 404, 409, 413, 415),
        _body_name(action),
        action.status,
    )


ENDPOINTS: Final[tuple[Endpoint, ...]] = (*_READS, *(_action_endpoint(a) for a in ACTIONS))
"""Every route: the reads, then the write actions (:data:`~samoorg.node.actions.table.ACTIONS`)."""


def _body_schema(action: Action) -> dict[str, Any]:
    kinds: dict[type, dict[str, Any]] = {
        str: _STR,
        int: _INT,
        bool: _BOOL,
        list: {"type": "array", "items": _STR},
    }
    return {
        "type": "object",
        "required": [f.name for f in action.fields if f.required],
        "properties": {
            f.name: {**kinds[f.kind], **f.schema, "description": f.description}
            for f in action.fields
        },
        "additionalProperties": False,
    }


def _object(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **optional},
    }


def _page(item: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "next_cursor": {"type": ["string", "null"]},
        }
    )


_MONEY = {"type": "object", "additionalProperties": _STR, "description": '{"EUR": "100.00"}'}
_NULL_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time", "description": "RFC 3339, UTC, milliseconds"}
_REVIEW = {
    "type": "object",
    "required": [
        "commitment",
        "id",
        "listing",
        "pledge",
        "rating",
        "reviewer",
        "subject",
        "text",
        "time",
    ],
    "properties": {
        **{k: _STR for k in ("id", "reviewer", "subject", "listing", "pledge", "commitment")},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "text": _STR,
        "time": _TIME,
    },
}
_IDEA = {
    "id": _STR,
    "title": _STR,
    "author": _STR,
    "time": _TIME,
    "support": _INT,
    "support_percent": _STR,
    "ratings": _INT,
    "average_score": _NULL_STR,
    "comments": _INT,
}
_APPEAL = {
    "id": _STR,
    "author": _STR,
    "goal": _MONEY,
    "pledged": _MONEY,
    "committed": _MONEY,
    "fulfilled": _MONEY,
    "status": _STR,
    "created": _TIME,
    "forked": _BOOL,
    "closed": {"type": ["string", "null"], "format": "date-time"},
    "closing": _NULL_STR,
}
_REQUEST = {**_APPEAL, "reason": _STR, "monthly": _BOOL}
_INITIATIVE = {
    **_APPEAL,
    "title": _STR,
    "description": _STR,
    "deadline": {"type": ["string", "null"], "format": "date-time"},
}
_BACKERS = {"type": "array", "items": {"$ref": "#/components/schemas/Pledge"}}
_APPEAL_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "Request": _object({**_REQUEST, "backers": _INT}),
    "RequestDetail": _object({**_REQUEST, "backers": _BACKERS}, close_note=_STR),
    "Initiative": _object({**_INITIATIVE, "backers": _INT}),
    "InitiativeDetail": _object({**_INITIATIVE, "backers": _BACKERS}, close_note=_STR),
    "Invite": _object(
        {
            "invite": _STR,
            "direction": {"enum": ["sent", "accepted"]},
            "with": _NULL_STR,
            "guarantee": _MONEY,
            "state": _STR,
            "expires": {"type": ["string", "null"], "format": "date-time"},
        }
    ),
    "RequestClosed": _object(
        {**_REQUEST, "backers": _INT, "released": {"type": "array", "items": _STR}}
    ),
    "InitiativeClosed": _object(
        {**_INITIATIVE, "backers": _INT, "released": {"type": "array", "items": _STR}}
    ),
    "RequestPage": _page("Request"),
    "InitiativePage": _page("Initiative"),
    "InvitePage": _page("Invite"),
    "Rating": _object(
        {
            "rater": _STR,
            "about": {"enum": ["member", "idea"]},
            "subject": _STR,
            "score": _INT,
            "comment": _STR,
            "entry": _STR,
            "time": _TIME,
            "forked": _BOOL,
        }
    ),
    "RatingPage": _page("Rating"),
    "Utility": _object(
        {
            "id": _STR,
            "utility": _INT,
            "utility_percent": _STR,
            "standing": _INT,
            "standing_percent": _STR,
            "raters": _INT,
        }
    ),
    "UtilityPage": {
        **_page("Utility"),
        "required": ["items", "next_cursor", "total", "iterations", "converged", "edges"],
        "properties": {
            **_page("Utility")["properties"],
            "total": _INT,
            "algorithm": _STR,
            "damping": _STR,
            "scale": _INT,
            "tolerance": _INT,
            "max_iterations": _INT,
            "iterations": _INT,
            "converged": _BOOL,
            "edges": _INT,
        },
    },
    "Poll": _object(
        {
            "id": _STR,
            "question": _STR,
            "author": _STR,
            "closes": {"type": ["string", "null"], "format": "date-time"},
            "open": _BOOL,
            "options": {
                "type": "array",
                "items": _object({"number": _INT, "option": _STR, "votes": _INT}),
            },
            "leading": {"type": "array", "items": _STR},
            "votes_counted": _INT,
            "votes_not_counted": _INT,
        }
    ),
    "PollPage": _page("Poll"),
    "Agreement": _object(
        {
            "agreement": _STR,
            "title": _STR,
            "version": _STR,
            "entries": _INT,
            "characters": _INT,
            "accepted": _INT,
            "accepted_current": _INT,
            "you": _NULL_STR,
        }
    ),
    "AgreementPage": _page("Agreement"),
    "Listing": _object(
        {
            "id": _STR,
            "author": _STR,
            "forked": _BOOL,
            "side": {"enum": ["offer", "request"]},
            "title": _STR,
            "description": _STR,
            "tags": {"type": "array", "items": _STR},
            "price": {"enum": ["amount", "gift", "exchange"]},
            "amount": {"anyOf": [_MONEY, {"type": "null"}]},
            "frequency": _NULL_STR,
            "wanted": _NULL_STR,
            "quantity": {"type": ["integer", "null"]},
            "unit": _NULL_STR,
            "place": _NULL_STR,
            "geohash": _NULL_STR,
            "from": {"anyOf": [_TIME, {"type": "null"}]},
            "until": {"anyOf": [_TIME, {"type": "null"}]},
            "expires": {"anyOf": [_TIME, {"type": "null"}]},
            "status": {"enum": ["active", "reserved", "done", "withdrawn", "expired"]},
            "created": _TIME,
            "version": _STR,
            "edits": _INT,
            "org": _NULL_STR,
            "org_name": _NULL_STR,
        }
    ),
    "ListingDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Listing"},
            _object({"reviews": {"type": "array", "items": _REVIEW}}),
        ]
    },
    "ListingPage": _page("Listing"),
    "Org": _object(
        {
            "id": _STR,
            "name": _STR,
            "description": _STR,
            "contacts": {"type": "array", "items": _object({"type": _STR, "value": _STR})},
            "creator": _STR,
            "created": _TIME,
            "version": _STR,
            "members": {
                "type": "array",
                "items": _object({"member": _STR, "admin": _BOOL, "since": _TIME}),
            },
            "invited": {"type": "array", "items": _object({"member": _STR})},
            "asking": {"type": "array", "items": _object({"member": _STR})},
        }
    ),
    "OrgList": _page("Org"),
    "OrgDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Org"},
            _object(
                {
                    "listings": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Listing"},
                    }
                }
            ),
        ],
        "description": "members items also carry utility (integer) and utility_percent.",
    },
    "AgreementText": _object(
        {
            "agreement": _STR,
            "title": _STR,
            "version": _STR,
            "current": _BOOL,
            "heads": {"type": "array", "items": _STR},
            "author": _STR,
            "forked": _BOOL,
            "time": _TIME,
            "version_entries": _INT,
            "text": _STR,
        }
    ),
}
_B64_LIST = {"type": "array", "items": {"type": "string", "contentEncoding": "base64"}}
_REJECTION = _object(
    {"index": _INT, "error": _STR, "message": _STR},
    author=_NULL_STR,
    seq={"type": ["integer", "null"]},
)
_PEER_BOOK_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "PeerAdded": _object({"id": _STR, "addrs": {"type": "array", "items": _STR}, "source": _STR}),
    "PeerRemoved": _object({"removed": _STR}),
    "Followed": _object({"following": {"type": "array", "items": _STR}, "new": _INT}),
    "Unfollowed": _object({"unfollowed": _STR}),
    "Petname": _object({"id": _STR, "petname": _NULL_STR}),
    "ImportBody": {
        "type": "object",
        "properties": {"entries": _B64_LIST, "fork_proofs": _B64_LIST},
        "additionalProperties": False,
    },
    "Imported": _object(
        {
            "new": _INT,
            "new_ids": {"type": "array", "items": _STR},
            "duplicates": _INT,
            "rejected": {"type": "array", "items": _REJECTION},
            "rejected_proofs": {"type": "array", "items": _REJECTION},
            "forks": _INT,
        }
    ),
    "SyncBody": {
        "type": "object",
        "required": ["address"],
        "properties": {
            "address": {**_STR, "maxLength": 1000, "description": "Multiaddr ending in /p2p/ID."},
            "hops": {**_INT, "minimum": 0, "maximum": 64, "default": 3},
            "timeout": {"type": "number", "minimum": 1, "maximum": 3600, "default": 120},
        },
        "additionalProperties": False,
    },
    "SyncReport": _object(
        {
            "peer": _NULL_STR,
            "outcome": _STR,
            "error": _NULL_STR,
            "live": _BOOL,
            "received": _INT,
            "sent": _INT,
            "duplicates": _INT,
            "rejected": _INT,
            "reasons": {"type": "object", "additionalProperties": _INT},
            "rejections": {"type": "array", "items": _STR},
            "forks_received": _INT,
            "forks_sent": _INT,
            "seconds": {"type": "number"},
        }
    ),
}
"""Answers and bodies of the peer book actions, ``/import`` and ``/sync``."""
SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "Error": _object(
        {
            "error": {"enum": sorted(error_names())},
            "message": _STR,
        },
        loading={
            "type": "array",
            "description": "With loading: the domains still loading, and for how long.",
            "items": _object({"domain": _STR, "seconds": {"type": "number"}}),
        },
    ),
    "Status": _object(
        {
            "id": _STR,
            "home": _STR,
            "store": _object({"entries": _INT, "feeds": _INT, "fork_proofs": _INT}),
            "daemon": {"type": ["object", "null"]},
            "api": {
                "oneOf": [_object({"url": _STR, "token_file": _STR}), {"type": "null"}],
            },
        }
    ),
    "Pool": _object({"members": _INT, "pool": _MONEY}),
    "TrustRow": _object(
        {
            "id": _STR,
            "distance": {"type": ["integer", "null"]},
            "chain": {"type": "array", "items": _STR},
            "guarantee": _MONEY,
            "forked": _BOOL,
        }
    ),
    "Idea": _object(_IDEA),
    "IdeaDetail": _object(
        {
            **_IDEA,
            "body": _STR,
            "rating_list": {"type": "array", "items": {"type": "object"}},
            "comment_list": {"type": "array", "items": {"type": "object"}},
        }
    ),
    **{_body_name(a): _body_schema(a) for a in ACTIONS},
    **_PEER_BOOK_SCHEMAS,
    "InviteCreated": _object({"invite": _STR, "code": _STR, "expires": _TIME}),
    "InviteAccepted": _object(
        {
            "acceptance": _STR,
            "invite": _STR,
            "inviter": _STR,
            "their_guarantee": _MONEY,
            "your_guarantee": _MONEY,
            "edge": _BOOL,
            "addrs": {"type": "array", "items": _STR},
        }
    ),
    "InviteRevoked": _object({"invite": _STR, "revocation": _STR, "state": _STR}),
    "DeviceAdded": _object({"add": _STR, "code": _STR}),
    "DeviceAccepted": _object({"accept": _STR, "identity": _STR, "device": _STR}),
    "DeviceRevoked": _object({"revocation": _STR, "device": _STR, "from": _INT}),
    "Devices": _object(
        {
            "identity": _STR,
            "devices": {
                "type": "array",
                "items": _object(
                    {
                        "id": _STR,
                        "founder": _BOOL,
                        "this": _BOOL,
                        "revoked_from": {"type": ["integer", "null"]},
                    }
                ),
            },
        }
    ),
    "AgreementHistory": _object(
        {
            "agreement": _STR,
            "title": _STR,
            "items": {
                "type": "array",
                "items": _object(
                    {"entry": _STR, "author": _STR, "forked": _BOOL, "timestamp": _TIME},
                    status={"enum": ["applied", "pending", "invalid"]},
                ),
            },
        }
    ),
    "AgreementBlame": _object(
        {
            "agreement": _STR,
            "title": _STR,
            "items": {
                "type": "array",
                "items": _object(
                    {"line": _INT, "text": _STR, "entry": _STR, "author": _STR, "forked": _BOOL}
                ),
            },
        }
    ),
    "Members": {
        "oneOf": [
            _object(
                {
                    "items": {
                        "type": "array",
                        "items": _object(
                            {
                                "member": _STR,
                                "forked": _BOOL,
                                "accepted": _INT,
                                "current": _INT,
                                "of": _INT,
                                "status": {"enum": ["member", "partial"]},
                            }
                        ),
                    },
                    "next_cursor": _NULL_STR,
                }
            ),
            _object(
                {
                    "agreement": _STR,
                    "title": _STR,
                    "version": _STR,
                    "members": {"type": "array", "items": {"type": "object"}},
                }
            ),
        ]
    },
    "Distribution": _object(
        {
            "amount": _STR,
            "currency": _STR,
            "shares": {
                "type": "array",
                "items": _object({"id": _STR, "utility_percent": _STR, "share": _STR}),
            },
        },
        org=_STR,
        org_name=_STR,
    ),
    "CreatedComment": _object({"id": _STR, "kind": _STR, "idea": _STR}),
    "CreatedRating": _object(
        {"id": _STR, "kind": _STR, "about": {"enum": ["member", "idea"]}, "subject": _STR}
    ),
    "CreatedReview": _object({"id": _STR, "kind": _STR, "subject": _STR, "rating": _INT}),
    "CreatedVote": _object(
        {"id": _STR, "kind": _STR, "poll": _STR, "option": _STR, "number": _INT}
    ),
    "AgreementWritten": _object(
        {
            "agreement": _STR,
            "title": _STR,
            "entries": {"type": "array", "items": _STR},
            "inserted": _INT,
            "deleted": _INT,
            "version": _STR,
        }
    ),
    "AgreementAccepted": _object(
        {"agreement": _STR, "version": _STR, "entry": _STR, "title": _STR}
    ),
    "Created": _object({"id": _STR, "kind": _STR}),
    "WebLogin": _object({"url": _STR, "expires_in": _INT}),
    "Pledge": _object(
        {
            "id": _STR,
            "from": _STR,
            "to": _NULL_STR,
            "target": _object({"kind": _STR, "id": _STR}),
            "amount": _MONEY,
            "state": _STR,
            "overdue": _BOOL,
            "due": {"type": ["string", "null"], "format": "date-time"},
            "commitment": _NULL_STR,
            "forked": _BOOL,
        }
    ),
    "Entry": _object(
        {
            "id": _STR,
            "author": _STR,
            "seq": _INT,
            "prev": _NULL_STR,
            "timestamp": _TIME,
            "kind": _STR,
            "body": {"type": "object"},
        }
    ),
    "Debt": _object(
        {"from": _STR, "to": _STR, "amount": _MONEY, "forked": _BOOL},
        commitments=_INT,
    ),
    "Ledger": _object(
        {
            "outstanding": {"type": "array", "items": {"$ref": "#/components/schemas/Debt"}},
            "netting": {
                "type": "array",
                "items": _object({"cycle": {"type": "array", "items": _STR}, "amount": _MONEY}),
            },
            "after_netting": {"type": "array", "items": {"$ref": "#/components/schemas/Debt"}},
            "totals": _object({name: _INT for name in LEDGER_SECTIONS}),
            "next_cursor": _NULL_STR,
        }
    ),
    "ActionItem": _object(
        {
            "kind": {
                "enum": [
                    "commitment_overdue",
                    "commitment_to_confirm",
                    "invite_accepted",
                    "poll_closing",
                    "recovery_of_yours",
                    "recovery_to_approve",
                ]
            },
            "subject": _STR,
            "with": _NULL_STR,
            "when": {"type": ["string", "null"], "format": "date-time"},
            "amount": {"oneOf": [_MONEY, {"type": "null"}]},
            "text": _STR,
        }
    ),
    "Inbox": _page("ActionItem"),
    "Names": _object(
        {
            "me": _STR,
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/NamedParticipant"}},
            "next_cursor": _NULL_STR,
        }
    ),
    "Profile": _object(
        {
            "id": _STR,
            "display_name": _NULL_STR,
            "about": _STR,
            "contacts": {
                "type": "array",
                "items": _object({"type": _STR, "value": _STR}),
            },
            "status": {"enum": ["fine", "support", "urgent"]},
            "status_label": _STR,
            "message": _STR,
            "entry": _NULL_STR,
            "updated": {"type": ["string", "null"], "format": "date-time"},
            "forked": _BOOL,
        }
    ),
    "NamedParticipant": _object(
        {
            "id": _STR,
            "name": _NULL_STR,
            "petname": _NULL_STR,
            "chosen": _NULL_STR,
            "collides": _BOOL,
        }
    ),
    "EntryEvent": _object({"id": _STR, "kind": _STR, "author": _STR, "seq": _INT}),
    "TrustPage": _page("TrustRow"),
    "IdeaPage": _page("Idea"),
    "PledgePage": _page("Pledge"),
    "EntryPage": _page("Entry"),
    "Document": {"type": "object"},
    **_APPEAL_SCHEMAS,
}

_ALWAYS = (401, 403, 429)
_DESCRIPTIONS = {
    400: (
        "Bad request (bad_json, bad_cursor, bad_identifier, malformed_input, "
        "bad_invite_code, bad_address, ambiguous)."
    ),
    401: "No or wrong bearer token (unauthorized).",
    403: "Host or Origin not this API's (forbidden_host, forbidden_origin).",
    404: "No such entry or route (not_found).",
    409: "Refused by a community rule (rule_violation) or the store (store_error).",
    413: "Body larger than the cap (payload_too_large).",
    415: "Body not application/json (unsupported_media_type).",
    422: "Wrong parameter or field types (invalid_parameter, invalid_body, invalid_record).",
    429: "Too many requests from this client (rate_limited).",
    502: "The peer could not be reached or the session failed to open (peer_unreachable).",
    503: (
        "The views this path reads are still loading from the checkpoint (loading): "
        "ask again after Retry-After seconds."
    ),
}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.answer == "events":
        content: dict[str, Any] = {
            "text/event-stream": {
                "schema": {"type": "string"},
                "x-event-data": {"$ref": "#/components/schemas/EntryEvent"},
            }
        }
    else:
        ref = {"$ref": f"#/components/schemas/{endpoint.answer}"}
        content = {"application/json": {"schema": ref}}
    responses: dict[str, Any] = {
        str(endpoint.status): {"description": endpoint.summary, "content": content}
    }
    from samoorg.node.api.needs import NEEDS

    loads = (503,) if endpoint.path in NEEDS else ()
    for code in sorted({*endpoint.errors, *_ALWAYS, *loads, 422}):
        responses[str(code)] = {
            "description": _DESCRIPTIONS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": f"{endpoint.method}_{endpoint.path.strip('/').replace('/', '_')}".replace(
            "{", ""
        )
        .replace("}", "")
        .replace(".", "_"),
        "parameters": [
            {
                "name": p.name,
                "in": p.where,
                "required": p.where == "path",
                "description": p.description,
                "schema": p.schema,
                **({"explode": True} if p.schema.get("type") == "array" else {}),
            }
            for p in endpoint.params
        ],
        "responses": responses,
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{endpoint.body}"}}
            },
        }
    return operation


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (made once; do not modify it)."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(PREFIX + endpoint.path, {})[endpoint.method] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Samoorg node API",
            "version": VERSION,
            "description": "The local API of a running `samoorg node run` (docs/api.md).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
