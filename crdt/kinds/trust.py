"""The trust list by mutual guarantee: edges, reachability, and the pool of intentions.

Theory of operation. A *mutual-guarantee edge* joins an inviter and an
invitee when an invite is accepted (:func:`resolve` decides that, one invite
at a time, by the rules below). The trust list of a member is everyone reachable from
them over edges ("the friend of my friend is my friend"), with the distance
and the shortest chain of personal contacts. The pool of intentions sums each
member's *declared guarantee* once.

Incremental update: :meth:`TrustState.apply` only files new entries into
per-invite buckets and marks those invites dirty; the next query re-resolves
the dirty invites and patches the graph by removing each invite's old
contribution and adding its new one. The graph is therefore a function of the
set of outcomes, whatever the order of updates.

Declared guarantee: each edge-forming entry (the accepted invite, the winning
acceptance) declares its author's guarantee in one currency. A member's
guarantee in a currency is the one declared by their entry with the highest
``seq`` (their latest word), so inviting ten people at 100 EUR counts 100 EUR
once, not 1000 EUR.

Root-relative questions (who is on *my* list) are methods taking the root, so
the shared state (and its digest) is the same on every node.

Forked authors: like every view, this one never receives their void entries
(from the cut of their fork on), so a forked participant keeps the edges made
before the cut and gains none after it. An acceptance naming a forked inviter
whose invite is not held (or void) is void at once (``reads_forked``), on a
node that holds the void invite as on one that does not.

Claims (:meth:`TrustState.claims`): an acceptance waiting for its invite names
the inviter, and a ``trust.confirm`` waiting for the acceptance it names
names the invitee. They form no edge, but tell the replication scope whose
feed would complete one.

The life of one invite
----------------------
Everything that refers to one invite id (the
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

Participants are identities (§8.11.1): the graph joins identities, "the
inviter" is any device of the invite author's identity, and a guarantee is the
latest of the identity's declarations by the rule of
:mod:`samoorg.crdt.framework.identity`.

Times are the authors' signed entry timestamps: the only clock all nodes
share. Proof checks are cached per acceptance, since both inputs are
immutable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.domain import BucketDomain, patch_index
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import (
    ID_SIZE,
    KEY_SIZE,
    MAX_NOTE,
    amount_fields,
    read_amount,
    read_bytes,
    read_integer,
    read_text,
)
from samoorg.crdt.framework.identity import latest_per_identity
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested, utc
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor
from samoorg.protocol.errors import BadSignature
from samoorg.protocol.ids import peer_id
from samoorg.protocol.invite_code import verify_acceptance

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry

# -- kind names ---------------------------------------------------------------

INVITE: Final = "trust.invite"
TRUST_ACCEPT: Final = "trust.accept"
REVOKE: Final = "trust.revoke"
CONFIRM: Final = "trust.confirm"
TRUST_KINDS: Final = (INVITE, TRUST_ACCEPT, REVOKE, CONFIRM)

PROOF_SIZE: Final = 64


# -- records ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invite:
    """``trust.invite``: "I intend to help you with ``amount`` and count on reciprocity"."""

    amount: Amount
    expires: int
    key: bytes
    note: str


@dataclass(frozen=True, slots=True)
class Accept:
    """``trust.accept``: the invitee's reciprocal guarantee and proof of the secret.

    ``inviter`` names the invite's author, so that whoever holds the
    invitee's feed knows whose feed completes the edge (replication scope).
    """

    invite: bytes
    inviter: bytes
    amount: Amount
    proof: bytes


@dataclass(frozen=True, slots=True)
class Revoke:
    """``trust.revoke``: the inviter withdraws a pending invite."""

    invite: bytes


@dataclass(frozen=True, slots=True)
class Confirm:
    """``trust.confirm``: the inviter names who accepted an invite (for replication scope)."""

    invite: bytes
    invitee: bytes


TrustRecord = Invite | Accept | Revoke | Confirm


# -- bodies (the field rules are the decoders'; the write path applies them) ---


def invite_body(amount: Amount, expires: int, key: bytes, note: str = "") -> dict[str, dcbor.Value]:
    """The body of a ``trust.invite`` guaranteeing ``amount`` with one-time key ``key``."""
    body: dict[str, dcbor.Value] = {**amount_fields(amount), "expires": expires, "key": key}
    if note:
        body["note"] = note
    return body


def accept_body(
    invite: bytes, inviter: bytes, amount: Amount, proof: bytes
) -> dict[str, dcbor.Value]:
    """The body of a ``trust.accept`` of ``invite`` (by ``inviter``) with the proof."""
    return {"invite": invite, "inviter": inviter, **amount_fields(amount), "proof": proof}


def revoke_body(invite: bytes) -> dict[str, dcbor.Value]:
    """The body of a ``trust.revoke`` of ``invite``."""
    return {"invite": invite}


def confirm_body(invite: bytes, invitee: bytes) -> dict[str, dcbor.Value]:
    """The body of a ``trust.confirm`` naming who accepted ``invite``."""
    return {"invite": invite, "invitee": invitee}


# -- decoders -----------------------------------------------------------------


def decode_invite(entry: Entry) -> Invite:
    """The invite ``entry`` carries; raises :class:`RuleViolation`."""
    body = entry.body
    return Invite(
        amount=read_amount(body),
        expires=read_integer(body, "expires"),
        key=read_bytes(body, "key", KEY_SIZE),
        note=read_text(body, "note", max_chars=MAX_NOTE, required=False),
    )


def decode_accept(entry: Entry) -> Accept:
    """The acceptance ``entry`` carries; raises :class:`RuleViolation`."""
    body = entry.body
    return Accept(
        invite=read_bytes(body, "invite", ID_SIZE),
        inviter=read_bytes(body, "inviter", KEY_SIZE),
        amount=read_amount(body),
        proof=read_bytes(body, "proof", PROOF_SIZE),
    )


def decode_revoke(entry: Entry) -> Revoke:
    """The revocation ``entry`` carries; raises :class:`RuleViolation`."""
    return Revoke(read_bytes(entry.body, "invite", ID_SIZE))


def decode_confirm(entry: Entry) -> Confirm:
    """The confirmation ``entry`` carries; raises :class:`RuleViolation`."""
    body = entry.body
    return Confirm(read_bytes(body, "invite", ID_SIZE), read_bytes(body, "invitee", KEY_SIZE))


# -- the life of one invite ---------------------------------------------------

PENDING: Final = "pending"
ACCEPTED: Final = "accepted"
REVOKED: Final = "revoked"
VOID: Final = "invalid"
WAITING: Final = "waiting"
"""States of an invite; ``waiting`` means acceptances are held but the invite is not."""


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
            known = _proof_verifies(self.record.key, self.invite.id, entry.author, accept.proof)
            self.proof_ok[entry.id] = known
        return known


PROOFS_REMEMBERED: Final = 1 << 17
"""How many acceptance proofs' results the process remembers beyond its buckets."""


