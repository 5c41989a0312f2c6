"""Help requests, initiatives, pledges and the ledger of outstanding commitments.

Theory of operation. :meth:`PledgeState.apply` files each new entry: a help
request or initiative into its table, every pledge entry into the bucket of
the intention it names (the rules below). Buckets touched
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

Records. A help request or an initiative is an *appeal*; every other kind
names a pledge (the id of its ``pledge.intend``) or an appeal.
:func:`parse_record` is the decoder of every kind (fields per ``docs/protocol.md``
§8.4 and §8.5; unknown extra fields are ignored).

The life of one pledge
----------------------
A pledge is identified by the id of its ``pledge.intend``
entry. Every entry naming that id (``pledge.revise``, ``pledge.withdraw``,
``pledge.commit``, ``pledge.fulfil``, ``pledge.forgive``) lands in one
:class:`PledgeBucket`, and :func:`resolve` is a pure function of the bucket's
set of entries plus the pledge's target. The rules (``docs/protocol.md``
§8.5):

* Only the intention's author may revise, withdraw or commit it. Their
  entries are read in their own feed order (``seq``): an intention may be
  revised or withdrawn at any time until it is committed; a commitment is
  irrevocable and immutable, so a later revise or withdraw is void.
* The *beneficiary* is the person (``to``), or the author of the help request
  or initiative the intention backs. Only the beneficiary may mark a
  commitment fulfilled or forgiven, naming the commit entry; their first such
  entry (by their ``seq``) closes it and later ones are void.
* A pledge whose target (request or initiative) is not held yet *waits*: it
  is neither valid nor void until the target arrives. A closing entry whose
  commit entry is not held waits likewise.
* The author of a request or initiative may close it (``help.close``,
  ``initiative.close``; :func:`settle_closing`): their first closing entry by
  ``seq`` counts. Intentions backing a closed request or initiative are
  *released* (no longer live); an intention or a commit whose timestamp is
  after the closing's is void. Commitments made before stay: they are
  irrevocable.

Participants are identities (§8.11.1): "the intention's author" and "the
beneficiary" mean any device of that identity, and an identity's entries are
read in :func:`~samoorg.crdt.framework.identity.by_feed` order (each device's
feed by ``seq``, the devices interleaved by ``(timestamp, entry id)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.algorithms.netting import Debts, Netting, suggest_netting
from samoorg.crdt.framework.domain import BucketDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import (
    ID_SIZE,
    KEY_SIZE,
    MAX_NOTE,
    amount_fields,
    check_minor,
    found,
    read_amount,
    read_bytes,
    read_integer,
    read_optional_time,
    read_text,
)
from samoorg.crdt.framework.identity import by_feed
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested, utc
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views

# -- kind names ---------------------------------------------------------------

INTEND: Final = "pledge.intend"
REVISE: Final = "pledge.revise"
WITHDRAW: Final = "pledge.withdraw"
COMMIT: Final = "pledge.commit"
FULFIL: Final = "pledge.fulfil"
FORGIVE: Final = "pledge.forgive"
REQUEST: Final = "help.request"
INITIATIVE: Final = "initiative.propose"
REQUEST_CLOSE: Final = "help.close"
INITIATIVE_CLOSE: Final = "initiative.close"
CLOSES: Final = {REQUEST_CLOSE: REQUEST, INITIATIVE_CLOSE: INITIATIVE}
"""Each closing kind and the kind of entry it closes."""
PLEDGE_KINDS: Final = (
    REQUEST,
    INITIATIVE,
    INTEND,
    REVISE,
    WITHDRAW,
    COMMIT,
    FULFIL,
    FORGIVE,
    REQUEST_CLOSE,
    INITIATIVE_CLOSE,
)

# -- size limits (characters) -------------------------------------------------

MAX_TITLE: Final = 200
MAX_REASON: Final = 4000
MAX_DESCRIPTION: Final = 32000


# -- records ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What an intention backs: a person (``to``), a help ``request`` or an ``initiative``."""

    kind: str
    ref: bytes


