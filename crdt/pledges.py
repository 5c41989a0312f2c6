"""Help requests, initiatives, pledges and the ledger of outstanding commitments.

Theory of operation. :meth:`PledgeState.apply` files each new entry: a help
request or initiative into its table, every pledge entry into the bucket of
the intention it names (:mod:`samoorg.crdt.pledge_rules`). Buckets touched
since the last query are *dirty*; so are the pledges backing a request or
initiative that just arrived. A query re-resolves only the dirty pledges and
patches the aggregates (totals per request and initiative, outstanding
commitments per pair) by subtracting each pledge's old contribution and
adding its new one. The aggregates are therefore sums over the current
outcomes, whatever the order and batching of updates.

A closing entry (``help.close``, ``initiative.close``) is filed per named
entry id; that id becomes *stale* and is settled (:func:`settle_closing`)
before the dirty pledges are resolved, so that the pledges backing it see
whether, and when, it closed.

Time-dependent labels (an initiative *expired*, a commitment *overdue*) take
``now`` at query time and are not part of the digested state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

from samoorg.crdt.domain import BucketDomain
from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.netting import Debts
from samoorg.crdt.pledge_rules import (
    COMMITTED,
    FULFILLED,
    LIVE,
    OPEN,
    RELEASED,
    Closing,
    PledgeBucket,
    PledgeOutcome,
    Target,
    resolve,
    settle_closing,
)
from samoorg.crdt.reasons import Reason, ReasonCode, digested
from samoorg.crdt.records import (
    INITIATIVE,
    INTEND,
    PLEDGE_KINDS,
    REQUEST,
    AppealClose,
    Close,
    Commit,
    Initiative,
    Intend,
    Request,
    Revise,
    Withdraw,
    parse_record,
)
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry

if TYPE_CHECKING:
    from samoorg.crdt.views import Views

COLLECTING: Final = "collecting"
GOAL_REACHED: Final = "goal reached"
EXPIRED: Final = "expired"
CLOSED: Final = "closed"
_NOT_CLOSED: Final = Closing()


@dataclass(slots=True)
class Totals:
    """What the live pledges to one request or initiative add up to (minor units)."""

    pledged: int = 0
    committed: int = 0
    fulfilled: int = 0
    backers: int = 0

    def as_list(self) -> list[dcbor.Value]:
        """The canonical form for digests."""
        return [self.pledged, self.committed, self.fulfilled, self.backers]


@dataclass(frozen=True, slots=True)
class Appeal:
    """A held help request or initiative with its totals."""

    entry: Entry
    record: Request | Initiative
    totals: Totals = field(default_factory=Totals)
    closed: Entry | None = None
    """The author's entry that closed it (``help.close``, ``initiative.close``)."""

    @property
    def id(self) -> bytes:
        """The entry id that pledges name."""
        return self.entry.id

    @property
    def goal(self) -> int:
        """The amount asked for, in minor units."""
        record = self.record
        return record.amount.minor if isinstance(record, Request) else record.goal.minor

    @property
    def currency(self) -> str:
        """The currency pledges must use."""
        record = self.record
        return record.amount.currency if isinstance(record, Request) else record.goal.currency

    def status(self, now: int) -> str:
        """``closed``, ``goal reached``, ``expired`` (past the deadline short of the goal)
        or ``collecting``."""
        if self.closed is not None:
            return CLOSED
        if self.totals.pledged >= self.goal:
            return GOAL_REACHED
        deadline = self.record.deadline if isinstance(self.record, Initiative) else None
        if deadline is not None and now > deadline:
            return EXPIRED
        return COLLECTING