@lru_cache(maxsize=PROOFS_REMEMBERED)
def _proof_verifies(key: bytes, invite_id: bytes, invitee: bytes, proof: bytes) -> bool:
    # A pure function of the bytes, remembered for the process: when a device joins
    # an identity the trust view is rebuilt from its entries (new buckets), and
    # verifying every acceptance again took seconds at 25,000 invites.
    try:
        verify_acceptance(key, invite_id, invitee, proof)
    except BadSignature:
        return False
    return True


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
    identities: tuple[bytes | None, bytes | None] = (None, None)
    """The identities of the inviter and invitee where they differ from the keys (§8.11.1)."""

    @property
    def inviter(self) -> bytes | None:
        """The inviter's identity, once the invite entry is held."""
        if self.identities[0] is not None:
            return self.identities[0]
        return self.invite.author if self.invite is not None else None

    @property
    def invitee(self) -> bytes | None:
        """The identity of who accepted, if anyone did."""
        if self.identities[1] is not None:
            return self.identities[1]
        return self.winner[0].author if self.winner is not None else None

    def status(self, now: int) -> str:
        """:attr:`state`, but ``expired`` for a pending invite past its expiry at ``now``."""
        if self.state == PENDING and self.record is not None and now > self.record.expires:
            return "expired"
        return self.state


def resolve(
    invite_id: bytes,
    bucket: InviteBucket,
    is_forked: Callable[[bytes], bool],
    identity: Callable[[bytes], bytes] = lambda key: key,
) -> InviteOutcome:
    """Apply the rules of the module docstring to one bucket.

    Participants are compared by ``identity`` (§8.11.1): any device of the
    inviter's identity may revoke or confirm, and a device of the inviter's
    own identity cannot accept. The outcome names inviter and invitee by identity."""
    outcome = _resolve(invite_id, bucket, is_forked, identity)
    keys = (
        outcome.invite.author if outcome.invite is not None else None,
        outcome.winner[0].author if outcome.winner is not None else None,
    )
    found = tuple(identity(k) if k is not None else None for k in keys)
    if found == keys:
        return outcome
    named = tuple(f if f != k else None for f, k in zip(found, keys, strict=True))
    return replace(outcome, identities=(named[0], named[1]))


