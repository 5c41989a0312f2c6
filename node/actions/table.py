"""Every write action as the API serves it: method, path, JSON body, the call.

:data:`ACTIONS` is the one table read by the API's routes and OpenAPI
document (:mod:`samoorg.node.api.app`, :mod:`samoorg.node.api.openapi`) and
by the CLI (:func:`samoorg.cli.community.act`), which sends the same body to
the daemon or runs the same ``run`` on its own store. Each ``run`` reads the
validated body (:func:`~samoorg.node.actions.check_body`) into the typed
arguments of its action function: the only place a body is parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from samoorg.crdt.kinds.pledges import INITIATIVE, REQUEST
from samoorg.crdt.kinds.recovery import DEFAULT_WAIT
from samoorg.node.actions import (
    Action,
    Actor,
    Args,
    Done,
    Field,
    agreements,
    amount,
    appeals,
    devices,
    forum,
    optional_time,
    orgs,
    peers,
    pledges,
    polls,
    portal,
    profiles,
    recovery,
    text,
    trust,
)

_TIME = {"format": "date-time"}
_LISTING_FIELDS = (
    Field("description", str, "What, how, when.", schema={"maxLength": 8000}),
    Field("price", str, "A price, e.g. 20 or 19.50 (with currency)."),
    Field("currency", str, "ISO 4217 code of the price."),
    Field("gift", bool, "Free of charge."),
    Field("exchange", str, "What is wanted in return (no money)."),
    Field("quantity", int, "How much.", schema={"minimum": 1}),
    Field("unit", str, "Unit of the quantity: hours for services, kg, ..."),
    Field("place", str, "Where, as text.", schema={"maxLength": 200}),
    Field("expires", str, "No longer active after (RFC 3339).", schema=_TIME),
    Field("org", str, "On behalf of this org (id, 6+ hex digits, or name); you must be a member."),
)
_AMOUNT = (
    Field("amount", str, "The amount, e.g. 50 or 49.95.", required=True, schema={"maxLength": 40}),
    Field("currency", str, "ISO 4217 code, e.g. EUR.", required=True, schema={"maxLength": 3}),
)
_FORCE = Field("force", bool, "Pledge even to a participant never seen here nor trusted.")


def _optional(args: Args, name: str) -> str | None:
    value = args.get(name)
    return None if value is None else str(value)


def _invite_create(actor: Actor, args: Args) -> Done:
    addrs = args.get("addrs")
    expires = optional_time(args, "expires")
    assert expires is not None
    return trust.invite_create(
        actor, guarantee=amount(args), expires=expires, note=text(args, "note"), addrs=addrs
    )


def _invite_accept(actor: Actor, args: Args) -> Done:
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.crdt.framework.errors import MalformedInput
    from samoorg.protocol.invite_code import parse_invite_code

    code = text(args, "code")
    if len(code) > 4096:
        raise MalformedInput("expected an invite code, found more than 4096 characters")
    given = None
    if "amount" in args or "currency" in args:
        offered = parse_invite_code(code)
        number = _optional(args, "amount") or Amount(offered.currency, offered.amount).format()
        given = Amount.parse(number, _optional(args, "currency") or offered.currency)
    return trust.invite_accept(actor, code=code, guarantee=given)


def _pledge_intend(actor: Actor, args: Args) -> Done:
    return pledges.intend(
        actor,
        amount=amount(args),
        to=_optional(args, "to"),
        request=_optional(args, "request"),
        initiative=_optional(args, "initiative"),
        listing=_optional(args, "listing"),
        force=bool(args.get("force", False)),
    )


def _price(args: Args) -> dict[str, Any]:
    return portal.price_fields(
        _optional(args, "price"),
        _optional(args, "currency"),
        bool(args.get("gift", False)),
        _optional(args, "exchange"),
    )


def _listing_new(actor: Actor, args: Args) -> Done:
    return portal.listing_new(
        actor,
        side=text(args, "side"),
        title=text(args, "title"),
        tags=list(args.get("tags", [])),
        description=text(args, "description"),
        price=_price(args),
        frequency=_optional(args, "frequency"),
        quantity=args.get("quantity"),
        unit=_optional(args, "unit"),
        place=text(args, "place"),
        geohash=text(args, "geohash"),
        available_from=optional_time(args, "from"),
        available_until=optional_time(args, "until"),
        expires=optional_time(args, "expires"),
        org=_optional(args, "org"),
    )


def _listing_edit(actor: Actor, args: Args) -> Done:
    changes = {name: args.get(name) for name in ("title", "tags", "description", "quantity")}
    changes.update({name: args.get(name) for name in ("unit", "place", "status")})
    changes["expires"] = optional_time(args, "expires")
    changes.update(org=args.get("org"), no_org=args.get("no_org"))
    return portal.listing_edit(actor, listing=text(args, "id"), changes=changes, price=_price(args))


def _request_create(actor: Actor, args: Args) -> Done:
    return appeals.request_create(
        actor, amount=amount(args), reason=text(args, "reason"), monthly=args.get("monthly", False)
    )


def _initiative_propose(actor: Actor, args: Args) -> Done:
    return appeals.initiative_propose(
        actor,
        title=text(args, "title"),
        goal=amount(args, "goal"),
        description=text(args, "description"),
        deadline=optional_time(args, "deadline"),
    )


def _close(kind: str) -> Callable[[Actor, Args], Done]:
    def run(actor: Actor, args: Args) -> Done:
        return appeals.close(actor, kind=kind, appeal=text(args, "id"), note=text(args, "note"))

    return run


def _rate(actor: Actor, args: Args) -> Done:
    score = args["score"]
    return forum.rate(
        actor, subject=text(args, "subject"), score=score, comment=text(args, "comment")
    )


_SOURCE = Field("source", str, "What names the text in refusals (a file name).")
_NOTE = Field("note", str, "Why, shown to those who read it.", schema={"maxLength": 1000})


_ORG_FIELDS = (
    Field("description", str, "What the org is and does.", schema={"maxLength": 2000}),
    Field(
        "contacts",
        list,
        "TYPE=VALUE contacts (email, phone, telegram, address, url).",
        schema={"maxItems": 8},
    ),
)
_MEMBER = Field("member", str, "A participant: peer id, 6+ characters of it, or a name.", True)


def _org_edit(actor: Actor, args: Args) -> Done:
    contacts = args.get("contacts")
    return orgs.org_edit(
        actor,
        org=text(args, "id"),
        name=_optional(args, "name"),
        description=_optional(args, "description"),
        contacts=None if contacts is None else list(contacts),
        no_contacts=bool(args.get("no_contacts", False)),
    )


def _org_member_action(verb: str, summary: str, run: Callable[..., Done]) -> Action:
    """``org.VERB`` at ``/orgs/{id}/VERB`` with a ``member``: ``run(actor, org=, member=)``."""
    return Action(
        f"org.{verb}",
        "post",
        f"/orgs/{{id}}/{verb}",
        summary,
        (_MEMBER,),
        lambda actor, args: run(actor, org=text(args, "id"), member=text(args, "member")),
        "Org",
    )


def _org_self_action(verb: str, summary: str, run: Callable[..., Done]) -> Action:
    """``org.VERB`` at ``/orgs/{id}/VERB`` without fields: ``run(actor, org=)``."""
    return Action(
        f"org.{verb}",
        "post",
        f"/orgs/{{id}}/{verb}",
        summary,
        (),
        lambda actor, args: run(actor, org=text(args, "id")),
        "Org",
    )


def _profile_set(actor: Actor, args: Args) -> Done:
    contacts = args.get("contacts")
    return profiles.profile_set(
        actor,
        name=_optional(args, "name"),
        about=_optional(args, "about"),
        contacts=None if contacts is None else list(contacts),
        no_contacts=bool(args.get("no_contacts", False)),
        status=_optional(args, "status"),
        message=_optional(args, "message"),
    )


def _device_revoke(actor: Actor, args: Args) -> Done:
    start = args.get("from_seq")
    return devices.revoke(actor, device=text(args, "device"), from_seq=start)


ACTIONS: Final[tuple[Action, ...]] = (
    *peers.PEER_ACTIONS,
    Action(
        "idea.post",
        "post",
        "/ideas",
        "Post an idea to the forum.",
        (
            Field("title", str, "One line.", required=True, schema={"maxLength": 200}),
            Field("body", str, "The idea in full."),
        ),
        lambda actor, args: forum.idea_post(
            actor, title=text(args, "title"), body=text(args, "body")
        ),
        "Created",
    ),
    Action(
        "idea.comment",
        "post",
        "/ideas/{id}/comments",
        "Comment on an idea.",
        (Field("text", str, "The comment.", required=True),),
        lambda actor, args: forum.comment(actor, idea=text(args, "id"), text=text(args, "text")),
        "CreatedComment",
    ),
    Action(
        "rate",
        "post",
        "/ratings",
        "Rate a participant or an idea; your latest rating of a subject replaces earlier ones.",
        (
            Field("subject", str, "A participant id (or unique part), or an idea id.", True),
            Field("score", int, "0 none ... 5 outstanding.", True, {"minimum": 0, "maximum": 5}),
            Field("comment", str, "Why, in a few words."),
        ),
        _rate,
        "CreatedRating",
    ),
    Action(
        "poll.new",
        "post",
        "/polls",
        "Open a poll.",
        (
            Field("question", str, "The question.", required=True),
            Field("options", list, "2 to 20 options.", required=True, schema={"maxItems": 20}),
            Field("closes", str, "Closing time (RFC 3339).", schema=_TIME),
        ),
        lambda actor, args: polls.poll_new(
            actor,
            question=text(args, "question"),
            options=args["options"],
            closes=optional_time(args, "closes"),
        ),
        "Created",
    ),
    Action(
        "poll.vote",
        "post",
        "/polls/{id}/votes",
        "Vote in a poll; a later vote replaces your earlier one until the poll closes.",
        (Field("option", str, "Option number (1, 2, ...) or its exact text.", required=True),),
        lambda actor, args: polls.vote(actor, poll=text(args, "id"), option=text(args, "option")),
        "CreatedVote",
    ),
    Action(
        "agreement.new",
        "post",
        "/agreements",
        "Publish a new agreement.",
        (
            Field("title", str, "The agreement's title.", required=True),
            Field("text", str, "The full text.", required=True),
            _SOURCE,
        ),
        lambda actor, args: agreements.new(
            actor,
            title=text(args, "title"),
            text=text(args, "text"),
            source=text(args, "source", "the text"),
        ),
        "AgreementWritten",
    ),
    Action(
        "agreement.edit",
        "post",
        "/agreements/{id}/edits",
        "Change an agreement's text (the difference is recorded).",
        (Field("text", str, "The wanted full text.", required=True), _SOURCE),
        lambda actor, args: agreements.edit(
            actor,
            agreement=text(args, "id"),
            text=text(args, "text"),
            source=text(args, "source", "the text"),
        ),
        "AgreementWritten",
    ),
    Action(
        "agreement.accept",
        "post",
        "/agreements/{id}/accept",
        "Sign your acceptance of the agreement's current version.",
        (),
        lambda actor, args: agreements.accept(actor, agreement=text(args, "id")),
        "AgreementAccepted",
    ),
    Action(
        "request.create",
        "post",
        "/requests",
        "Ask your trust list for help.",
        (
            *_AMOUNT,
            Field("reason", str, "What the help is for.", required=True),
            Field("monthly", bool, "Regular monthly support, not a one-off."),
        ),
        _request_create,
        "Request",
    ),
    Action(
        "request.close",
        "post",
        "/requests/{id}/close",
        "Close your help request: open intentions are released, commitments stay.",
        (_NOTE,),
        _close(REQUEST),
        "RequestClosed",
    ),
    Action(
        "initiative.propose",
        "post",
        "/initiatives",
        "Propose an initiative; members back it with intentions.",
        (
            Field("title", str, "A short title.", required=True),
            Field("goal", str, "The price, e.g. 1200.", required=True, schema={"maxLength": 40}),
            Field("currency", str, "ISO 4217 code.", required=True, schema={"maxLength": 3}),
            Field("description", str, "What, why and how."),
            Field("deadline", str, "Collect until (RFC 3339).", schema=_TIME),
        ),
        _initiative_propose,
        "Initiative",
    ),
    Action(
        "initiative.close",
        "post",
        "/initiatives/{id}/close",
        "Close (or cancel) your initiative: open intentions are released, commitments stay.",
        (_NOTE,),
        _close(INITIATIVE),
        "InitiativeClosed",
    ),
    Action(
        "invite.create",
        "post",
        "/invites",
        "Record an invite; the answer holds its one-line code (shown once).",
        (
            *_AMOUNT,
            Field("expires", str, "Valid until (RFC 3339).", required=True, schema=_TIME),
            Field("note", str, "A personal message.", schema={"maxLength": 1000}),
            Field("addrs", list, "Multiaddrs where the invitee can reach you."),
        ),
        _invite_create,
        "InviteCreated",
    ),
    Action(
        "invite.accept",
        "post",
        "/invites/accept",
        "Accept an invite: your reciprocal guarantee and the proof that you hold the code.",
        (
            Field("code", str, "The invite code you received.", required=True),
            Field("amount", str, "Your guarantee (default: the inviter's)."),
            Field("currency", str, "Its currency (default: the inviter's)."),
        ),
        _invite_accept,
        "InviteAccepted",
    ),
    Action(
        "invite.revoke",
        "post",
        "/invites/{id}/revoke",
        "Revoke a pending invite you sent: its code can no longer be accepted.",
        (),
        lambda actor, args: trust.invite_revoke(actor, invite=text(args, "id")),
        "InviteRevoked",
    ),
    Action(
        "pledge.intend",
        "post",
        "/pledges",
        "Record an intention to give to a participant, a help request or an initiative.",
        (
            *_AMOUNT,
            Field("to", str, "A participant id (or a unique part of one)."),
            Field("request", str, "A help request id (or a unique prefix)."),
            Field("initiative", str, "An initiative id (or a unique prefix)."),
            Field("listing", str, "A portal listing it pays or gives for (to: its author)."),
            _FORCE,
        ),
        _pledge_intend,
        "Pledge",
    ),
    Action(
        "pledge.revise",
        "post",
        "/pledges/{id}/revise",
        "Change the amount of an intention (same currency).",
        (Field("amount", str, "The new amount.", required=True, schema={"maxLength": 40}),),
        lambda actor, args: pledges.revise(
            actor, pledge=text(args, "id"), amount=text(args, "amount")
        ),
        "Pledge",
    ),
    Action(
        "pledge.withdraw",
        "post",
        "/pledges/{id}/withdraw",
        "Withdraw an intention (a commitment cannot be withdrawn).",
        (),
        lambda actor, args: pledges.withdraw(actor, pledge=text(args, "id")),
        "Pledge",
    ),
    Action(
        "pledge.commit",
        "post",
        "/pledges/{id}/commit",
        "Turn your intention into an irrevocable commitment.",
        (Field("due", str, "Due date (RFC 3339).", schema=_TIME), _FORCE),
        lambda actor, args: pledges.commit(
            actor,
            pledge=text(args, "id"),
            due=optional_time(args, "due"),
            force=bool(args.get("force", False)),
        ),
        "Pledge",
    ),
    Action(
        "pledge.fulfil",
        "post",
        "/pledges/{id}/fulfil",
        "Confirm, as its beneficiary, that a commitment was fulfilled.",
        (),
        lambda actor, args: pledges.fulfil(actor, pledge=text(args, "id")),
        "Pledge",
    ),
    Action(
        "pledge.forgive",
        "post",
        "/pledges/{id}/forgive",
        "Release, as its beneficiary, the giver from a commitment.",
        (),
        lambda actor, args: pledges.forgive(actor, pledge=text(args, "id")),
        "Pledge",
    ),
    Action(
        "listing.new",
        "post",
        "/listings",
        "Publish an offer or a request on the portal.",
        (
            Field("side", str, "offer or request.", True, {"enum": ["offer", "request"]}),
            Field("title", str, "A short title.", True, {"maxLength": 200}),
            Field("tags", list, "1..10 tags, at least one category (goods, services, ...).", True),
            *_LISTING_FIELDS,
            Field("frequency", str, "once, hourly, daily or monthly (with a price)."),
            Field("geohash", str, "Where, as a geohash (1..12 characters)."),
            Field("from", str, "Available from (RFC 3339).", schema=_TIME),
            Field("until", str, "Available until (RFC 3339).", schema=_TIME),
        ),
        _listing_new,
        "Listing",
    ),
    Action(
        "listing.edit",
        "post",
        "/listings/{id}/edit",
        "Change some fields of your listing (the others stay); the last edit wins.",
        (
            Field("title", str, "A new title.", schema={"maxLength": 200}),
            Field("tags", list, "The new tags."),
            *_LISTING_FIELDS,
            Field("status", str, "active, reserved, done or withdrawn."),
            Field("no_org", bool, "No longer on behalf of an org."),
        ),
        _listing_edit,
        "Listing",
    ),
    Action(
        "listing.close",
        "post",
        "/listings/{id}/close",
        "Mark your listing done (or withdrawn).",
        (Field("withdraw", bool, "Withdrawn (it did not happen), not done."),),
        lambda actor, args: portal.listing_close(
            actor, listing=text(args, "id"), withdraw=bool(args.get("withdraw", False))
        ),
        "Listing",
    ),
    Action(
        "review",
        "post",
        "/reviews",
        "Review the other party of a fulfilled deal made through a listing (once per deal).",
        (
            Field("pledge", str, "The pledge (intention) id of the deal.", True),
            Field("rating", int, "1 poor ... 5 excellent.", True, {"minimum": 1, "maximum": 5}),
            Field("text", str, "What went well or not.", schema={"maxLength": 2000}),
        ),
        lambda actor, args: portal.review(
            actor, pledge=text(args, "pledge"), rating=int(args["rating"]), text=text(args, "text")
        ),
        "CreatedReview",
    ),
    Action(
        "profile.set",
        "post",
        "/profiles",
        "Publish your profile; the fields left out keep their current values.",
        (
            Field("name", str, "Your display name (1 to 64 characters).", schema={"maxLength": 64}),
            Field("about", str, "A few words about you.", schema={"maxLength": 500}),
            Field(
                "contacts",
                list,
                "TYPE=VALUE contacts (email, phone, telegram, address, url); replace yours.",
                schema={"maxItems": 8},
            ),
            Field("no_contacts", bool, "Remove all your contacts."),
            Field("status", str, "fine, support or urgent.", schema={"maxLength": 16}),
            Field("message", str, "What your status is about.", schema={"maxLength": 280}),
        ),
        _profile_set,
        "Profile",
    ),
    Action(
        "org.new",
        "post",
        "/orgs",
        "Create an organization; you are its first member and admin.",
        (
            Field("name", str, "Its name (1 to 64 characters).", True, {"maxLength": 64}),
            *_ORG_FIELDS,
        ),
        lambda actor, args: orgs.org_new(
            actor,
            name=text(args, "name"),
            description=text(args, "description"),
            contacts=list(args.get("contacts", [])),
        ),
        "Org",
    ),
    Action(
        "org.edit",
        "post",
        "/orgs/{id}/edit",
        "Change an org's name, description or contacts (admins; the last edit wins).",
        (
            Field("name", str, "A new name.", schema={"maxLength": 64}),
            *_ORG_FIELDS,
            Field("no_contacts", bool, "Remove all its contacts."),
        ),
        _org_edit,
        "Org",
    ),
    _org_member_action(
        "invite",
        "Invite a participant (admins); they are a member once they join.",
        orgs.org_invite,
    ),
    _org_self_action(
        "join", "Accept an org's invitation (or ask to join before one).", orgs.org_join
    ),
    _org_self_action(
        "leave", "Leave an org (or decline its invitation); the last admin cannot.", orgs.org_leave
    ),
    _org_member_action(
        "remove",
        "End a member's membership or invitation (admins); the last admin stays.",
        orgs.org_remove,
    ),
    Action(
        "org.admin",
        "post",
        "/orgs/{id}/admins",
        "Make a member an admin, or with admin false take it back (admins).",
        (_MEMBER, Field("admin", bool, "true (default): make an admin; false: take it back.")),
        lambda actor, args: orgs.org_admin(
            actor,
            org=text(args, "id"),
            member=text(args, "member"),
            admin=bool(args.get("admin", True)),
        ),
        "Org",
    ),
    Action(
        "device.add",
        "post",
        "/devices",
        "Add a device to your identity; the answer holds its one-time code (shown once).",
        (Field("addrs", list, "Multiaddrs where the new device can reach this one."),),
        lambda actor, args: devices.add(actor, addrs=args.get("addrs")),
        "DeviceAdded",
    ),
    Action(
        "device.accept",
        "post",
        "/devices/accept",
        "Join an identity as a new device: this key's first entry accepts the code's add.",
        (Field("code", str, "The device code of 'samoorg device add'.", required=True),),
        lambda actor, args: devices.accept(actor, code=text(args, "code")),
        "DeviceAccepted",
    ),
    Action(
        "device.revoke",
        "post",
        "/devices/revoke",
        "Revoke another device of your identity: its entries from a seq on are void.",
        (
            Field("device", str, "The device's participant id (or a unique part).", True),
            Field(
                "from_seq",
                int,
                "First void entry of its feed (default: the one after what is held).",
                schema={"minimum": 1, "maximum": 2**63 - 1},
            ),
        ),
        _device_revoke,
        "DeviceRevoked",
    ),
    Action(
        "recovery.set",
        "post",
        "/recovery",
        "Name your guardians (from your trust list), how many must approve, and the wait.",
        (
            Field(
                "guardians",
                list,
                "Guardians' ids or names (1 to 16).",
                required=True,
                schema={"minItems": 1, "maxItems": 16},
            ),
            Field("threshold", int, "How many must approve.", True, {"minimum": 1}),
            Field("wait_ms", int, "Waiting period in ms (default 72 h).", schema={"minimum": 0}),
        ),
        lambda actor, args: recovery.recovery_set(
            actor,
            guardians=list(args["guardians"]),
            threshold=int(args["threshold"]),
            wait=int(args.get("wait_ms", DEFAULT_WAIT)),
        ),
        "Created",
    ),
    Action(
        "recovery.request",
        "post",
        "/recovery/requests",
        "From a new key (no entry yet), ask to become a device of a lost identity.",
        (Field("identity", str, "The identity's id.", True, {"maxLength": 200}),),
        lambda actor, args: recovery.recovery_request(actor, identity=text(args, "identity")),
        "Created",
    ),
    Action(
        "recovery.approve",
        "post",
        "/recovery/requests/{id}/approvals",
        "Approve a recovery request as one of its guardians.",
        (),
        lambda actor, args: recovery.recovery_approve(actor, request=text(args, "id")),
        "Created",
    ),
    Action(
        "recovery.veto",
        "post",
        "/recovery/requests/{id}/vetoes",
        "Stop a recovery request for your identity (from one of its devices).",
        (),
        lambda actor, args: recovery.recovery_veto(actor, request=text(args, "id")),
        "Created",
    ),
)
"""Every write action of the API (the CLI's write commands)."""

_BY_NAME: Final = {a.name: a for a in ACTIONS}


def action(name: str) -> Action:
    """The action called ``name`` (``pledge.commit``)."""
    return _BY_NAME[name]
