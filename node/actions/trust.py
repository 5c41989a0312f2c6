"""Trust actions: create, accept and revoke invites.

``invite_create`` makes the invite's secret here, in the process that signs
(the one-time key is in the record; the secret only in the returned code,
shown once). ``invite_accept`` also records the inviter in the home's peer
book (in scope, dialled at the code's addresses). The ``trust.confirm`` of an
acceptance of ours is not a command: the daemon signs it through the same
write path (:func:`samoorg.node.scope.confirm_acceptances`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.actions import Actor, Done, now
from samoorg.node.api.shapes import money_json
from samoorg.node.api.times import Instant
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.money import Amount

NOT_HELD_NOTE = (
    "the inviter's feed is not here yet: the mutual guarantee appears once it "
    "arrives (a running daemon fetches it; or 'samoorg sync ADDR', or import a bundle)"
)


def invite_create(
    actor: Actor,
    *,
    guarantee: Amount,
    expires: int,
    note: str = "",
    addrs: Sequence[str] | None = None,
) -> Done:
    """Record an invite guaranteeing ``guarantee`` until ``expires`` (ms); answer its code.

    ``addrs`` (multiaddrs where the invitee can reach us) default to the
    running daemon's advertised addresses.
    """
    from samoorg.crdt.framework.fields import amount_fields
    from samoorg.crdt.kinds.trust import INVITE
    from samoorg.node.daemon_state import advertised_addrs
    from samoorg.protocol.invite_code import InviteCode, new_secret, one_time_key

    secret = new_secret()
    body: dict[str, Any] = {**amount_fields(guarantee), "expires": expires}
    body["key"] = one_time_key(secret)
    if note:
        body["note"] = note
    entry = actor.write(INVITE, body)
    code = InviteCode(
        inviter=entry.author,
        invite=entry.id,
        secret=secret,
        expires=expires,
        amount=guarantee.minor,
        currency=guarantee.currency,
        addrs=tuple(advertised_addrs(actor.home) if addrs is None else addrs),
    ).format()
    return Done({"invite": entry.id.hex(), "code": code, "expires": Instant(expires)}, (entry,))


def invite_accept(
    actor: Actor, *, code: str, guarantee: Amount | None = None, at: int | None = None
) -> Done:
    """Accept the invite of ``code``, guaranteeing ``guarantee`` (default: the inviter's)."""
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.crdt.framework.fields import amount_fields
    from samoorg.crdt.framework.reasons import utc
    from samoorg.crdt.kinds.trust import TRUST_ACCEPT as ACCEPT
    from samoorg.node.peerbook import remember_inviter
    from samoorg.protocol.invite_code import parse_invite_code, sign_acceptance

    invite = parse_invite_code(code)
    me = actor.me
    if invite.inviter == me:
        raise RuleViolation("cannot accept your own invite")
    if (now() if at is None else at) > invite.expires:
        raise RuleViolation(f"invite expired at {utc(invite.expires)}")
    offered = Amount(invite.currency, invite.amount)
    given = offered if guarantee is None else guarantee
    views = actor.views
    before = views.trust.outcome(invite.invite)
    if (before is not None and before.invitee == me) or _accepted_before(actor, invite.invite):
        raise RuleViolation(f"you already accepted invite {invite.invite.hex()[:12]}")
    signer = actor.load_signer()
    body = {
        "invite": invite.invite,
        "inviter": invite.inviter,
        **amount_fields(given),
        "proof": sign_acceptance(invite.secret, invite.invite, signer.public_key),
    }
    entry = actor.write(ACCEPT, body)
    remember_inviter(actor.home, invite.inviter, invite.addrs)  # in scope; the daemon dials
    outcome = views.trust.outcome(invite.invite)
    held = outcome is not None and outcome.invite is not None
    shape = {
        "acceptance": entry.id.hex(),
        "invite": invite.invite.hex(),
        "inviter": peer_id(invite.inviter),
        "their_guarantee": money_json(offered.minor, offered.currency),
        "your_guarantee": money_json(given.minor, given.currency),
        "edge": bool(held and outcome is not None and outcome.invitee == me),
        "addrs": list(invite.addrs),
    }
    return Done(shape, (entry,), () if held else (NOT_HELD_NOTE,))


def _accepted_before(actor: Actor, invite: bytes) -> bool:
    """Whether our own feed already holds an acceptance of ``invite``.

    The views cannot tell while the inviter's feed (and so the invite) is absent.
    """
    from samoorg.crdt.kinds.trust import TRUST_ACCEPT as ACCEPT

    mine = actor.store.entries(author=actor.device, kinds=[ACCEPT])
    return any(entry.body.get("invite") == invite for _, entry in mine)


def invite_revoke(actor: Actor, *, invite: str, at: int | None = None) -> Done:
    """Revoke a pending invite of ours (``invite``: its id or a unique prefix)."""
    from samoorg.crdt.kinds.trust import INVITE, REVOKE, REVOKED

    entry = actor.entry(invite, INVITE)
    views = actor.views
    outcome = views.trust.outcome(entry.id)
    if outcome is not None and outcome.state == REVOKED:
        raise RuleViolation(f"invite {entry.id.hex()[:12]} is already revoked")
    if outcome is not None and outcome.invitee is not None:
        raise RuleViolation(f"invite was already accepted by {peer_id(outcome.invitee)}")
    revoke = actor.write(REVOKE, {"invite": entry.id})
    revoked = views.trust.outcome(entry.id)
    state = revoked.status(now() if at is None else at) if revoked else REVOKED
    shape = {"invite": entry.id.hex(), "revocation": revoke.id.hex(), "state": state}
    return Done(shape, (revoke,))