def _resolve(
    invite_id: bytes,
    bucket: InviteBucket,
    is_forked: Callable[[bytes], bool],
    identity: Callable[[bytes], bytes],
) -> InviteOutcome:
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
    inviter = identity(invite.author)
    revoked_at: int | None = None
    valid_revokes: list[Entry] = []
    for entry, _ in bucket.revokes:
        if identity(entry.author) != inviter:
            invalid[entry.id] = Reason(
                ReasonCode.NOT_INVITER_REVOKE, "only the inviter can revoke an invite"
            )
        else:
            valid_revokes.append(entry)
            if revoked_at is None or entry.timestamp < revoked_at:
                revoked_at = entry.timestamp
    candidates: list[tuple[Entry, Accept]] = []
    for entry, accept in accepts:
        if identity(entry.author) == inviter:
            invalid[entry.id] = Reason(ReasonCode.OWN_INVITE, "cannot accept your own invite")
        elif identity(accept.inviter) != inviter:
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
        if identity(entry.author) != inviter:
            invalid[entry.id] = Reason(
                ReasonCode.NOT_INVITER_CONFIRM, "only the inviter can confirm an acceptance"
            )
        elif winner is not None and identity(confirm.invitee) != identity(winner[0].author):
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


# -- the trust list -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reach:
    """One member of a trust list as seen from its root."""

    member: bytes
    distance: int
    chain: tuple[bytes, ...]
    """Keys from the root to the member, both included (the root alone at distance 0)."""


@dataclass(frozen=True, slots=True)
class Pool:
    """Member count and the sum of declared guarantees per currency (minor units)."""

    members: int
    totals: dict[str, int]


@dataclass(frozen=True, slots=True)
class Declaration:
    """A guarantee declared by an edge-forming entry."""

    seq: int
    amount: Amount
    device: bytes = b""
    """The device key that declared it (the rule of §8.11.1 orders by seq per device)."""
    timestamp: int = 0
    entry_id: bytes = b""


