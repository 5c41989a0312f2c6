"""A sequence CRDT for collaborative plain text (YjsMod integration, the FugueMax order).

Theory of operation
-------------------
Every character ever inserted has an id ``(agent, clock)``: ``agent`` is the
id of the change (in Samoorg: the signed entry) that inserted it and
``clock`` counts the characters that change inserted, from 0. Characters are
never removed: a delete marks them with the agents that deleted them
(tombstones), so every replica keeps the same total order of all characters
and the visible text is the characters without deleters.

An insert names two neighbours the author saw: ``left`` (the character just
before, or ``None`` for the start) and ``right`` (the character just after,
or ``None`` for the end). A replica places the new characters between them;
if other characters were inserted concurrently in that gap, the YjsMod rule
(the ``scanning`` loop in :meth:`TextDoc.insert`) orders them. This rule gives
the FugueMax order of Weidner, Gentle and Kleppmann (*The Art of the Fugue*),
which is *maximally non-interleaving* in both directions: two runs typed
concurrently at the same place, forwards or backwards, end up one after the
other, never mixed character by character (tested both ways). Plain RGA
interleaves backward typing and Yjs is not maximally non-interleaving either;
that is why this rule was chosen (``docs/text-crdt.md`` §1).

Representation (what makes it fast in pure Python)
--------------------------------------------------
* **Runs.** An :class:`Item` holds a run of characters with consecutive ids
  from one agent, inserted one after another (each character's ``left`` is
  the previous one, all share ``right``) and with the same deleters. Typing
  appends to the run in place; a split (an insert in the middle, a partial
  delete) cuts a run in two without changing the meaning: the tail's ``left``
  becomes the head's last character.
* **Chunked order.** Items live in a list of :class:`Chunk` lists of at most
  :data:`CHUNK_MAX` items, each chunk knowing its visible length, so finding a
  visible position walks chunk totals, then at most one chunk.
* **Cursor.** The last position touched is cached (chunk, item, offset), so
  sequential typing and backspacing cost O(1).
* **Id index.** Per agent, a sorted list of run starts finds the run holding
  any id by bisection (needed for remote operations only).

Invariants: the chunk list is never empty and only the sole chunk of an
empty document is empty; ``Chunk.vis`` is the sum of the lengths of its
visible items; every item is registered in ``_runs`` under its agent; the
cursor (``_cc``/``_cp`` and optionally ``_ci``/``_ip``) always describes the
current structure or is reset.

Remote operations must arrive after the characters they name (causal
delivery); :mod:`samoorg.crdt.algorithms.text_replica` holds changes until then.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Final, NamedTuple

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.reasons import ReasonCode

CHUNK_MAX: Final = 64
"""Items per chunk before it is split in two."""
MAX_RUN: Final = 4096
"""Characters per run beyond which typing starts a new item (keeps appends cheap)."""

CharId = tuple[bytes, int]
"""``(agent, clock)``: the change that inserted a character and its index in that change."""


class BadTextOp(RuleViolation):
    """A text operation names unknown characters, is out of range, or has impossible origins."""


class InsertOp(NamedTuple):
    """Characters ``agent``:``clock``… inserted between ``left`` and ``right``."""

    agent: bytes
    clock: int
    left: CharId | None
    right: CharId | None
    text: str


class DeleteOp(NamedTuple):
    """``deleter`` deleted ``length`` characters with ids ``agent``:``clock``…"""

    deleter: bytes
    agent: bytes
    clock: int
    length: int


class Span(NamedTuple):
    """A maximal run in document order, as views see it."""

    agent: bytes
    clock: int
    text: str
    deleters: tuple[bytes, ...]


class Item:
    """A run of characters (see the module docstring)."""

    __slots__ = ("agent", "chunk", "clock", "dels", "left", "length", "right", "text")

    def __init__(
        self,
        agent: bytes,
        clock: int,
        text: str,
        left: CharId | None,
        right: CharId | None,
        dels: tuple[bytes, ...],
        chunk: Chunk,
    ) -> None:
        self.agent = agent
        self.clock = clock
        self.length = len(text)
        self.text = text
        self.left = left
        self.right = right
        self.dels = dels
        self.chunk = chunk


class Chunk:
    """A slice of the document order and its visible length."""

    __slots__ = ("idx", "items", "vis")

    def __init__(self, items: list[Item] | None = None, idx: int = 0) -> None:
        self.items: list[Item] = items if items is not None else []
        self.vis = 0
        self.idx = idx
        """Position in the chunk list; trusted only below ``TextDoc._stale``."""


def _can_merge(a: Item, b: Item) -> bool:
    """Whether ``b`` (right after ``a`` in the order) continues ``a``'s run."""
    end = a.clock + a.length
    return (
        a.agent == b.agent
        and end == b.clock
        and a.dels == b.dels
        and b.right == a.right
        and b.left == (a.agent, end - 1)
        and a.length + b.length <= MAX_RUN
    )