class PledgeState(BucketDomain[PledgeBucket, PledgeOutcome]):
    """Requests, initiatives, pledges and outstanding commitments."""

    name = "pledges"
    kinds = PLEDGE_KINDS

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._appeals: dict[bytes, Appeal] = {}
        self._broken: dict[bytes, Reason] = {}
        self._by_target: dict[bytes, set[bytes]] = {}
        self._debts: dict[tuple[str, bytes, bytes], list[int]] = {}
        self._closes: dict[bytes, list[tuple[Entry, AppealClose]]] = {}
        self._closings: dict[bytes, Closing] = {}
        self._stale: set[bytes] = set()
        """Ids named by closing entries whose closing must be settled again."""

    # -- updating -------------------------------------------------------------

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new entries; resolution is lazy."""
        for entry in entries:
            try:
                record = parse_record(entry)
            except RuleViolation as exc:
                self._malformed[entry.id] = exc.malformed(entry.kind)
                if entry.kind in (REQUEST, INITIATIVE):
                    self._broken[entry.id] = Reason(ReasonCode.INVALID_TARGET, str(exc))
                    self._touch(entry.id)
                elif entry.kind == INTEND:
                    bucket = self._bucket(entry.id)
                    bucket.intend, bucket.error = entry, str(exc)
                continue
            if isinstance(record, Request | Initiative):
                self._appeals[entry.id] = Appeal(entry, record)
                self._touch(entry.id)
            elif isinstance(record, Intend):
                bucket = self._bucket(entry.id)
                bucket.intend, bucket.record = entry, record
                if record.target.kind != "to":
                    self._by_target.setdefault(record.target.ref, set()).add(entry.id)
            elif isinstance(record, Revise | Withdraw | Commit | Close):
                self._bucket(record.pledge).ops.append((entry, record))
            elif isinstance(record, AppealClose):
                self._closes.setdefault(record.appeal, []).append((entry, record))
                self._touch(record.appeal)

    def _touch(self, appeal_id: bytes) -> None:
        """A request, initiative or closing entry for ``appeal_id`` arrived."""
        self._dirty.update(self._by_target.get(appeal_id, ()))
        if appeal_id in self._closes:
            self._stale.add(appeal_id)

    def _refresh(self) -> None:
        for key in sorted(self._stale):
            appeal = self._appeals.get(key)
            target: Target | Reason | None = self._broken.get(key)
            if appeal is not None:
                target = appeal.entry, appeal.record
            closing = self._closings[key] = settle_closing(self._closes[key], target)
            if appeal is not None:
                self._appeals[key] = replace(appeal, closed=closing.closed)
        self._stale.clear()
        super()._refresh()

    def _new_bucket(self) -> PledgeBucket:
        return PledgeBucket()

    def _target(self, outcome_record: Intend | None) -> Target | Reason | None:
        if outcome_record is None or outcome_record.target.kind == "to":
            return None
        ref = outcome_record.target.ref
        appeal = self._appeals.get(ref)
        if appeal is not None:
            wanted = REQUEST if outcome_record.target.kind == "request" else INITIATIVE
            if appeal.entry.kind != wanted:
                return Reason(
                    ReasonCode.WRONG_TARGET_KIND,
                    f"entry {ref.hex()[:12]} is a {appeal.entry.kind}, not a {wanted}",
                )
            return appeal.entry, appeal.record
        return self._broken.get(ref)

    def _resolve(self, key: bytes, bucket: PledgeBucket) -> PledgeOutcome:
        record = bucket.record
        closed = None
        if record is not None and record.target.kind != "to":
            closed = self._closings.get(record.target.ref, _NOT_CLOSED).closed
        return resolve(key, bucket, self._target(record), closed)

    def _contribute(self, outcome: PledgeOutcome, sign: int) -> None:
        record = outcome.record
        if record is None or outcome.state not in LIVE:
            return
        minor = sign * outcome.minor
        if record.target.kind != "to":
            totals = self._appeals[record.target.ref].totals
            totals.pledged += minor
            totals.backers += sign
            if outcome.state != OPEN:
                totals.committed += minor
            if outcome.state == FULFILLED:
                totals.fulfilled += minor
        if outcome.state == COMMITTED:
            assert outcome.author is not None
            assert outcome.beneficiary is not None
            key = (record.amount.currency, outcome.author, outcome.beneficiary)
            row = self._debts.setdefault(key, [0, 0])
            row[0] += minor
            row[1] += sign
            if not row[1]:
                del self._debts[key]

    # -- queries --------------------------------------------------------------

    def pledge(self, pledge_id: bytes) -> PledgeOutcome | None:
        """The resolved state of one pledge."""
        self._refresh()
        return self._outcomes.get(pledge_id)

    def pledges(self) -> list[PledgeOutcome]:
        """Every pledge known (held, or waited for), by id."""
        return self._sorted_outcomes()

    def appeal(self, appeal_id: bytes) -> Appeal | None:
        """A held, well-formed help request or initiative."""
        self._refresh()
        return self._appeals.get(appeal_id)

    def appeals(self, kind: str) -> list[Appeal]:
        """Every request (``REQUEST``) or initiative (``INITIATIVE``), oldest first."""
        self._refresh()
        found = [a for a in self._appeals.values() if a.entry.kind == kind]
        return sorted(found, key=lambda a: (a.entry.timestamp, a.entry.id))

    def backers(self, appeal_id: bytes, *, released: bool = False) -> list[PledgeOutcome]:
        """Live pledges to one request or initiative (and released ones if asked), by id."""
        self._refresh()
        ids = sorted(self._by_target.get(appeal_id, ()))
        shown = LIVE | {RELEASED} if released else LIVE
        return [o for o in (self._outcomes[i] for i in ids) if o.state in shown]

    def debts(self) -> Debts:
        """Outstanding commitments: ``{(currency, debtor, creditor): minor units}``."""
        self._refresh()
        return {key: row[0] for key, row in sorted(self._debts.items())}

    def commitment_counts(self) -> dict[tuple[str, bytes, bytes], int]:
        """How many open commitments make up each outstanding debt."""
        self._refresh()
        return {key: row[1] for key, row in sorted(self._debts.items())}

    def waiting_closings(self) -> list[bytes]:
        """Closing entries whose request or initiative is not held, by id."""
        self._refresh()
        return sorted(i for closing in self._closings.values() for i in closing.waiting)

    # -- domain contract ------------------------------------------------------

    def invalid(self) -> dict[bytes, Reason]:
        """Malformed entries, void pledge entries and void closing entries."""
        result = dict(super().invalid())
        for closing in self._closings.values():
            result.update(closing.invalid)
        return result

    def state(self) -> dcbor.Value:
        """Pledge outcomes, totals, outstanding debts, void entries and waiting closings."""
        self._refresh()
        pledges: list[dcbor.Value] = [
            [
                o.id,
                o.state,
                o.minor,
                o.commit.id if o.commit else None,
                o.closed.id if o.closed else None,
                list(o.waiting),
            ]
            for o in self.pledges()
        ]
        appeals: list[dcbor.Value] = [
            [key, appeal.totals.as_list(), appeal.closed.id if appeal.closed else None]
            for key, appeal in sorted(self._appeals.items())
        ]
        debts: list[dcbor.Value] = [
            [currency, debtor, creditor, row[0], row[1]]
            for (currency, debtor, creditor), row in sorted(self._debts.items())
        ]
        waiting: list[dcbor.Value] = [*self.waiting_closings()]
        return [pledges, appeals, debts, digested(dict(self.invalid())), waiting]
