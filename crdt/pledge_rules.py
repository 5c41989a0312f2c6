"""The life of one pledge: an intention, its revisions, its commitment and its closing.

Theory of operation. A pledge is identified by the id of its ``pledge.intend``
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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from samoorg.crdt.reasons import Reason, ReasonCode, utc
from samoorg.crdt.records import (
    INITIATIVE,
    REQUEST,
    AppealClose,
    Close,
    Commit,
    Initiative,
    Intend,
    Request,
    Revise,
    Withdraw,
)
from samoorg.protocol.entry import Entry
from samoorg.protocol.ids import peer_id

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
Target = tuple[Entry, Request | Initiative]
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

    @property
    def author(self) -> bytes | None:
        """Who pledged."""
        return self.intend.author if self.intend is not None else None

    @property
    def currency(self) -> str:
        """The pledge's currency (empty while waiting or void)."""
        return self.record.amount.currency if self.record is not None else ""

    def overdue(self, now: int) -> bool:
        """A commitment still open after its due date."""
        return self.state == COMMITTED and self.due is not None and now > self.due


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
    closes: Sequence[tuple[Entry, AppealClose]], target: Target | Reason | None
) -> Closing:
    """Judge every closing entry naming one entry id.

    ``target`` is the named request or initiative (held and well-formed), the
    reason it is malformed, or ``None`` while it is not held (every closing
    waits). Only its author's closings count; the first by ``seq`` closes it.
    """
    if target is None:
        return Closing(waiting=tuple(sorted(entry.id for entry, _ in closes)))
    invalid: dict[bytes, Reason] = {}
    closed: Entry | None = None
    for entry, op in sorted(closes, key=lambda item: (item[0].author, item[0].seq)):
        label = LABELS[op.kind]
        if isinstance(target, Reason):
            text = CLOSE_TARGET_INVALID.format(label=label, detail=target.text)
            invalid[entry.id] = Reason(ReasonCode.CLOSE_INVALID_TARGET, text)
        elif target[0].kind != op.kind:
            ref, found = target[0].id.hex()[:12], target[0].kind
            text = CLOSE_WRONG_KIND.format(ref=ref, found=found, wanted=op.kind)
            invalid[entry.id] = Reason(ReasonCode.CLOSE_WRONG_KIND, text)
        elif entry.author != target[0].author:
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
    intend: Entry, record: Intend, target: Target | Reason | None
) -> tuple[bytes | None, Reason | None]:
    """``(beneficiary, None)`` if the target accepts this intention, else ``(None, reason)``.

    ``target`` is the held target, the reason why it cannot be one (its code is
    the intention's: :attr:`ReasonCode.INVALID_TARGET` or
    :attr:`ReasonCode.WRONG_TARGET_KIND`), or ``None``
    (not held: the caller waits). A person target needs no entry.
    """
    kind = record.target.kind
    if kind == "to":
        if record.target.ref == intend.author:
            return None, Reason(ReasonCode.SELF_PLEDGE, "cannot pledge to yourself")
        return record.target.ref, None
    label = "help request" if kind == "request" else "initiative"
    if target is None:
        return None, None
    if isinstance(target, Reason):
        return None, Reason(target.code, f"refers to an invalid {label} ({target.text})")
    entry, goal = target
    if entry.author == intend.author:
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
    return entry.author, None


def resolve(
    pledge_id: bytes,
    bucket: PledgeBucket,
    target: Target | Reason | None,
    ended: Entry | None = None,
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
    beneficiary, problem = target_problem(intend, record, target)
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
    author = intend.author
    invalid: dict[bytes, Reason] = {}
    state, minor = OPEN, record.amount.minor
    commit: Entry | None = None
    due: int | None = None
    closed: Entry | None = None
    # Authors' own entries in their feed order; the bucket holds at most two authors' ops
    # that matter (pledger and beneficiary), and (author, seq) orders each feed.
    ops = sorted(bucket.ops, key=lambda op: (op[0].author, op[0].seq))
    commits = {entry.id: entry for entry, op in ops if isinstance(op, Commit)}
    for entry, op in ops:
        if isinstance(op, Close):
            continue
        verb = _VERBS[type(op)]
        if entry.author != author:
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
        elif entry.author != beneficiary:
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
    )


_VERBS: Final[dict[type, str]] = {Revise: "revise", Withdraw: "withdraw", Commit: "commit"}
_DONE: Final[dict[type, str]] = {Revise: "edited", Withdraw: "withdrawn", Commit: "committed again"}
