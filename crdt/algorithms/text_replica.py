"""Changes to a text and their causal delivery: hold what cannot apply yet, apply the rest.

Theory of operation
-------------------
A :class:`Change` is what one signed entry carries: its ``agent`` (the entry
id), the agents it depends on (``deps``: the versions its author saw plus
every change whose characters its operations name) and its operations. The
characters it inserts get ids ``(agent, 0)``, ``(agent, 1)``, … in operation
order; nothing in a change can name an id under another agent, so no change
can claim or forge another's characters.

:meth:`Replica.receive` takes changes in any order, any number of times:

* a duplicate (same agent) is ignored;
* a change with a dependency not yet applied is **held**; it is applied, in
  arrival order, as soon as its last missing dependency is applied;
* a change is checked before anything is changed (every id it names exists,
  offsets in range) and is **invalid** if not, as is every change that
  depends on an invalid one. Invalid changes are kept with their reason.

The only check that needs the document order (an insert's left origin must
come before its right origin) can fail half-way through a change; then the
document is rebuilt from the changes applied before it, so a change is
always applied entirely or not at all.

With changes from honest authors the text is the same for every delivery
order (the CRDT property, checked by the property tests). Views also feed
changes in a canonical order, so even crafted changes give every node the
same result.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from samoorg.crdt.algorithms.text import BadTextOp, CharId, DeleteOp, InsertOp, TextDoc
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.reasons import Reason, ReasonCode


@dataclass(frozen=True, slots=True)
class Insert:
    """Insert ``text`` between ``left`` and ``right`` (``None``: start / end)."""

    left: CharId | None
    right: CharId | None
    text: str


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete ``length`` characters with consecutive ids starting at ``target``."""

    target: CharId
    length: int


Op = Insert | Delete


@dataclass(frozen=True, slots=True)
class Change:
    """The operations of one entry; its inserted characters are ``agent``:0, 1, …"""

    agent: bytes
    deps: frozenset[bytes]
    ops: tuple[Op, ...]

    @classmethod
    def build(cls, agent: bytes, ops: Iterable[Op], declared: Iterable[bytes] = ()) -> Change:
        """A change whose ``deps`` are ``declared`` plus every other agent its ops name."""
        ops = tuple(ops)
        deps = set(declared)
        for op in ops:
            if isinstance(op, Insert):
                for ref in (op.left, op.right):
                    if ref is not None:
                        deps.add(ref[0])
            else:
                deps.add(op.target[0])
        deps.discard(agent)
        return cls(agent, frozenset(deps), ops)

    @property
    def inserted(self) -> int:
        """How many characters this change inserts."""
        return sum(len(op.text) for op in self.ops if isinstance(op, Insert))

    @property
    def deleted(self) -> int:
        """How many character deletions this change records."""
        return sum(op.length for op in self.ops if isinstance(op, Delete))


def change_from_local(
    agent: bytes, ops: Iterable[InsertOp | DeleteOp], declared: Iterable[bytes] = ()
) -> Change:
    """The :class:`Change` of local edits made under ``agent`` (from :meth:`TextDoc.take_ops`)."""
    converted: list[Op] = []
    clock = 0
    for op in ops:
        if isinstance(op, InsertOp):
            if op.agent != agent or op.clock != clock:
                raise BadTextOp("expected local inserts of one agent in clock order")
            clock += len(op.text)
            converted.append(Insert(op.left, op.right, op.text))
        else:
            if op.deleter != agent:
                raise BadTextOp("expected local deletes of one agent")
            converted.append(Delete((op.agent, op.clock), op.length))
    return Change.build(agent, converted, declared)


