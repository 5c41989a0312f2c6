"""Social recovery: ``recovery.set``, ``recovery.request``, ``recovery.approve``, ``recovery.veto``.

Theory of operation (``docs/protocol.md`` §8.13 is normative). A participant
who lost every device gets their identity back through friends. Beforehand,
a device of the identity names *guardians* (keys of the trust list), a
*threshold* and a *waiting period* in a ``recovery.set``; the last one in
``(timestamp, entry id)`` order across the identity's devices is in force.
With every device lost, a new key's **first** entry is a
``recovery.request`` naming the identity. Guardians sign
``recovery.approve`` naming the request; when the threshold of distinct
guardian identities of the set in force has approved, the request takes
effect at ``E = max(request's timestamp, threshold-th approval's timestamp)
+ wait``, unless an active device of the identity signed a
``recovery.veto`` dated before ``E`` (or the identity wrote a new set
meanwhile). At ``E`` the new key becomes a device of the identity (a
recovery link in the devices forest) and every old device is cut from its
first entry dated at or after ``E``.

These records change which keys are devices and which feeds are cut, so they
are judged in the same ordered sweep as ``device.revoke``
(:class:`samoorg.crdt.kinds.devices.DevicesState` runs it with a
:class:`RecoverySweep`); this domain files the records and reads its view
back from that sweep. Like the devices domain, it sees every entry not past a
fork's cut, revoked or not (its rules say which count). A view never reads a
clock: "still waiting until ``E``" is :meth:`RequestOutcome.status_at` at
query time, as listings' expiry is.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.digest import sorted_ids
from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import ID_SIZE, KEY_SIZE, found, read_id, read_int
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.crdt.kinds.devices import Link, revoked_reason

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.index import EntryIndex
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.devices import Forest
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

RECOVERY_SET: Final = "recovery.set"
RECOVERY_REQUEST: Final = "recovery.request"
RECOVERY_APPROVE: Final = "recovery.approve"
RECOVERY_VETO: Final = "recovery.veto"
RECOVERY_KINDS: Final = (RECOVERY_SET, RECOVERY_REQUEST, RECOVERY_APPROVE, RECOVERY_VETO)
MAX_GUARDIANS: Final = 16
MAX_WAIT: Final = 2**53 - 1
DEFAULT_WAIT: Final = 72 * 3_600_000
"""What ``samoorg recovery set`` records without ``--wait``: 72 hours, in ms."""

PENDING: Final = "pending"
APPROVED: Final = "approved"
VETOED: Final = "vetoed"
WAITING: Final = "waiting"
RECOVERED: Final = "recovered"


@dataclass(frozen=True, slots=True)
class RecoverySet:
    """Who may recover the author's identity, how many of them, after how long."""

    guardians: tuple[bytes, ...]
    threshold: int
    wait: int
    """Milliseconds from the threshold-th approval (or the request, if later) to the effect."""


@dataclass(frozen=True, slots=True)
class RecoveryRequest:
    """A new key's first entry: it asks to become a device of ``identity``."""

    identity: bytes


@dataclass(frozen=True, slots=True)
class RecoveryApprove:
    """A guardian approves the request of ``key`` (named so that nodes replicating the
    guardian fetch the new key's feed, §8.13)."""

    request: bytes
    key: bytes


@dataclass(frozen=True, slots=True)
class RecoveryVeto:
    """An active device of the identity stops the request."""

    request: bytes


def set_body(guardians: Sequence[bytes], threshold: int, wait: int) -> dict[str, dcbor.Value]:
    """The body of ``recovery.set`` (guardians ascending)."""
    return {"guardians": list(sorted(guardians)), "threshold": threshold, "wait": wait}


def request_body(identity: bytes) -> dict[str, dcbor.Value]:
    """The body of ``recovery.request``."""
    return {"identity": identity}


def approve_body(request: bytes, key: bytes) -> dict[str, dcbor.Value]:
    """The body of ``recovery.approve``: the request's id and its author (the new key)."""
    return {"request": request, "key": key}


