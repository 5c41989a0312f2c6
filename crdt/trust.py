"""The trust list by mutual guarantee: edges, reachability, and the pool of intentions.

Theory of operation. A *mutual-guarantee edge* joins an inviter and an
invitee when an invite is accepted (:mod:`samoorg.crdt.invites` decides that,
one invite at a time). The trust list of a member is everyone reachable from
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
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from samoorg.crdt.domain import BucketDomain
from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.invites import (
    ACCEPTED,
    Claim,
    InviteBucket,
    InviteOutcome,
    resolve,
)
from samoorg.crdt.money import Amount
from samoorg.crdt.reasons import Reason, ReasonCode, digested
from samoorg.crdt.records import (
    INVITE,
    TRUST_KINDS,
    Accept,
    Confirm,
    Invite,
    Revoke,
    parse_record,
)
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry

if TYPE_CHECKING:
    from samoorg.crdt.views import Views


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


class TrustState(BucketDomain[InviteBucket, InviteOutcome]):
    """Invites, the mutual-guarantee graph, and trust-list queries.

    The API other domains use: :meth:`neighbours`, :meth:`reachable`,
    :meth:`members`, :meth:`is_member`, :meth:`in_graph`, :meth:`guarantee`.
    """

    name = "trust"
    kinds = TRUST_KINDS
    reads_forked = True  # an acceptance naming a forked inviter is void

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._adjacent: dict[bytes, dict[bytes, int]] = {}
        self._declared: dict[bytes, dict[bytes, Declaration]] = {}
        self._claims: dict[bytes, set[Claim]] = {}

    # -- updating -------------------------------------------------------------

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new entries into their invite's bucket; resolution is lazy."""
        for entry in entries:
            try:
                record = parse_record(entry)
            except RuleViolation as exc:
                self._malformed[entry.id] = exc.malformed(entry.kind)
                if entry.kind == INVITE:
                    bucket = self._bucket(entry.id)
                    bucket.invite, bucket.error = entry, str(exc)
                continue
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
            elif isinstance(record, Accept | Revoke | Confirm):
                bucket = self._bucket(record.invite)
                if isinstance(record, Accept):
                    bucket.accepts.append((entry, record))
                elif isinstance(record, Revoke):
                    bucket.revokes.append((entry, record))
                else:
                    bucket.confirms.append((entry, record))

    def _new_bucket(self) -> InviteBucket:
        return InviteBucket()

    def _resolve(self, key: bytes, bucket: InviteBucket) -> InviteOutcome:
        return resolve(key, bucket, self.views.index.is_forked)

    def _contribute(self, outcome: InviteOutcome, sign: int) -> None:
        for claim in outcome.claims:
            claimed = self._claims.setdefault(claim.claimant, set())
            if sign > 0:
                claimed.add(claim)
            else:
                claimed.discard(claim)
                if not claimed:
                    del self._claims[claim.claimant]
        if outcome.state != ACCEPTED:
            return
        assert outcome.invite is not None
        assert outcome.record is not None
        assert outcome.winner is not None
        inviter, (accept_entry, accept) = outcome.invite.author, outcome.winner
        invitee = accept_entry.author
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
                mine[entry.id] = Declaration(entry.seq, amount)
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

    # -- the graph ------------------------------------------------------------

    def neighbours(self, member: bytes) -> frozenset[bytes]:
        """Everyone with a mutual-guarantee edge to ``member``."""
        self._refresh()
        return frozenset(self._adjacent.get(member, ()))

    def in_graph(self, author: bytes) -> bool:
        """Whether ``author`` has at least one mutual-guarantee edge."""
        self._refresh()
        return author in self._adjacent

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
        return author in self.reachable(root, hops)

    def guarantee(self, member: bytes) -> dict[str, int]:
        """``{currency: minor units}``: the member's latest declared guarantee per currency."""
        self._refresh()
        latest: dict[str, Declaration] = {}
        for declaration in self._declared.get(member, {}).values():
            code = declaration.amount.currency
            if code not in latest or declaration.seq > latest[code].seq:
                latest[code] = declaration
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