class TrustState(BucketDomain[InviteBucket, InviteOutcome]):
    """Invites, the mutual-guarantee graph, and trust-list queries.

    The API other domains use: :meth:`neighbours`, :meth:`reachable`,
    :meth:`members`, :meth:`is_member`, :meth:`in_graph`, :meth:`guarantee`.
    """

    name = "trust"
    decoders = MappingProxyType(
        {
            INVITE: decode_invite,
            TRUST_ACCEPT: decode_accept,
            REVOKE: decode_revoke,
            CONFIRM: decode_confirm,
        }
    )
    reads_forked = True  # an acceptance naming a forked inviter is void

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._adjacent: dict[bytes, dict[bytes, int]] = {}
        self._declared: dict[bytes, dict[bytes, Declaration]] = {}
        self._claims: dict[bytes, set[Claim]] = {}
        self._by_party: dict[bytes, set[bytes]] = {}
        """The invites of each party: the inviter and the invitee (identities) and the
        author of each waiting entry (a key). Kept with the outcomes, so that one
        member's invites cost theirs (a checkpoint leaves the others encoded)."""

    # -- updating -------------------------------------------------------------

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new entries into their invite's bucket; resolution is lazy."""
        for entry, record in self.decoded(entries):
            if isinstance(record, Invite):
                bucket = self._bucket(entry.id)
                bucket.invite = entry
                if record.expires <= entry.timestamp:
                    bucket.error = "it expires before it was created"
                    self._malformed[entry.id] = Reason(
                        ReasonCode.MALFORMED,
                        "malformed trust.invite: it expires before it was created",
                    )
                else:
                    bucket.record = record
            else:
                bucket = self._bucket(record.invite)
                if isinstance(record, Accept):
                    bucket.accepts.append((entry, record))
                elif isinstance(record, Revoke):
                    bucket.revokes.append((entry, record))
                else:
                    bucket.confirms.append((entry, record))

    def _on_malformed(self, entry: Entry, exc: RuleViolation) -> None:
        if entry.kind == INVITE:  # acceptances of it are void, not waiting
            bucket = self._bucket(entry.id)
            bucket.invite, bucket.error = entry, str(exc)

    def _new_bucket(self) -> InviteBucket:
        return InviteBucket()

    def _resolve(self, key: bytes, bucket: InviteBucket) -> InviteOutcome:
        return resolve(key, bucket, self.views.index.is_forked, self.views.identity)

    def _contribute(self, outcome: InviteOutcome, sign: int) -> None:
        for party in self._parties(outcome):
            patch_index(self._by_party, party, outcome.id, sign)
        for claim in outcome.claims:
            patch_index(self._claims, claim.claimant, claim, sign)
        if outcome.state != ACCEPTED:
            return
        assert outcome.invite is not None
        assert outcome.record is not None
        assert outcome.winner is not None
        inviter, (accept_entry, accept) = outcome.inviter, outcome.winner
        invitee = outcome.invitee
        assert inviter is not None
        assert invitee is not None
        for a, b in ((inviter, invitee), (invitee, inviter)):
            row = self._adjacent.setdefault(a, {})
            count = row.get(b, 0) + sign
            if count:
                row[b] = count
            else:
                del row[b]
                if not row:
                    del self._adjacent[a]
        for author, entry, amount in (
            (inviter, outcome.invite, outcome.record.amount),
            (invitee, accept_entry, accept.amount),
        ):
            mine = self._declared.setdefault(author, {})
            if sign > 0:
                mine[entry.id] = Declaration(
                    entry.seq, amount, entry.author, entry.timestamp, entry.id
                )
            else:
                del mine[entry.id]
                if not mine:
                    del self._declared[author]

    # -- invites --------------------------------------------------------------

    def outcome(self, invite_id: bytes) -> InviteOutcome | None:
        """The resolved state of one invite (``None`` if nothing refers to it)."""
        self._refresh()
        return self._outcomes.get(invite_id)

    def outcomes(self) -> list[InviteOutcome]:
        """Every invite known (held, or waited for by acceptances), by id."""
        return self._sorted_outcomes()

    def invites_of(self, inviter: bytes) -> list[InviteOutcome]:
        """The invites whose inviter is the identity ``inviter``, by id.

        Equals ``[o for o in outcomes() if o.inviter == inviter]`` at the cost
        of ``inviter``'s own invites.
        """
        return [o for o in self.invites_with(inviter) if o.inviter == inviter]

    def invites_with(self, party: bytes) -> list[InviteOutcome]:
        """The invites ``party`` sent or accepted (as an identity), or holds a waiting entry
        of (as its author), by id: what ``invite list`` shows, at the cost of ``party``'s."""
        self._refresh()
        return [self._outcomes[i] for i in sorted(self._by_party.get(party, ()))]

    def _parties(self, outcome: InviteOutcome) -> set[bytes]:
        index = self.views.index
        waiting = (index.get(i) for i in outcome.waiting)
        parties = {entry.author for entry in waiting if entry is not None}
        parties.update(p for p in (outcome.inviter, outcome.invitee) if p is not None)
        return parties

    # -- the graph ------------------------------------------------------------

    def neighbours(self, member: bytes) -> frozenset[bytes]:
        """Everyone with a mutual-guarantee edge to ``member``."""
        self._refresh()
        return frozenset(self._adjacent.get(self.views.identity(member), ()))

    def in_graph(self, author: bytes) -> bool:
        """Whether ``author`` has at least one mutual-guarantee edge."""
        self._refresh()
        return self.views.identity(author) in self._adjacent

    def edges(self) -> list[tuple[bytes, bytes]]:
        """Every edge once, as ``(smaller key, larger key)``, sorted."""
        self._refresh()
        return sorted((a, b) for a, row in self._adjacent.items() for b in row if a < b)

    def claims(self, member: bytes) -> list[bytes]:
        """Invite partners ``member`` claims without an edge yet, in ``member``'s feed order.

        A claim is an acceptance of ``member``'s that waits for its invite
        (naming the inviter), or a confirmation of ``member``'s that waits for
        the acceptance it names (naming the invitee). Not trust: the
        replication scope follows claims to fetch the feed that would complete
        the edge (``node/scope.py``, which also bounds how many it follows).
        """
        self._refresh()
        found = sorted(self._claims.get(member, ()), key=lambda c: (c.seq, c.other))
        seen: dict[bytes, None] = {}
        for claim in found:
            seen.setdefault(claim.other)
        return list(seen)

    def reachable(self, root: bytes, hops: int | None = None) -> dict[bytes, Reach]:
        """Everyone within ``hops`` edges of ``root`` (all if ``None``), root included.

        Breadth-first with neighbours in key order, so the chain reported for
        each member is a shortest one and the same on every node.
        """
        self._refresh()
        root = self.views.identity(root)  # a device key stands for its identity (§8.11.1)
        found = {root: Reach(root, 0, (root,))}
        queue = deque([root])
        while queue:
            current = queue.popleft()
            here = found[current]
            if hops is not None and here.distance >= hops:
                continue
            for other in sorted(self._adjacent.get(current, ())):
                if other not in found:
                    found[other] = Reach(other, here.distance + 1, (*here.chain, other))
                    queue.append(other)
        return found

    def members(self, root: bytes, hops: int | None = None) -> frozenset[bytes]:
        """The trust list of ``root`` (root included), within ``hops`` if given."""
        return frozenset(self.reachable(root, hops))

    def is_member(self, author: bytes, root: bytes, hops: int | None = None) -> bool:
        """Whether ``author`` is on ``root``'s trust list."""
        return self.views.identity(author) in self.reachable(root, hops)

    def guarantee(self, member: bytes) -> dict[str, int]:
        """``{currency: minor units}``: the member's latest declared guarantee per currency."""
        self._refresh()
        latest = latest_per_identity(
            self._declared.get(self.views.identity(member), {}).values(),
            group=lambda d: d.amount.currency,
            device=lambda d: d.device,
            seq=lambda d: d.seq,
            order=lambda d: (d.timestamp, d.entry_id),
        )
        return {code: latest[code].amount.minor for code in sorted(latest)}

    def pool(self, root: bytes, hops: int | None = None) -> Pool:
        """Members of ``root``'s list and the sum of their guarantees, each counted once."""
        members = self.members(root, hops)
        totals: dict[str, int] = {}
        for member in members:
            for code, minor in self.guarantee(member).items():
                totals[code] = totals.get(code, 0) + minor
        return Pool(len(members), {code: totals[code] for code in sorted(totals)})

    # -- domain contract ------------------------------------------------------

    def state(self) -> dcbor.Value:
        """Outcomes by invite id, and every void entry with its reason code."""
        self._refresh()
        outcomes: list[dcbor.Value] = [
            [
                o.id,
                o.state,
                o.winner[0].id if o.winner else None,
                o.revoked_at,
                list(o.waiting),
                list(o.confirmed),
            ]
            for o in self.outcomes()
        ]
        return [outcomes, digested(dict(self.invalid()))]