def veto_body(request: bytes) -> dict[str, dcbor.Value]:
    """The body of ``recovery.veto``."""
    return {"request": request}


def parse_set(entry: Entry) -> RecoverySet:
    """The ``recovery.set`` record; raises :class:`RuleViolation`."""
    value = entry.body.get("guardians")
    if type(value) is not list or not 1 <= len(value) <= MAX_GUARDIANS:
        raise RuleViolation(
            f"expected 'guardians' as an array of 1..{MAX_GUARDIANS} keys, found {found(value)}"
        )
    keys: list[bytes] = []
    for item in value:
        if type(item) is not bytes or len(item) != KEY_SIZE:
            raise RuleViolation(f"expected each guardian as a 32-byte key, found {found(item)}")
        keys.append(item)
    if len(set(keys)) != len(keys):
        raise RuleViolation("expected 'guardians' without a key named twice")
    threshold = read_int(entry.body, "threshold", 1, len(keys))
    return RecoverySet(tuple(sorted(keys)), threshold, read_int(entry.body, "wait", 0, MAX_WAIT))


def parse_request(entry: Entry) -> RecoveryRequest:
    """The ``recovery.request`` record; raises :class:`RuleViolation`."""
    return RecoveryRequest(read_id(entry.body, "identity"))


def parse_approve(entry: Entry) -> RecoveryApprove:
    """The ``recovery.approve`` record; raises :class:`RuleViolation`."""
    return RecoveryApprove(read_id(entry.body, "request"), read_id(entry.body, "key"))


def parse_veto(entry: Entry) -> RecoveryVeto:
    """The ``recovery.veto`` record; raises :class:`RuleViolation`."""
    return RecoveryVeto(read_id(entry.body, "request"))


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """One request as the sweep left it."""

    entry: Entry
    """The ``recovery.request``; its author is the new key."""
    identity: bytes
    """The founder of the identity it asks for (at its place in the order)."""
    status: str
    """``pending`` (threshold not met), ``approved`` (takes effect at :attr:`effective`),
    or ``vetoed``."""
    set: Entry
    """The ``recovery.set`` in force at the request."""
    rules: RecoverySet
    approvals: tuple[Entry, ...]
    """The counting approvals, one per guardian identity, in order."""
    effective: int | None
    """``E`` once the threshold is met (ms), else ``None``."""
    veto: Entry | None

    @property
    def key(self) -> bytes:
        """The new key that asks."""
        return self.entry.author

    def status_at(self, now: int) -> str:
        """``pending``, ``vetoed``, ``waiting`` (approved, ``now < E``) or ``recovered``."""
        if self.status != APPROVED or self.effective is None:
            return self.status
        return WAITING if now < self.effective else RECOVERED


@dataclass(frozen=True)
class RecoveryView:
    """Sets in force, requests with their approvals and vetoes, waiting and void entries."""

    sets: dict[bytes, tuple[Entry, RecoverySet]]
    """Identity -> the ``recovery.set`` in force after the last entry."""
    requests: dict[bytes, RequestOutcome]
    """Request id -> its outcome (valid requests only)."""
    waiting: tuple[bytes, ...]
    invalid: dict[bytes, Reason] = field(default_factory=dict)

    def of_identity(self, identity: bytes) -> list[RequestOutcome]:
        """The requests for ``identity``, in order."""
        found = [r for r in self.requests.values() if r.identity == identity]
        return sorted(found, key=lambda r: (r.entry.timestamp, r.entry.id))

    def guarded_by(self, guardian: bytes) -> list[RequestOutcome]:
        """The requests whose set names ``guardian`` (a key), in order."""
        found = [r for r in self.requests.values() if guardian in r.rules.guardians]
        return sorted(found, key=lambda r: (r.entry.timestamp, r.entry.id))

    def canonical(self) -> dcbor.Value:
        """The sorted, encodable state the digest hashes (§8.13)."""
        requests: list[dcbor.Value] = [
            [
                rid,
                r.identity,
                r.status,
                r.set.id,
                sorted_ids(a.id for a in r.approvals),
                r.effective,
                None if r.veto is None else r.veto.id,
            ]
            for rid, r in sorted(self.requests.items())
        ]
        return {
            "sets": [[k, e.id] for k, (e, _) in sorted(self.sets.items())],
            "requests": requests,
            "waiting": sorted_ids(self.waiting),
            "invalid": digested(self.invalid),
        }