@dataclass(frozen=True, slots=True)
class Intend:
    """``pledge.intend``: "I would give ``amount`` to ``target``" (for ``listing``, if named)."""

    target: Target
    amount: Amount
    listing: bytes | None = None
    """The portal listing this pledge pays or gives for (optional; reviews need it)."""


@dataclass(frozen=True, slots=True)
class Revise:
    """``pledge.revise``: a new amount (same currency) for an open intention."""

    pledge: bytes
    minor: int


@dataclass(frozen=True, slots=True)
class Withdraw:
    """``pledge.withdraw``: the intention no longer stands."""

    pledge: bytes


@dataclass(frozen=True, slots=True)
class Commit:
    """``pledge.commit``: the intention becomes an irrevocable commitment."""

    pledge: bytes
    due: int | None


@dataclass(frozen=True, slots=True)
class Close:
    """``pledge.fulfil`` or ``pledge.forgive`` by the beneficiary of a commitment."""

    pledge: bytes
    commitment: bytes
    forgiven: bool


@dataclass(frozen=True, slots=True)
class Request:
    """``help.request``: emergency help (once) or regular support (``monthly``)."""

    amount: Amount
    reason: str
    monthly: bool


@dataclass(frozen=True, slots=True)
class Initiative:
    """``initiative.propose``: a proposal with a price that members back with intentions."""

    title: str
    goal: Amount
    description: str
    deadline: int | None


@dataclass(frozen=True, slots=True)
class AppealClose:
    """``help.close`` or ``initiative.close``: the author stops collecting for ``appeal``.

    ``kind`` is the kind of entry closed (``help.request`` or ``initiative.propose``).
    """

    appeal: bytes
    kind: str
    note: str


Record = Intend | Revise | Withdraw | Commit | Close | Request | Initiative | AppealClose


# -- bodies (the field rules are the decoder's; the write path applies them) ---


def request_body(amount: Amount, reason: str, *, monthly: bool = False) -> dict[str, dcbor.Value]:
    """The body of a ``help.request`` for ``amount`` (once, or ``monthly``)."""
    return {**amount_fields(amount), "reason": reason, "monthly": monthly}


def initiative_body(
    title: str, goal: Amount, description: str = "", deadline: int | None = None
) -> dict[str, dcbor.Value]:
    """The body of an ``initiative.propose`` collecting ``goal``."""
    body: dict[str, dcbor.Value] = {**amount_fields(goal, "goal"), "title": title}
    if description:
        body["description"] = description
    if deadline is not None:
        body["deadline"] = deadline
    return body


def intend_body(
    amount: Amount, target: str, ref: bytes, listing: bytes | None = None
) -> dict[str, dcbor.Value]:
    """The body of a ``pledge.intend`` of ``amount`` to ``target`` (``"to"`` a key, or a
    ``"request"`` or ``"initiative"`` id) ``ref``, for the portal ``listing`` if given."""
    body: dict[str, dcbor.Value] = {**amount_fields(amount), target: ref}
    if listing is not None:
        body["listing"] = listing
    return body


def revise_body(pledge: bytes, minor: int) -> dict[str, dcbor.Value]:
    """The body of a ``pledge.revise`` of ``pledge`` to ``minor`` units."""
    return {"pledge": pledge, "amount": minor}


def withdraw_body(pledge: bytes) -> dict[str, dcbor.Value]:
    """The body of a ``pledge.withdraw``."""
    return {"pledge": pledge}


def commit_body(pledge: bytes, due: int | None = None) -> dict[str, dcbor.Value]:
    """The body of a ``pledge.commit``, due at ``due`` if given."""
    body: dict[str, dcbor.Value] = {"pledge": pledge}
    if due is not None:
        body["due"] = due
    return body


def close_body(pledge: bytes, commitment: bytes) -> dict[str, dcbor.Value]:
    """The body of a ``pledge.fulfil`` or ``pledge.forgive`` of commit entry ``commitment``."""
    return {"pledge": pledge, "commitment": commitment}


def appeal_close_body(closed: str, appeal: bytes, note: str = "") -> dict[str, dcbor.Value]:
    """The body of the closing (``help.close``, ``initiative.close``) of ``appeal``, an
    entry of kind ``closed`` (``help.request`` or ``initiative.propose``)."""
    body: dict[str, dcbor.Value] = {"request" if closed == REQUEST else "initiative": appeal}
    if note:
        body["note"] = note
    return body