class Replica:
    """A text plus the changes applied, held and refused (see the module docstring)."""

    def __init__(self) -> None:
        self.doc = TextDoc()
        self.applied: dict[bytes, Change] = {}
        """Applied changes, in the order they were applied."""
        self.held: dict[bytes, Change] = {}
        self.invalid: dict[bytes, Reason] = {}
        self.heads: set[bytes] = set()
        """Applied changes no other applied change depends on (the current version)."""
        self._missing: dict[bytes, set[bytes]] = {}
        self._waiting: dict[bytes, list[bytes]] = {}

    def __contains__(self, agent: object) -> bool:
        return agent in self.applied

    def text(self) -> str:
        """The current text."""
        return self.doc.text()

    def missing(self) -> dict[bytes, frozenset[bytes]]:
        """For each held change, the dependencies it still waits for."""
        return {agent: frozenset(self._missing[agent]) for agent in self.held}

    def receive(self, change: Change) -> None:
        """Apply ``change`` now, hold it, or record why it is invalid."""
        agent = change.agent
        if agent in self.applied or agent in self.held or agent in self.invalid:
            return
        bad = sorted(d for d in change.deps if d in self.invalid)
        if bad:
            self.refuse(agent, _depends_on(bad[0]))
            return
        missing = {d for d in change.deps if d not in self.applied}
        if missing:
            self.held[agent] = change
            self._missing[agent] = missing
            for dep in missing:
                self._waiting.setdefault(dep, []).append(agent)
            return
        queue = deque([change])
        while queue:
            current = queue.popleft()
            if not self._apply(current):
                continue
            for waiter in self._waiting.pop(current.agent, ()):
                left = self._missing[waiter]
                left.discard(current.agent)
                if not left:
                    del self._missing[waiter]
                    queue.append(self.held.pop(waiter))

    def record_local(self, change: Change) -> None:
        """Register a change whose operations were already applied to :attr:`doc` locally."""
        self.applied[change.agent] = change
        self.heads -= change.deps
        self.heads.add(change.agent)

    def closure(self, heads: Iterable[bytes]) -> set[bytes]:
        """Every applied change reachable from ``heads`` through ``deps`` (heads included)."""
        seen: set[bytes] = set()
        stack = [h for h in heads if h in self.applied]
        while stack:
            agent = stack.pop()
            if agent in seen:
                continue
            seen.add(agent)
            stack.extend(d for d in self.applied[agent].deps if d not in seen)
        return seen

    # -- internals -------------------------------------------------------------

    def refuse(self, agent: bytes, reason: Reason) -> None:
        """Record ``agent`` as invalid, and with it every held change waiting on it.

        Also how the agreements view marks an entry of the agreement that is
        void before its change reaches the replica (a malformed body), so
        that changes depending on it are void rather than waiting forever.
        """
        pending = [(agent, reason)]
        while pending:
            bad, why = pending.pop()
            self.held.pop(bad, None)
            self._missing.pop(bad, None)
            self.invalid[bad] = why
            for waiter in self._waiting.pop(bad, ()):
                if waiter in self.held:
                    pending.append((waiter, _depends_on(bad)))

    def _apply(self, change: Change) -> bool:
        try:
            self._check(change)
        except RuleViolation as exc:
            self.refuse(change.agent, exc.reason)
            return False
        try:
            self._integrate(self.doc, change)
        except BadTextOp as exc:
            # Half applied: rebuild from the changes applied before this one.
            doc = TextDoc()
            for earlier in self.applied.values():
                self._integrate(doc, earlier)
            self.doc = doc
            self.refuse(change.agent, exc.reason)
            return False
        self.record_local(change)
        return True

    def _check(self, change: Change) -> None:
        """Every id named exists (applied, or inserted earlier by this change) and is in range."""
        if not change.ops:
            raise BadTextOp("expected at least one operation")
        agent = change.agent
        own = 0
        counts = self.doc.count
        applied = self.applied
        for op in change.ops:
            if isinstance(op, Insert):
                if not op.text:
                    raise BadTextOp("expected a non-empty insert")
                refs = [(op.left, 1), (op.right, 1)]
            else:
                if op.length <= 0:
                    raise BadTextOp(f"expected a positive deletion length, found {op.length}")
                refs = [(op.target, op.length)]
            for ref, length in refs:
                if ref is None:
                    continue
                name, clock = ref
                if name == agent:
                    limit = own
                elif name in applied:
                    limit = counts(name)
                else:
                    raise BadTextOp(
                        f"names entry {name.hex()[:12]} that it does not depend on",
                        ReasonCode.UNKNOWN_CHARACTER,
                    )
                if clock < 0 or clock + length > limit:
                    raise BadTextOp(
                        f"names characters {clock}..{clock + length - 1} of entry "
                        f"{name.hex()[:12]}, which has {limit} at that point",
                        ReasonCode.UNKNOWN_CHARACTER,
                    )
            if isinstance(op, Insert):
                own += len(op.text)

    @staticmethod
    def _integrate(doc: TextDoc, change: Change) -> None:
        agent = change.agent
        clock = 0
        for op in change.ops:
            if isinstance(op, Insert):
                doc.insert(agent, clock, op.left, op.right, op.text)
                clock += len(op.text)
            else:
                doc.delete(agent, op.target[0], op.target[1], op.length)


def _depends_on(bad: bytes) -> Reason:
    return Reason(ReasonCode.DEPENDS_ON_VOID, f"depends on invalid entry {bad.hex()[:12]}")