EMPTY: Final = RecoveryView({}, {}, ())


class RecoveryState(ResolvedDomain[RecoveryView]):
    """Files the recovery records; their view comes from the devices sweep (module docstring)."""

    name = "recovery"
    decoders = MappingProxyType(
        {
            RECOVERY_SET: parse_set,
            RECOVERY_REQUEST: parse_request,
            RECOVERY_APPROVE: parse_approve,
            RECOVERY_VETO: parse_veto,
        }
    )

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._filed: list[tuple[Entry, object]] = []

    def _file(self, entry: Entry, record: object) -> None:
        self._filed.append((entry, record))

    def filed(self) -> list[tuple[Entry, object]]:
        """Every well-formed record filed, ``(entry, record)`` (any order)."""
        return list(self._filed)

    def _resolve_view(self) -> RecoveryView:
        from samoorg.crdt.kinds.devices import DevicesState

        found = self.views.domain(DevicesState).view().recovery or EMPTY
        invalid = dict(self._malformed)
        invalid.update(found.invalid)
        return replace(found, invalid=invalid)


@dataclass(slots=True)
class _Asking:
    """A request while the sweep runs."""

    entry: Entry
    identity: bytes
    set: tuple[Entry, RecoverySet] | None
    approved: dict[bytes, Entry] = field(default_factory=dict)
    effective: int | None = None
    veto: Entry | None = None
    done: bool = False
    void: Reason | None = None

    @property
    def live(self) -> bool:
        return self.void is None and self.veto is None and not self.done and self.set is not None