CLOSING: Final = {closed: closing for closing, closed in CLOSES.items()}
"""Each appeal kind and the kind that closes it."""


# -- parsers ------------------------------------------------------------------


_TARGETS: Final = (("to", KEY_SIZE), ("request", ID_SIZE), ("initiative", ID_SIZE))


def _intend(body: Mapping[str, dcbor.Value]) -> Intend:
    present = [(name, size) for name, size in _TARGETS if body.get(name) is not None]
    if len(present) != 1:
        raise RuleViolation(
            f"expected exactly one target ('to', 'request' or 'initiative'), found {len(present)}"
        )
    name, size = present[0]
    listing = read_bytes(body, "listing", ID_SIZE) if body.get("listing") is not None else None
    return Intend(Target(name, read_bytes(body, name, size)), read_amount(body), listing)


def _revise(body: Mapping[str, dcbor.Value]) -> Revise:
    minor = read_integer(body, "amount")
    check_minor(minor)
    return Revise(read_bytes(body, "pledge", ID_SIZE), minor)


def _withdraw(body: Mapping[str, dcbor.Value]) -> Withdraw:
    return Withdraw(read_bytes(body, "pledge", ID_SIZE))


def _commit(body: Mapping[str, dcbor.Value]) -> Commit:
    return Commit(read_bytes(body, "pledge", ID_SIZE), read_optional_time(body, "due"))


def _close(body: Mapping[str, dcbor.Value], *, forgiven: bool) -> Close:
    return Close(
        read_bytes(body, "pledge", ID_SIZE),
        read_bytes(body, "commitment", ID_SIZE),
        forgiven=forgiven,
    )


def _request(body: Mapping[str, dcbor.Value]) -> Request:
    monthly = body.get("monthly", False)
    if type(monthly) is not bool:
        raise RuleViolation(f"expected 'monthly' as true or false, found {found(monthly)}")
    return Request(
        read_amount(body), read_text(body, "reason", max_chars=MAX_REASON, required=True), monthly
    )


def _initiative(body: Mapping[str, dcbor.Value]) -> Initiative:
    return Initiative(
        title=read_text(body, "title", max_chars=MAX_TITLE, required=True),
        goal=read_amount(body, "goal"),
        description=read_text(body, "description", max_chars=MAX_DESCRIPTION, required=False),
        deadline=read_optional_time(body, "deadline"),
    )


def _appeal_close(body: Mapping[str, dcbor.Value], closed: str) -> AppealClose:
    field = "request" if closed == REQUEST else "initiative"
    return AppealClose(
        read_bytes(body, field, ID_SIZE),
        closed,
        read_text(body, "note", max_chars=MAX_NOTE, required=False),
    )


def parse_record(entry: Entry) -> Record:
    """The record carried by ``entry``; raises :class:`RuleViolation` for a malformed body.

    Raises :class:`KeyError` only for a kind this module does not own (a
    programming error: callers dispatch on :data:`TRUST_KINDS` and
    :data:`PLEDGE_KINDS`).
    """
    body = entry.body
    kind = entry.kind
    if kind in (FULFIL, FORGIVE):
        return _close(body, forgiven=kind == FORGIVE)
    if kind in CLOSES:
        return _appeal_close(body, CLOSES[kind])
    parser = _PARSERS[kind]
    return parser(body)


_PARSERS: Final[dict[str, Callable[[Mapping[str, dcbor.Value]], Record]]] = {
    INTEND: _intend,
    REVISE: _revise,
    WITHDRAW: _withdraw,
    COMMIT: _commit,
    REQUEST: _request,
    INITIATIVE: _initiative,
}


# -- the life of one pledge ---------------------------------------------------

WAITING: Final = "waiting"
VOID: Final = "invalid"
OPEN: Final = "intention"
WITHDRAWN: Final = "withdrawn"
COMMITTED: Final = "committed"
FULFILLED: Final = "fulfilled"
FORGIVEN: Final = "forgiven"
RELEASED: Final = "released"
"""An intention whose request or initiative its author closed."""
LIVE: Final = frozenset({OPEN, COMMITTED, FULFILLED})
"""States that count toward a request's or initiative's pledged total."""