class TextDoc:
    """One replica of a text: local edits by position, remote operations by id."""

    def __init__(self) -> None:
        self._chunks: list[Chunk] = [Chunk()]
        self._stale = 1  # chunks at positions >= this may have a wrong ``idx``
        self._runs: dict[bytes, tuple[list[int], list[Item]]] = {}
        self._counts: dict[bytes, int] = {}
        self._length = 0
        self._ops: list[list[object]] = []
        self._del_tuples: dict[bytes, tuple[bytes, ...]] = {}
        self._reset_cursor()

    # -- reading -------------------------------------------------------------

    def __len__(self) -> int:
        return self._length

    def text(self) -> str:
        """The visible text."""
        return "".join(x.text for c in self._chunks for x in c.items if not x.dels)

    def count(self, agent: bytes) -> int:
        """How many characters ``agent`` has inserted here (its next clock)."""
        return self._counts.get(agent, 0)

    def spans(self) -> Iterator[Span]:
        """Every character (tombstones included) in order, as maximal runs."""
        current: Span | None = None
        for chunk in self._chunks:
            for x in chunk.items:
                if (
                    current is not None
                    and current.agent == x.agent
                    and current.clock + len(current.text) == x.clock
                    and current.deleters == x.dels
                ):
                    current = current._replace(text=current.text + x.text)
                    continue
                if current is not None:
                    yield current
                current = Span(x.agent, x.clock, x.text, x.dels)
        if current is not None:
            yield current

    def text_at(self, included: Callable[[bytes], bool]) -> str:
        """The text as it was with only the changes for which ``included`` is true.

        Inserting never reorders existing characters, so the order of a subset
        of changes is the restriction of this order: no replay is needed.
        """
        return "".join(
            x.text
            for c in self._chunks
            for x in c.items
            if included(x.agent) and not any(included(d) for d in x.dels)
        )

    def chars(self, agent: bytes, clock: int, length: int) -> str:
        """The characters ``agent``:``clock`` … ``clock + length - 1`` (deleted or not)."""
        parts: list[str] = []
        end = clock + length
        while clock < end:
            item = self._find((agent, clock))
            offset = clock - item.clock
            piece = item.text[offset : offset + end - clock]
            parts.append(piece)
            clock += len(piece)
        return "".join(parts)

    def item_count(self) -> int:
        """Number of runs (for benchmarks and tests of the compression)."""
        return sum(len(c.items) for c in self._chunks)

    # -- local editing ---------------------------------------------------------

    def take_ops(self) -> list[InsertOp | DeleteOp]:
        """The operations of local edits since the last call (runs merged), in order."""
        ops = self.ops_since(0)
        self._ops = []
        return ops

    def ops_since(self, start: int) -> list[InsertOp | DeleteOp]:
        """The pending local operations from index ``start`` on, without taking them.

        The last pending operation can still grow (typing extends it), so a
        caller following the list re-reads from its last index.
        """
        return [
            InsertOp(*op[1:]) if op[0] == "i" else DeleteOp(*op[1:])  # type: ignore[arg-type]
            for op in self._ops[start:]
        ]

    def local_insert(self, agent: bytes, pos: int, text: str) -> None:
        """Insert ``text`` so that it starts at visible position ``pos``."""
        n = len(text)
        if not 0 <= pos <= self._length:
            raise BadTextOp(f"expected an insert position in [0, {self._length}], found {pos}")
        if n == 0:
            return
        clock = self._counts.get(agent, 0)
        self._counts[agent] = clock + n
        if pos == 0:
            ci, ii, chunk = 0, 0, self._chunks[0]
            self._cc = self._cp = 0
            first = chunk.items[0] if chunk.items else None
            left: CharId | None = None
            right = None if first is None else (first.agent, first.clock)
        else:
            ci, ii, p = self._seek(pos - 1)
            chunk = self._chunks[ci]
            items = chunk.items
            x = items[ii]
            k = pos - p
            left = (x.agent, x.clock + k - 1)
            if k < x.length:
                tail = self._split(x, ii, k)
                right = (tail.agent, tail.clock)
            else:
                if ii + 1 < len(items):
                    nxt: Item | None = items[ii + 1]
                elif ci + 1 < len(self._chunks):
                    nxt = self._chunks[ci + 1].items[0]
                else:
                    nxt = None
                right = None if nxt is None else (nxt.agent, nxt.clock)
                if (
                    x.agent == agent
                    and x.clock + k == clock
                    and x.right == right
                    and x.length + n <= MAX_RUN
                ):
                    # Typing at the end of our own run: extend it in place.
                    x.text += text
                    x.length += n
                    chunk.vis += n
                    self._length += n
                    self._record_insert(agent, clock, left, right, text)
                    self._ci, self._ip = ii, p
                    return
            ii += 1
        item = Item(agent, clock, text, left, right, (), chunk)
        chunk.items.insert(ii, item)
        chunk.vis += n
        self._length += n
        self._register(item)
        self._record_insert(agent, clock, left, right, text)
        if len(chunk.items) > CHUNK_MAX:
            ci, ii = self._split_chunk(ci, ii)
        self._ci, self._ip = ii, pos

    def local_delete(self, agent: bytes, pos: int, length: int) -> None:
        """Delete ``length`` visible characters starting at visible position ``pos``."""
        if length <= 0:
            return
        if pos < 0 or pos + length > self._length:
            raise BadTextOp(
                f"expected a deletion inside [0, {self._length}), found {pos}..{pos + length}"
            )
        dels = self._del_tuples.get(agent)
        if dels is None:
            dels = self._del_tuples[agent] = (agent,)
        ci, ii, p = self._seek(pos)
        ci0 = ci
        chunks = self._chunks
        chunk = chunks[ci]
        items = chunk.items
        offset = pos - p
        cursor_ok = False
        if offset:
            # The head of the first run stays visible and becomes the cursor.
            self._split(items[ii], ii, offset)
            self._ci, self._ip = ii, p
            cursor_ok = True
            ii += 1
        remaining = length
        self._length -= length
        x = items[ii]
        while True:
            if not x.dels:
                if remaining < x.length:
                    self._split(x, ii, remaining)
                take = x.length
                x.dels = dels
                chunk.vis -= take
                remaining -= take
                self._record_delete(agent, x.agent, x.clock, take)
                if ii and _can_merge(items[ii - 1], x):
                    self._merge_into(items[ii - 1], x, ii)
                    ii -= 1
                    x = items[ii]
                if not remaining:
                    break
            ii += 1
            if ii == len(items):
                # Only the first and last chunks touched can grow (by splits).
                ci += 1
                chunk = chunks[ci]
                items = chunk.items
                ii = 0
            x = items[ii]
        if ii + 1 < len(items) and _can_merge(x, items[ii + 1]):
            self._merge_into(x, items[ii + 1], ii + 1)
        if ci != ci0 and len(items) > CHUNK_MAX:
            self._split_chunk(ci, 0)
        if len(chunks[ci0].items) > CHUNK_MAX:
            _, moved = self._split_chunk(ci0, self._ci if cursor_ok else 0)
            if cursor_ok:
                self._ci = moved
        if not cursor_ok:
            self._ci = -1

    # -- remote operations ---------------------------------------------------

    def insert(
        self, agent: bytes, clock: int, left: CharId | None, right: CharId | None, text: str
    ) -> None:
        """Integrate characters ``agent``:``clock``… inserted between ``left`` and ``right``.

        Raises :class:`BadTextOp` if an origin is unknown, ``left`` is not
        before ``right``, or ``clock`` is not ``agent``'s next clock.
        """
        n = len(text)
        if n == 0:
            raise BadTextOp("expected a non-empty insert")
        if clock != self._counts.get(agent, 0):
            raise BadTextOp(
                f"expected clock {self._counts.get(agent, 0)} for the insert, found {clock}"
            )
        if left is not None and left == right:
            raise BadTextOp(
                "expected different left and right origins, found the same character",
                ReasonCode.SAME_ORIGINS,
            )
        self._reset_cursor()
        chunks = self._chunks
        lo: Item | None = None
        if left is not None:
            lo = self._find(left)
            k = left[1] - lo.clock + 1
            if k < lo.length:
                self._split(lo, lo.chunk.items.index(lo), k)
        ro: Item | None = None
        if right is not None:
            ro = self._find(right)
            k = right[1] - ro.clock
            if k:
                ro = self._split(ro, ro.chunk.items.index(ro), k)
        if lo is None:
            ci, ii = 0, 0
        else:
            ci, ii = self._locate(lo)
            ii += 1
        if ro is not None and self._locate(ro) < (ci, ii):
            raise BadTextOp(
                "expected the left origin before the right origin, found it after",
                ReasonCode.ORIGINS_OUT_OF_ORDER,
            )
        items = chunks[ci].items
        last_chunk = len(chunks) - 1
        dci, dii = ci, ii
        scanning = False
        scanned: set[Item] = set()
        while True:
            while ii == len(items) and ci < last_chunk:
                ci += 1
                items = chunks[ci].items
                ii = 0
            if not scanning:
                dci, dii = ci, ii
            if ii == len(items):
                break
            o = items[ii]
            if o is ro:
                break
            o_left = o.left
            if o_left == left:
                o_right = o.right
                if o_right == right:
                    # Same gap, same neighbours: a true conflict, ordered by agent.
                    if (agent, clock) < (o.agent, o.clock):
                        break
                    scanning = False
                elif right is None:
                    scanning = True  # o's right neighbour is before the end
                elif o_right is None:
                    scanning = False  # o's right neighbour is the end, after ours
                else:
                    assert ro is not None
                    scanning = self._order_of(o_right) < (*self._locate(ro), 0)
            elif o_left is None or self._find(o_left) not in scanned:
                break  # o hangs off a character before our left origin
            scanned.add(o)
            ii += 1
        chunk = chunks[dci]
        items = chunk.items
        prev: Item | None = None
        if dii:
            prev = items[dii - 1]
        elif dci:
            prev = chunks[dci - 1].items[-1]
        self._counts[agent] = clock + n
        self._length += n
        if (
            prev is not None
            and not prev.dels
            and prev.agent == agent
            and prev.clock + prev.length == clock
            and prev.right == right
            and left == (agent, clock - 1)
            and prev.length + n <= MAX_RUN
        ):
            prev.text += text
            prev.length += n
            prev.chunk.vis += n
            return
        item = Item(agent, clock, text, left, right, (), chunk)
        items.insert(dii, item)
        chunk.vis += n
        self._register(item)
        if len(items) > CHUNK_MAX:
            self._split_chunk(dci, 0)

    def delete(self, deleter: bytes, agent: bytes, clock: int, length: int) -> None:
        """Mark ``length`` characters ``agent``:``clock``… as deleted by ``deleter``.

        Deleting a character twice (concurrent deletes) records both deleters.
        """
        if length <= 0:
            raise BadTextOp(f"expected a positive deletion length, found {length}")
        if clock < 0 or clock + length > self._counts.get(agent, 0):
            raise BadTextOp(
                f"expected a deletion inside the {self._counts.get(agent, 0)} characters of its "
                f"target, found {clock}..{clock + length}",
                ReasonCode.UNKNOWN_CHARACTER,
            )
        self._reset_cursor()
        end = clock + length
        while clock < end:
            x = self._find((agent, clock))
            k = clock - x.clock
            if k:
                x = self._split(x, x.chunk.items.index(x), k)
            take = min(x.length, end - clock)
            if take < x.length:
                self._split(x, x.chunk.items.index(x), take)
            if deleter not in x.dels:
                if not x.dels:
                    x.chunk.vis -= take
                    self._length -= take
                x.dels = tuple(sorted((*x.dels, deleter)))
            clock += take

    # -- internals -------------------------------------------------------------

    def _reset_cursor(self) -> None:
        self._cc = 0  # cursor chunk index
        self._cp = 0  # visible characters before that chunk
        self._ci = -1  # cursor item index in that chunk, or -1
        self._ip = 0  # visible characters before that item

    def _record_insert(
        self, agent: bytes, clock: int, left: CharId | None, right: CharId | None, text: str
    ) -> None:
        ops = self._ops
        if ops:
            last = ops[-1]
            if (
                last[0] == "i"
                and last[1] == agent
                and last[2] + len(last[5]) == clock  # type: ignore[operator, arg-type]
                and last[4] == right
                and left == (agent, clock - 1)
            ):
                last[5] += text  # type: ignore[operator]
                return
        ops.append(["i", agent, clock, left, right, text])

    def _record_delete(self, deleter: bytes, agent: bytes, clock: int, length: int) -> None:
        ops = self._ops
        if ops:
            last = ops[-1]
            if last[0] == "d" and last[1] == deleter and last[2] == agent:
                if last[3] + last[4] == clock:  # type: ignore[operator]
                    last[4] += length  # type: ignore[operator]
                    return
                if clock + length == last[3]:  # backspacing: the run grows to the left
                    last[3] = clock
                    last[4] += length  # type: ignore[operator]
                    return
        ops.append(["d", deleter, agent, clock, length])

    def _seek(self, pos: int) -> tuple[int, int, int]:
        """``(chunk, item, visible chars before item)`` of the item holding visible char ``pos``."""
        chunks = self._chunks
        ii = self._ci
        if ii >= 0:
            x = chunks[self._cc].items[ii]
            p = self._ip
            if p <= pos < p + x.length:
                return self._cc, ii, p
        ci, p = self._cc, self._cp
        if pos < p:
            while pos < p:
                ci -= 1
                p -= chunks[ci].vis
        else:
            while True:
                v = chunks[ci].vis
                if pos < p + v:
                    break
                p += v
                ci += 1
        self._cc, self._cp = ci, p
        for ii, x in enumerate(chunks[ci].items):
            if not x.dels:
                n = x.length
                if pos < p + n:
                    self._ci, self._ip = ii, p
                    return ci, ii, p
                p += n
        raise AssertionError("chunk visible length out of sync")  # pragma: no cover

    def _split(self, x: Item, ii: int, k: int) -> Item:
        """Cut run ``x`` (at index ``ii`` of its chunk) after ``k`` characters; return the tail."""
        agent, clock = x.agent, x.clock
        text = x.text
        tail = Item(agent, clock + k, text[k:], (agent, clock + k - 1), x.right, x.dels, x.chunk)
        x.text = text[:k]
        x.length = k
        x.chunk.items.insert(ii + 1, tail)
        starts, runs = self._runs[agent]
        j = bisect_left(starts, clock) + 1
        starts.insert(j, clock + k)
        runs.insert(j, tail)
        return tail

    def _merge_into(self, a: Item, b: Item, ib: int) -> None:
        """Append run ``b`` (at index ``ib`` of the same chunk) to ``a`` and drop ``b``."""
        a.text += b.text
        a.length += b.length
        del a.chunk.items[ib]
        starts, runs = self._runs[b.agent]
        j = bisect_left(starts, b.clock)
        del starts[j]
        del runs[j]

    def _register(self, item: Item) -> None:
        entry = self._runs.get(item.agent)
        if entry is None:
            self._runs[item.agent] = ([item.clock], [item])
            return
        starts, runs = entry
        if not starts or item.clock > starts[-1]:
            starts.append(item.clock)
            runs.append(item)
        else:
            j = bisect_left(starts, item.clock)
            starts.insert(j, item.clock)
            runs.insert(j, item)

    def _split_chunk(self, ci: int, ii: int) -> tuple[int, int]:
        """Split chunk ``ci`` in half; return where item ``ii`` of it is now."""
        chunk = self._chunks[ci]
        items = chunk.items
        half = len(items) // 2
        moved = items[half:]
        del items[half:]
        fresh = Chunk(moved, ci + 1)
        self._stale = min(self._stale, ci + 1)
        vis = 0
        for x in moved:
            x.chunk = fresh
            if not x.dels:
                vis += x.length
        fresh.vis = vis
        chunk.vis -= vis
        self._chunks.insert(ci + 1, fresh)
        if self._cc > ci:
            self._cc += 1
        if ii >= half:
            if self._cc == ci:
                self._cc, self._cp = ci + 1, self._cp + chunk.vis
            return ci + 1, ii - half
        return ci, ii

    def _find(self, char: CharId) -> Item:
        """The run holding character ``char``."""
        entry = self._runs.get(char[0])
        if entry is not None:
            starts, runs = entry
            j = bisect_right(starts, char[1]) - 1
            if j >= 0:
                x = runs[j]
                if char[1] < x.clock + x.length:
                    return x
        raise BadTextOp(
            f"unknown character {char[0].hex()[:12]}:{char[1]}", ReasonCode.UNKNOWN_CHARACTER
        )

    def _locate(self, x: Item) -> tuple[int, int]:
        """``(chunk index, item index)`` of run ``x``."""
        chunk = x.chunk
        if chunk.idx >= self._stale:
            chunks = self._chunks
            for i in range(self._stale, len(chunks)):
                chunks[i].idx = i
            self._stale = len(chunks)
        return chunk.idx, chunk.items.index(x)

    def _order_of(self, char: CharId) -> tuple[int, int, int]:
        """A key that sorts characters in document order."""
        x = self._find(char)
        ci, ii = self._locate(x)
        return ci, ii, char[1] - x.clock