class RecoverySweep:
    """The recovery rules, applied at their places in the devices sweep (§8.13).

    :meth:`events` lists the entries to place in ``(timestamp, entry id)``
    order beside the revocations; :meth:`handle` applies one;
    :meth:`complete_before` applies every request whose effective moment
    ``E`` is at or before a timestamp (a request taking effect at ``E`` comes
    before every entry dated ``E``); :meth:`view` is the outcome.
    """

    def __init__(
        self, forest: Forest, filed: Sequence[tuple[Entry, object]], index: EntryIndex
    ) -> None:
        self.forest = forest
        self.index = index
        self.invalid: dict[bytes, Reason] = {}
        self.waiting: list[bytes] = []
        self.current: dict[bytes, tuple[Entry, RecoverySet]] = {}
        self._had_set: set[bytes] = set()
        self._requests: dict[bytes, Entry] = {}
        self._asking: dict[bytes, _Asking] = {}
        self._early: dict[bytes, list[tuple[Entry, object]]] = {}
        self._heap: list[tuple[int, bytes]] = []
        self._events: list[tuple[Entry, object]] = []
        for entry, record in filed:
            if isinstance(record, RecoveryRequest):
                if entry.seq != 1:
                    self.invalid[entry.id] = Reason(
                        ReasonCode.REQUEST_NOT_FIRST,
                        "a recovery is asked only as a key's first entry",
                    )
                    continue
                if record.identity == entry.author:
                    self.invalid[entry.id] = _own_identity()
                    continue
                self._requests[entry.id] = entry
            self._events.append((entry, record))

    def events(self) -> list[tuple[Entry, object]]:
        """The records to apply in order (void requests already left out)."""
        return [
            (e, r)
            for e, r in self._events
            if not isinstance(r, RecoveryRequest) or e.id in self._requests
        ]

    def handle(self, entry: Entry, record: object) -> None:
        """Apply one record at its place in the order."""
        if isinstance(record, RecoverySet):
            self._set(entry, record)
        elif isinstance(record, RecoveryRequest):
            self._request(entry, record)
        elif isinstance(record, RecoveryApprove | RecoveryVeto):
            asking = self._asking.get(record.request)
            asked = self._requests.get(record.request)
            if isinstance(record, RecoveryApprove) and asked and record.key != asked.author:
                self.invalid[entry.id] = Reason(
                    ReasonCode.WRONG_REQUESTER, "names another key than the request's author"
                )
            elif asking is not None:
                self._judge(asking, entry, record)
            elif record.request in self._requests:
                self._early.setdefault(record.request, []).append((entry, record))
            else:
                named = self.index.get(record.request)
                if named is not None and not self.index.is_void(named):
                    self.invalid[entry.id] = _not_a_request()
                else:
                    self.waiting.append(entry.id)

    def _set(self, entry: Entry, record: RecoverySet) -> None:
        if not self.forest.active(entry):
            self.invalid[entry.id] = revoked_reason()
            return
        identity = self.forest.root(entry.author)
        self.current[identity] = (entry, record)
        self._had_set.add(identity)
        for asking in self._asking.values():
            if asking.identity == identity and asking.live:
                asking.void = Reason(
                    ReasonCode.SET_REPLACED,
                    "the identity named other guardians before this request took effect",
                )

    def _request(self, entry: Entry, record: RecoveryRequest) -> None:
        identity = self.forest.root(record.identity)
        asking = _Asking(entry, identity, self.current.get(identity))
        if identity == entry.author:
            asking.void = _own_identity()
        self._asking[entry.id] = asking
        for early, early_record in self._early.pop(entry.id, []):
            self._judge(asking, early, early_record)

    def _judge(self, asking: _Asking, entry: Entry, record: object) -> None:
        if asking.set is None or asking.void is not None:
            return  # decided at the end, with the request
        if not self.forest.active(entry):
            self.invalid[entry.id] = revoked_reason()
        elif isinstance(record, RecoveryVeto):
            self._veto(asking, entry)
        else:
            self._approve(asking, entry, asking.set[1])

    def _veto(self, asking: _Asking, entry: Entry) -> None:
        if self.forest.root(entry.author) != asking.identity:
            self.invalid[entry.id] = Reason(
                ReasonCode.NOT_A_DEVICE, "only an active device of the identity vetoes its recovery"
            )
        elif asking.done:
            self.invalid[entry.id] = Reason(
                ReasonCode.VETO_TOO_LATE, "the recovery had already taken effect"
            )
        elif asking.veto is None:
            asking.veto = entry

    def _approve(self, asking: _Asking, entry: Entry, rules: RecoverySet) -> None:
        guardian = self.forest.root(entry.author)
        if guardian not in {self.forest.root(g) for g in rules.guardians}:
            self.invalid[entry.id] = Reason(
                ReasonCode.NOT_A_GUARDIAN, "the author is not a guardian of the set in force"
            )
        elif guardian in asking.approved:
            self.invalid[entry.id] = Reason(
                ReasonCode.ALREADY_APPROVED, "this guardian already approved the request"
            )
        else:
            asking.approved[guardian] = entry
            if len(asking.approved) == rules.threshold and asking.live:
                start = max(asking.entry.timestamp, entry.timestamp)
                asking.effective = start + rules.wait
                heapq.heappush(self._heap, (asking.effective, asking.entry.id))

    def complete_before(self, timestamp: int | None) -> None:
        """Apply every approved request with ``E <= timestamp`` (``None``: every one)."""
        while self._heap and (timestamp is None or self._heap[0][0] <= timestamp):
            _, rid = heapq.heappop(self._heap)
            asking = self._asking[rid]
            if asking.live:
                self._complete(asking)

    def _complete(self, asking: _Asking) -> None:
        forest, key = self.forest, asking.entry.author
        parent = forest.root(asking.identity)
        if parent == key:
            asking.void = _own_identity()
            return
        assert asking.effective is not None
        old = forest.members(parent)
        forest.links[key] = Link(key, parent, asking.entry, asking.entry, recovered=True)
        for device in old:
            forest.cut(device, _first_at(self.index, device, asking.effective), asking.entry)
        asking.done = True

    def view(self) -> RecoveryView:
        """The outcome after the last entry."""
        requests: dict[bytes, RequestOutcome] = {}
        void: set[bytes] = set()
        waiting = list(self.waiting)
        for rid, asking in self._asking.items():
            if asking.void is not None:
                self.invalid[rid] = asking.void
                void.add(rid)
            elif asking.set is None:
                if asking.identity in self._had_set:
                    self.invalid[rid] = Reason(
                        ReasonCode.NO_RECOVERY_SET,
                        "the identity had named no guardians before this request",
                    )
                    void.add(rid)
                else:
                    waiting.append(rid)
            else:
                requests[rid] = _outcome(asking, asking.set)
        for entry, record in self._events:
            if isinstance(record, RecoveryApprove | RecoveryVeto):
                if record.request in void or record.request in self.invalid:
                    self.invalid[entry.id] = _not_a_request()
                elif record.request in waiting and entry.id not in self.invalid:
                    waiting.append(entry.id)
        waiting = [i for i in waiting if i not in self.invalid]
        return RecoveryView(
            dict(self.current), requests, tuple(dict.fromkeys(waiting)), dict(self.invalid)
        )


