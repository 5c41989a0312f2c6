"""The life of one invite: who (if anyone) accepted it, and which entries are void.

Theory of operation. Everything that refers to one invite id (the
``trust.invite`` entry itself, every ``trust.accept``, ``trust.revoke`` and
``trust.confirm`` naming it) lands in one :class:`InviteBucket`.
:func:`resolve` is a pure function of the bucket's *set* of entries (and of
the set of forked authors), so any delivery order gives the same outcome. The
rules (``docs/protocol.md`` §8.3):

0. An acceptance naming a forked inviter is void unless the invite is held
   (that is, before the inviter's cut: views ignore a forked author's entries
   from the cut on), whether or not a void invite is held: a node that holds
   a void invite must judge like one that does not.
1. Until the invite entry is held, acceptances, revocations and
   confirmations *wait* (they are neither valid nor void).
2. A revocation counts only if the inviter signed it; the invite is revoked
   from the earliest such revocation's timestamp ``R``.
3. An acceptance is a candidate if its author is not the inviter, it names
   the invite's author as ``inviter``, its proof verifies under the invite's
   one-time key over (invite id, author), and its timestamp is at most
   ``expires`` and at most ``R`` (a tie goes to the acceptance).
4. Single use: the candidate with the smallest ``(timestamp, entry id)``
   wins; every other candidate is void ("already used"). Revocations after a
   winning acceptance are void ("already accepted").
5. A confirmation counts only if the inviter signed it. With a winner, it
   must name the winner's author; without one it waits for that acceptance.

Acceptances waiting for their invite and confirmations waiting for their
acceptance are *claims* of a mutual-guarantee edge (:attr:`InviteOutcome.claims`):
not edges, but what the replication scope follows to find the feed that
would complete one.

Times are the authors' signed entry timestamps: the only clock all nodes
share. Proof checks are cached per acceptance, since both inputs are
immutable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from samoorg.crdt.reasons import Reason, ReasonCode
from samoorg.crdt.records import Accept, Confirm, Invite, Revoke
from samoorg.protocol.entry import Entry
from samoorg.protocol.errors import BadSignature
from samoorg.protocol.ids import peer_id
from samoorg.protocol.invite_code import verify_acceptance

PENDING: Final = "pending"
ACCEPTED: Final = "accepted"
REVOKED: Final = "revoked"
VOID: Final = "invalid"
WAITING: Final = "waiting"
"""States of an invite; ``waiting`` means acceptances are held but the invite is not."""


def utc(ms: int) -> str:
    """A millisecond timestamp as ISO 8601 UTC text, for reasons and listings."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class InviteBucket:
    """Every held entry that refers to one invite id."""

    invite: Entry | None = None
    record: Invite | None = None
    error: str | None = None
    accepts: list[tuple[Entry, Accept]] = field(default_factory=list)
    revokes: list[tuple[Entry, Revoke]] = field(default_factory=list)
    confirms: list[tuple[Entry, Confirm]] = field(default_factory=list)
    proof_ok: dict[bytes, bool] = field(default_factory=dict)

    def proof_valid(self, entry: Entry, accept: Accept) -> bool:
        """Whether ``accept.proof`` verifies under the invite's one-time key (cached)."""
        known = self.proof_ok.get(entry.id)
        if known is None:
            assert self.invite is not None
            assert self.record is not None
            try:
                verify_acceptance(self.record.key, self.invite.id, entry.author, accept.proof)
            except BadSignature:
                known = False
            else:
                known = True
            self.proof_ok[entry.id] = known
        return known


@dataclass(frozen=True, slots=True)
class Claim:
    """``claimant`` (at ``seq`` in their feed) says ``other`` is their invite partner."""

    claimant: bytes
    seq: int
    other: bytes


@dataclass(frozen=True, slots=True)
class InviteOutcome:
    """The resolved state of one invite."""

    id: bytes
    state: str
    invite: Entry | None
    record: Invite | None
    winner: tuple[Entry, Accept] | None
    revoked_at: int | None
    invalid: dict[bytes, Reason]
    waiting: tuple[bytes, ...]
    """Entries waiting, ascending: for the invite entry, or (confirmations) for the acceptance."""
    confirmed: tuple[bytes, ...] = ()
    """Confirmations that name the winning acceptance's author."""
    claims: tuple[Claim, ...] = ()
    """Edges claimed by waiting entries, for the replication scope."""

    @property
    def inviter(self) -> bytes | None:
        """The inviter's key, once the invite entry is held."""
        return self.invite.author if self.invite is not None else None

    @property
    def invitee(self) -> bytes | None:
        """Who accepted, if anyone did."""
        return self.winner[0].author if self.winner is not None else None

    def status(self, now: int) -> str:
        """:attr:`state`, but ``expired`` for a pending invite past its expiry at ``now``."""
        if self.state == PENDING and self.record is not None and now > self.record.expires:
            return "expired"
        return self.state