# -- samples ------------------------------------------------------------------

SAMPLE_SECRETS: Final = tuple(bytes([n]) * 16 for n in range(1, 4))
"""The invite secrets samples use, so that an acceptance can prove one."""


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Invites under a few secrets; acceptances (with a right or wrong secret), revocations
    and confirmations of held invites or unknown ids."""
    from hypothesis import strategies as st

    from samoorg.protocol.invite_code import one_time_key, sign_acceptance

    amounts = st.sampled_from([Amount("EUR", 10000), Amount("EUR", 500), Amount("USD", 700)])
    days = st.sampled_from([-1, 1, 14]).map(lambda d: ctx.now + d * 86_400_000)
    invites = st.builds(
        lambda a, e, s, n: (INVITE, invite_body(a, e, one_time_key(s), n)),
        amounts,
        days,
        st.sampled_from(SAMPLE_SECRETS),
        st.sampled_from(["", "welcome"]),
    )
    held = ctx.of_kind(INVITE)
    if not held:
        return invites
    invite = st.sampled_from(held)
    keys = st.sampled_from(ctx.keys)

    def acceptance(target: Entry, secret: bytes, amount: Amount) -> Sample:
        proof = sign_acceptance(secret, target.id, ctx.author)
        return TRUST_ACCEPT, accept_body(target.id, target.author, amount, proof)

    accepts = st.builds(acceptance, invite, st.sampled_from(SAMPLE_SECRETS), amounts)
    revokes = st.builds(lambda i: (REVOKE, revoke_body(i.id)), invite)
    confirms = st.builds(lambda i, k: (CONFIRM, confirm_body(i.id, k)), invite, keys)
    return invites | accepts | accepts | revokes | confirms


FAMILY: Final = Family(TrustState, samples, spec="8.3")