def _outcome(asking: _Asking, rules: tuple[Entry, RecoverySet]) -> RequestOutcome:
    if asking.veto is not None:
        status = VETOED
    elif asking.done:
        status = APPROVED
    else:
        status = PENDING
    approvals = tuple(sorted(asking.approved.values(), key=lambda e: (e.timestamp, e.id)))
    effective = asking.effective if status == APPROVED else None
    return RequestOutcome(
        asking.entry, asking.identity, status, rules[0], rules[1], approvals, effective, asking.veto
    )


def _first_at(index: EntryIndex, key: bytes, moment: int) -> int:
    """The first seq of ``key``'s held feed dated at or after ``moment``, else the one after it."""
    held = [e for e in index.of_author(key) if not index.is_void(e)]
    late = [e.seq for e in held if e.timestamp >= moment]
    if late:
        return min(late)
    return max((e.seq for e in held), default=0) + 1


def _own_identity() -> Reason:
    return Reason(ReasonCode.OWN_IDENTITY, "a key cannot recover its own identity")


def _not_a_request() -> Reason:
    return Reason(
        ReasonCode.NOT_A_RECOVERY_REQUEST, "the named entry is not a valid recovery.request"
    )


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Sets naming the test's keys, requests (first entries or not), approvals and vetoes.

    A request names the author of a set when there is one, so that some
    histories reach the threshold (a guardian may even ask itself).
    """
    from hypothesis import strategies as st

    others = [k for k in ctx.keys if k != ctx.author] or list(ctx.keys)
    sets = st.builds(
        lambda n, t, w: (RECOVERY_SET, set_body(others[:n], min(t, n), w)),
        st.integers(1, len(others)),
        st.integers(1, 2),
        st.sampled_from([0, 1000, 86_400_000]),
    )
    named = [e.author for e in ctx.of_kind(RECOVERY_SET)] or list(ctx.keys)
    requests = st.sampled_from(named).map(lambda k: (RECOVERY_REQUEST, request_body(k)))
    made = ctx.of_kind(RECOVERY_REQUEST)
    ids = [e.id for e in made] or [bytes(ID_SIZE)]
    approvals = st.sampled_from([(e.id, e.author) for e in made] or [(ids[0], ctx.author)]).map(
        lambda pair: (RECOVERY_APPROVE, approve_body(*pair))
    )
    vetoes = st.sampled_from(ids).map(lambda i: (RECOVERY_VETO, veto_body(i)))
    if not ctx.of_kind(RECOVERY_SET):
        return sets | sets | requests
    if not any(e.author == ctx.author for e in ctx.entries):
        return requests | requests | sets
    if made:
        return approvals | approvals | vetoes | sets | requests
    return sets | requests | approvals | vetoes


FAMILY: Final = Family(RecoveryState, samples, spec="8.13", uses=("devices",))