Op = Revise | Withdraw | Commit | Close
HeldAppeal = tuple[Entry, Request | Initiative]
"""A held, well-formed request or initiative entry and its record."""


@dataclass(slots=True)
class PledgeBucket:
    """Every held entry that refers to one pledge (intention) id."""

    intend: Entry | None = None
    record: Intend | None = None
    error: str | None = None
    ops: list[tuple[Entry, Op]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PledgeOutcome:
    """The resolved state of one pledge."""

    id: bytes
    state: str
    intend: Entry | None = None
    record: Intend | None = None
    beneficiary: bytes | None = None
    minor: int = 0
    commit: Entry | None = None
    due: int | None = None
    closed: Entry | None = None
    invalid: dict[bytes, Reason] = field(default_factory=dict)
    waiting: tuple[bytes, ...] = ()
    """Entries waiting (for the intention, its target, or a commitment), ascending."""
    pledger: bytes | None = None
    """The identity of the intention's author, once resolved (§8.11.1)."""

    @property
    def author(self) -> bytes | None:
        """Who pledged: an identity (the intention's author key until resolved)."""
        if self.pledger is not None:
            return self.pledger
        return self.intend.author if self.intend is not None else None

    @property
    def currency(self) -> str:
        """The pledge's currency (empty while waiting or void)."""
        return self.record.amount.currency if self.record is not None else ""

    def overdue(self, now: int) -> bool:
        """A commitment still open after its due date."""
        return self.state == COMMITTED and self.due is not None and now > self.due


def _same(key: bytes) -> bytes:
    return key


# Reasons a closing voids an entry, one constant per rule (``docs/protocol.md`` §8.5
# rule 6); ``label`` is "help request" or "initiative".
CLOSE_TARGET_INVALID: Final = "refers to an invalid {label} ({detail})"
CLOSE_WRONG_KIND: Final = "entry {ref} is a {found}, not a {wanted}"
CLOSE_NOT_AUTHOR: Final = "only the author of the {label} can close it"
CLOSE_AGAIN: Final = "the {label} is already closed"
INTEND_AFTER_CLOSE: Final = "the {label} was closed at {at}"
COMMIT_AFTER_CLOSE: Final = "the {label} was closed at {at}, before this commitment"

LABELS: Final = {REQUEST: "help request", INITIATIVE: "initiative"}
"""How rules and the CLI name an appeal kind."""
_TARGET_KINDS: Final = {"request": REQUEST, "initiative": INITIATIVE}


@dataclass(frozen=True, slots=True)
class Closing:
    """How the closing entries naming one request or initiative resolve."""

    closed: Entry | None = None
    invalid: dict[bytes, Reason] = field(default_factory=dict)
    waiting: tuple[bytes, ...] = ()


def settle_closing(
    closes: Sequence[tuple[Entry, AppealClose]],
    target: HeldAppeal | Reason | None,
    identity: Callable[[bytes], bytes] = _same,
) -> Closing:
    """Judge every closing entry naming one entry id.

    ``target`` is the named request or initiative (held and well-formed), the
    reason it is malformed, or ``None`` while it is not held (every closing
    waits). Only its author's closings count (any device of their identity); the first
    in :func:`by_feed` order closes it.
    """
    if target is None:
        return Closing(waiting=tuple(sorted(entry.id for entry, _ in closes)))
    invalid: dict[bytes, Reason] = {}
    closed: Entry | None = None
    for entry, op in by_feed(closes, identity):
        label = LABELS[op.kind]
        if isinstance(target, Reason):
            text = CLOSE_TARGET_INVALID.format(label=label, detail=target.text)
            invalid[entry.id] = Reason(ReasonCode.CLOSE_INVALID_TARGET, text)
        elif target[0].kind != op.kind:
            ref, found = target[0].id.hex()[:12], target[0].kind
            text = CLOSE_WRONG_KIND.format(ref=ref, found=found, wanted=op.kind)
            invalid[entry.id] = Reason(ReasonCode.CLOSE_WRONG_KIND, text)
        elif identity(entry.author) != identity(target[0].author):
            text = CLOSE_NOT_AUTHOR.format(label=label)
            invalid[entry.id] = Reason(ReasonCode.CLOSE_NOT_AUTHOR, text)
        elif closed is not None:
            invalid[entry.id] = Reason(ReasonCode.CLOSE_AGAIN, CLOSE_AGAIN.format(label=label))
        else:
            closed = entry
    return Closing(closed, invalid)


def _void_all(pledge_id: bytes, bucket: PledgeBucket, reason: Reason) -> PledgeOutcome:
    invalid = {entry.id: reason for entry, _ in bucket.ops}
    return PledgeOutcome(pledge_id, VOID, bucket.intend, bucket.record, invalid=invalid)


def target_problem(
    intend: Entry,
    record: Intend,
    target: HeldAppeal | Reason | None,
    identity: Callable[[bytes], bytes] = _same,
) -> tuple[bytes | None, Reason | None]:
    """``(beneficiary, None)`` if the target accepts this intention, else ``(None, reason)``.

    ``target`` is the held target, the reason why it cannot be one (its code is
    the intention's: :attr:`ReasonCode.INVALID_TARGET` or
    :attr:`ReasonCode.WRONG_TARGET_KIND`), or ``None``
    (not held: the caller waits). A person target needs no entry. The beneficiary
    is an identity (§8.11.1).
    """
    kind = record.target.kind
    if kind == "to":
        if identity(record.target.ref) == identity(intend.author):
            return None, Reason(ReasonCode.SELF_PLEDGE, "cannot pledge to yourself")
        return identity(record.target.ref), None
    label = "help request" if kind == "request" else "initiative"
    if target is None:
        return None, None
    if isinstance(target, Reason):
        return None, Reason(target.code, f"refers to an invalid {label} ({target.text})")
    entry, goal = target
    if identity(entry.author) == identity(intend.author):
        return None, Reason(ReasonCode.OWN_TARGET, f"cannot pledge to your own {label}")
    wanted = goal.amount if isinstance(goal, Request) else goal.goal
    if record.amount.currency != wanted.currency:
        return None, Reason(
            ReasonCode.CURRENCY_MISMATCH,
            f"the {label} collects {wanted.currency}, found a pledge in {record.amount.currency}",
        )
    if (
        isinstance(goal, Initiative)
        and goal.deadline is not None
        and intend.timestamp > goal.deadline
    ):
        return None, Reason(
            ReasonCode.INITIATIVE_CLOSED, f"the initiative closed at {utc(goal.deadline)}"
        )
    return identity(entry.author), None


def resolve(
    pledge_id: bytes,
    bucket: PledgeBucket,
    target: HeldAppeal | Reason | None,
    ended: Entry | None = None,
    identity: Callable[[bytes], bytes] = _same,
) -> PledgeOutcome:
    """Apply the rules of the module docstring to one bucket.

    ``ended`` is the entry that closed the pledge's request or initiative, if any.
    """
    intend, record = bucket.intend, bucket.record
    if intend is None:
        return PledgeOutcome(pledge_id, WAITING, waiting=tuple(sorted(e.id for e, _ in bucket.ops)))
    if record is None:
        return _void_all(
            pledge_id,
            bucket,
            Reason(
                ReasonCode.INVALID_INTENTION, f"refers to an invalid intention ({bucket.error})"
            ),
        )
    beneficiary, problem = target_problem(intend, record, target, identity)
    if problem is not None:
        void = _void_all(
            pledge_id,
            bucket,
            Reason(ReasonCode.INVALID_INTENTION, "refers to an invalid intention"),
        )
        void.invalid[intend.id] = problem
        return void
    if beneficiary is None:
        pending = tuple(sorted([intend.id, *(e.id for e, _ in bucket.ops)]))
        return PledgeOutcome(pledge_id, WAITING, intend, record, waiting=pending)
    after_close = Reason(ReasonCode.COMMIT_AFTER_CLOSE, "")
    if ended is not None:
        label = LABELS[_TARGET_KINDS[record.target.kind]]
        if intend.timestamp > ended.timestamp:
            void = _void_all(
                pledge_id,
                bucket,
                Reason(ReasonCode.INVALID_INTENTION, "refers to an invalid intention"),
            )
            text = INTEND_AFTER_CLOSE.format(label=label, at=utc(ended.timestamp))
            void.invalid[intend.id] = Reason(ReasonCode.INTEND_AFTER_CLOSE, text)
            return void
        text = COMMIT_AFTER_CLOSE.format(label=label, at=utc(ended.timestamp))
        after_close = Reason(ReasonCode.COMMIT_AFTER_CLOSE, text)
    author = identity(intend.author)
    invalid: dict[bytes, Reason] = {}
    state, minor = OPEN, record.amount.minor
    commit: Entry | None = None
    due: int | None = None
    closed: Entry | None = None
    # Each identity's entries in its feed order (§8.11.1); the bucket holds at most two
    # identities' ops that matter (pledger and beneficiary).
    ops = by_feed(bucket.ops, identity)
    commits = {entry.id: entry for entry, op in ops if isinstance(op, Commit)}
    for entry, op in ops:
        if isinstance(op, Close):
            continue
        verb = _VERBS[type(op)]
        if identity(entry.author) != author:
            invalid[entry.id] = Reason(
                ReasonCode.NOT_PLEDGER, f"only the author of an intention can {verb} it"
            )
        elif state == WITHDRAWN:
            invalid[entry.id] = Reason(
                ReasonCode.PLEDGE_WITHDRAWN, f"cannot {verb} a withdrawn intention"
            )
        elif state != OPEN:
            invalid[entry.id] = Reason(
                ReasonCode.PLEDGE_COMMITTED, f"a commitment cannot be {_DONE[type(op)]}"
            )
        elif isinstance(op, Revise):
            minor = op.minor
        elif isinstance(op, Withdraw):
            state = WITHDRAWN
        elif isinstance(op, Commit):
            if op.due is not None and op.due < entry.timestamp:
                invalid[entry.id] = Reason(
                    ReasonCode.DUE_BEFORE_COMMIT, f"due date {utc(op.due)} is before the commitment"
                )
            elif ended is not None and entry.timestamp > ended.timestamp:
                invalid[entry.id] = after_close
            else:
                state, commit, due = COMMITTED, entry, op.due
    waiting: list[bytes] = []
    for entry, op in ops:
        if not isinstance(op, Close):
            continue
        verb = "forgive this commitment" if op.forgiven else "mark this commitment fulfilled"
        if op.commitment not in commits:
            waiting.append(entry.id)
        elif identity(entry.author) != beneficiary:
            invalid[entry.id] = Reason(
                ReasonCode.NOT_BENEFICIARY,
                f"only the beneficiary ({peer_id(beneficiary)}) can {verb}",
            )
        elif commit is None or op.commitment != commit.id:
            invalid[entry.id] = Reason(
                ReasonCode.NOT_THE_COMMITMENT,
                "refers to a commit entry that is not this pledge's commitment",
            )
        elif closed is not None:
            invalid[entry.id] = Reason(
                ReasonCode.ALREADY_CLOSED, f"the commitment is already {state}"
            )
        else:
            closed, state = entry, FORGIVEN if op.forgiven else FULFILLED
    if state == OPEN and ended is not None:
        state = RELEASED
    return PledgeOutcome(
        pledge_id,
        state,
        intend,
        record,
        beneficiary,
        minor,
        commit,
        due,
        closed,
        invalid,
        tuple(sorted(waiting)),
        author,
    )


_VERBS: Final[dict[type, str]] = {Revise: "revise", Withdraw: "withdraw", Commit: "commit"}
_DONE: Final[dict[type, str]] = {Revise: "edited", Withdraw: "withdrawn", Commit: "committed again"}


# -- the ledger ---------------------------------------------------------------

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
    decoders = MappingProxyType(dict.fromkeys(PLEDGE_KINDS, parse_record))
    reads_bodies = False  # every field is in the records (closing notes: close_note)

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
        self._by_party: dict[bytes, set[bytes]] = {}
        """The listed pledges (neither waiting nor void) each participant gives or receives,
        kept with the outcomes (:meth:`_contribute`), so one participant's pledges cost theirs."""
        self._debts_changes = 0
        """Counts the changes of :attr:`_debts` (a netting is kept for one count)."""
        self._debt_order: tuple[int, list[tuple[str, bytes, bytes]]] | None = None
        """The keys of :attr:`_debts` sorted, as of a count of :attr:`_debts_changes`."""
        self._netting: Netting | None = None
        """The netting of the debts as of :attr:`_debts_changes` (:meth:`netting`), if known.

        Derived, like the totals, and saved with them by a checkpoint: netting
        every debt takes seconds at 1M entries, so it is computed once per
        change of the debts, not once per command."""

    # -- updating -------------------------------------------------------------

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new entries; resolution is lazy."""
        for entry, record in self.decoded(entries):
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

    def _on_malformed(self, entry: Entry, exc: RuleViolation) -> None:
        if entry.kind in (REQUEST, INITIATIVE):  # pledges and closings of it are void
            self._broken[entry.id] = Reason(ReasonCode.INVALID_TARGET, str(exc))
            self._touch(entry.id)
        elif entry.kind == INTEND:  # so are its revisions, commitment, ...
            bucket = self._bucket(entry.id)
            bucket.intend, bucket.error = entry, str(exc)

    def _touch(self, appeal_id: bytes) -> None:
        """A request, initiative or closing entry for ``appeal_id`` arrived."""
        self._dirty.update(self._by_target.get(appeal_id, ()))
        if appeal_id in self._closes:
            self._stale.add(appeal_id)

    def _refresh(self) -> None:
        for key in sorted(self._stale):
            appeal = self._appeals.get(key)
            target: HeldAppeal | Reason | None = self._broken.get(key)
            if appeal is not None:
                target = appeal.entry, appeal.record
            closing = self._closings[key] = settle_closing(
                self._closes[key], target, self.views.identity
            )
            if appeal is not None:
                self._appeals[key] = replace(appeal, closed=closing.closed)
        self._stale.clear()
        super()._refresh()

    def _new_bucket(self) -> PledgeBucket:
        return PledgeBucket()

    def _target(self, outcome_record: Intend | None) -> HeldAppeal | Reason | None:
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
        return resolve(key, bucket, self._target(record), closed, self.views.identity)

    def _contribute(self, outcome: PledgeOutcome, sign: int) -> None:
        self._file_parties(outcome, sign)
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
            self._debts_changes += 1
            self._netting = None
            if not row[1]:
                del self._debts[key]

    def _file_parties(self, outcome: PledgeOutcome, sign: int) -> None:
        """Add (``sign=+1``) or remove (``-1``) a listed outcome in its parties' index."""
        if outcome.state in (WAITING, VOID):
            return
        for party in {outcome.author, outcome.beneficiary}:
            if party is None:
                continue
            if sign > 0:
                self._by_party.setdefault(party, set()).add(outcome.id)
                continue
            ids = self._by_party[party]
            ids.discard(outcome.id)
            if not ids:
                del self._by_party[party]

    # -- queries --------------------------------------------------------------

    def pledges_of(self, party: bytes) -> list[PledgeOutcome]:
        """The pledges ``party`` gives or receives, neither waiting nor void, by id.

        Equals ``[o for o in pledges() if party in (o.author, o.beneficiary)]``
        without those two states, at the cost of ``party``'s own pledges.
        """
        self._refresh()
        return [self._outcomes[i] for i in sorted(self._by_party.get(party, ()))]

    def listed_ids(self) -> list[bytes]:
        """The ids of every pledge neither waiting nor void, ascending.

        Equals ``[o.id for o in pledges() if o.state not in (WAITING, VOID)]``
        without reading an outcome (a checkpoint leaves them encoded until read).
        """
        self._refresh()
        return sorted(set().union(*self._by_party.values()))

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

    def close_note(self, appeal_id: bytes) -> str:
        """The note of the entry that closed a request or initiative (empty if none)."""
        appeal = self.appeal(appeal_id)
        if appeal is None or appeal.closed is None:
            return ""
        closed = appeal.closed.id
        return next((op.note for entry, op in self._closes[appeal_id] if entry.id == closed), "")

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
        return self._debt_column(0)

    def _debt_column(self, column: int) -> dict[tuple[str, bytes, bytes], int]:
        """``{debt key: row[column]}`` (0: minor units, 1: commitments), keys in order
        (sorted once per change of the debts)."""
        self._refresh()
        order = self._debt_order
        if order is None or order[0] != self._debts_changes:
            order = self._debt_order = (self._debts_changes, sorted(self._debts))
        debts = self._debts
        return {key: debts[key][column] for key in order[1]}

    def netting(self) -> Netting:
        """:func:`~samoorg.crdt.algorithms.netting.suggest_netting` of :meth:`debts`,
        computed once per change of the debts."""
        self._refresh()
        if self._netting is None:
            self._netting = suggest_netting(self.debts())
            self.worth_saving = True
        return self._netting

    def known_netting(self) -> tuple[int, Netting | None]:
        """The current count of debt changes, and the netting if it is known for it.

        Who nets elsewhere (the daemon, in a worker thread over a copy of
        :meth:`debts`) passes the count to :meth:`keep_netting`.
        """
        self._refresh()
        return self._debts_changes, self._netting

    def keep_netting(self, changes: int, netting: Netting) -> None:
        """Keep ``netting``, computed from :meth:`debts` at ``changes``, if they are unchanged."""
        self._refresh()
        if changes == self._debts_changes and self._netting is None:
            self._netting = netting
            self.worth_saving = True

    def commitment_counts(self) -> dict[tuple[str, bytes, bytes], int]:
        """How many open commitments make up each outstanding debt."""
        return self._debt_column(1)

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


# -- samples ------------------------------------------------------------------


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Requests and initiatives; intentions to people or to held appeals; revisions,
    withdrawals, commitments and closings of held intentions; closings of held appeals."""
    from hypothesis import strategies as st

    amounts = st.sampled_from([Amount("EUR", 1000), Amount("EUR", 4000), Amount("USD", 1000)])
    later = st.sampled_from([None, ctx.now - 1, ctx.now + 86_400_000])
    appeals = st.builds(
        lambda a, m: (REQUEST, request_body(a, "help", monthly=m)), amounts, st.booleans()
    ) | st.builds(lambda a, d: (INITIATIVE, initiative_body("a well", a, "", d)), amounts, later)
    people = st.builds(
        lambda a, k: (INTEND, intend_body(a, "to", k)), amounts, st.sampled_from(ctx.keys)
    )
    choices = appeals | people
    held = ctx.of_kind(REQUEST, INITIATIVE)
    if held:
        to_appeal = st.builds(
            lambda a, e: (INTEND, intend_body(a, _TARGET_FIELD[e.kind], e.id)),
            amounts,
            st.sampled_from(held),
        )
        closing = st.builds(
            lambda e, n: (CLOSING[e.kind], appeal_close_body(e.kind, e.id, n)),
            st.sampled_from(held),
            st.sampled_from(["", "done"]),
        )
        choices = choices | to_appeal | closing
    pledges = ctx.of_kind(INTEND)
    if pledges:
        pledge = st.sampled_from([e.id for e in pledges])
        commits = ctx.of_kind(COMMIT)
        ops = (
            st.builds(
                lambda p, m: (REVISE, revise_body(p, m)), pledge, st.sampled_from([500, 9000])
            )
            | st.builds(lambda p: (WITHDRAW, withdraw_body(p)), pledge)
            | st.builds(lambda p, d: (COMMIT, commit_body(p, d)), pledge, later)
        )
        choices = choices | ops | ops
        if commits:
            choices = choices | st.builds(
                lambda c, k: (k, close_body(c.body["pledge"], c.id)),
                st.sampled_from(commits),
                st.sampled_from([FULFIL, FORGIVE]),
            )
    return choices


_TARGET_FIELD: Final = {REQUEST: "request", INITIATIVE: "initiative"}

FAMILY: Final = Family(PledgeState, samples, spec="8.5")