def resolve(
    invite_id: bytes, bucket: InviteBucket, is_forked: Callable[[bytes], bool]
) -> InviteOutcome:
    """Apply the rules of the module docstring to one bucket."""
    invalid: dict[bytes, Reason] = {}
    accepts: list[tuple[Entry, Accept]] = []
    for entry, accept in bucket.accepts:
        if is_forked(accept.inviter) and bucket.invite is None:
            invalid[entry.id] = Reason(
                ReasonCode.FORKED_INVITER,
                f"the inviter {peer_id(accept.inviter)} is flagged as forked; every view "
                "ignores their invites",
            )
        else:
            accepts.append((entry, accept))
    invite, record = bucket.invite, bucket.record
    if invite is None:
        waiting = sorted(e.id for e, _ in [*accepts, *bucket.revokes, *bucket.confirms])
        claims = tuple(Claim(e.author, e.seq, a.inviter) for e, a in accepts)
        return InviteOutcome(
            invite_id, WAITING, None, None, None, None, invalid, tuple(waiting), claims=claims
        )
    if record is None:
        for entry, _ in [*accepts, *bucket.revokes, *bucket.confirms]:
            invalid[entry.id] = Reason(
                ReasonCode.INVALID_INVITE, f"refers to an invalid invite ({bucket.error})"
            )
        return InviteOutcome(invite_id, VOID, invite, None, None, None, invalid, ())
    inviter = invite.author
    revoked_at: int | None = None
    valid_revokes: list[Entry] = []
    for entry, _ in bucket.revokes:
        if entry.author != inviter:
            invalid[entry.id] = Reason(
                ReasonCode.NOT_INVITER_REVOKE, "only the inviter can revoke an invite"
            )
        else:
            valid_revokes.append(entry)
            if revoked_at is None or entry.timestamp < revoked_at:
                revoked_at = entry.timestamp
    candidates: list[tuple[Entry, Accept]] = []
    for entry, accept in accepts:
        if entry.author == inviter:
            invalid[entry.id] = Reason(ReasonCode.OWN_INVITE, "cannot accept your own invite")
        elif accept.inviter != inviter:
            invalid[entry.id] = Reason(
                ReasonCode.WRONG_INVITER,
                f"the acceptance names {peer_id(accept.inviter)} as the inviter, but invite "
                f"{invite_id.hex()[:12]} is by {peer_id(inviter)}",
            )
        elif not bucket.proof_valid(entry, accept):
            invalid[entry.id] = Reason(
                ReasonCode.BAD_PROOF,
                "the acceptance proof does not match the invite's one-time key (wrong secret)",
            )
        elif entry.timestamp > record.expires:
            invalid[entry.id] = Reason(
                ReasonCode.INVITE_EXPIRED,
                f"invite expired at {utc(record.expires)}, before this acceptance at "
                f"{utc(entry.timestamp)}",
            )
        elif revoked_at is not None and entry.timestamp > revoked_at:
            invalid[entry.id] = Reason(
                ReasonCode.INVITE_REVOKED, f"invite was revoked at {utc(revoked_at)}"
            )
        else:
            candidates.append((entry, accept))
    winner = min(candidates, key=lambda c: (c[0].timestamp, c[0].id), default=None)
    confirms: list[tuple[Entry, Confirm]] = []
    for entry, confirm in bucket.confirms:
        if entry.author != inviter:
            invalid[entry.id] = Reason(
                ReasonCode.NOT_INVITER_CONFIRM, "only the inviter can confirm an acceptance"
            )
        elif winner is not None and confirm.invitee != winner[0].author:
            invalid[entry.id] = Reason(
                ReasonCode.WRONG_INVITEE,
                f"invite was accepted by {peer_id(winner[0].author)}, not "
                f"{peer_id(confirm.invitee)}",
            )
        else:
            confirms.append((entry, confirm))
    confirm_ids = tuple(sorted(e.id for e, _ in confirms))
    if winner is None:
        state = PENDING if revoked_at is None else REVOKED
        claims = tuple(Claim(e.author, e.seq, c.invitee) for e, c in confirms)
        return InviteOutcome(
            invite_id, state, invite, record, None, revoked_at, invalid, confirm_ids, claims=claims
        )
    first, who = winner[0], peer_id(winner[0].author)
    used = Reason(
        ReasonCode.INVITE_USED, f"invite already used by {who} (acceptance {first.id.hex()[:12]})"
    )
    for entry, _ in candidates:
        if entry is not first:
            invalid[entry.id] = used
    for entry in valid_revokes:
        invalid[entry.id] = Reason(
            ReasonCode.ALREADY_ACCEPTED, f"invite was already accepted by {who}"
        )
    return InviteOutcome(
        invite_id, ACCEPTED, invite, record, winner, None, invalid, (), confirmed=confirm_ids
    )
