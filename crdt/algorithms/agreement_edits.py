"""From "the agreement should now read like this" to text operations that fit in entries.

:func:`diff_edits` compares the current and the wanted text, first by lines
and then, inside replaced blocks, by characters (``difflib``), and returns
replacements in the old text's coordinates. :func:`plan_edit` applies them
to a replica's document as local edits, from the end of the text backwards
so earlier positions stay valid, and cuts the resulting operations into
groups that each fit in one 64 KiB entry. Each group is made under its own
placeholder agent (:func:`pending_agent`) because the id of the entry that
will carry it is not known until it is signed; the encoder maps the
placeholders to entry ids (:func:`samoorg.crdt.kinds.agreements.encode_ops`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from difflib import SequenceMatcher
from itertools import accumulate
from typing import Final

from samoorg.crdt.algorithms.text import DeleteOp, InsertOp, TextDoc
from samoorg.crdt.kinds.agreements import (
    AGREEMENT_EDIT,
    AGREEMENT_NEW,
    Agreement,
    edit_body,
    encode_ops,
    new_body,
)
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry

Step = tuple[str, Mapping[str, dcbor.Value]]
"""``(kind, body)`` of one entry to sign."""
Edit = tuple[int, int, str]
"""``(position, characters removed, text inserted)`` in the old text."""

CHAR_DIFF_LIMIT: Final = 4000
"""Replaced blocks up to this many characters on each side also get a character diff."""
INSERT_PIECE: Final = 4096
"""Characters per insert operation (at most 16 KiB of UTF-8)."""
DELETE_PIECE: Final = 256
"""Characters deleted per step."""
DELETE_CHAR_WORST: Final = 51
"""Bytes a deleted character can cost at worst: its own operation and a new reference."""
OPS_BUDGET: Final = 60_000
"""Bytes of operations and references per entry, leaving room for the rest of the entry."""
REF_COST: Final = 35


def pending_agent(number: int) -> bytes:
    """The placeholder agent of the ``number``-th entry of an edit being prepared."""
    return b"pending-entry-%d" % number


def diff_edits(old: str, new: str) -> list[Edit]:
    """Replacements turning ``old`` into ``new``, ascending and non-overlapping."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_at = [0, *accumulate(len(line) for line in old_lines)]
    new_at = [0, *accumulate(len(line) for line in new_lines)]
    edits: list[Edit] = []
    lines = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        if tag == "equal":
            continue
        start = old_at[i1]
        before = old[start : old_at[i2]]
        after = new[new_at[j1] : new_at[j2]]
        if tag == "replace" and len(before) <= CHAR_DIFF_LIMIT and len(after) <= CHAR_DIFF_LIMIT:
            chars = SequenceMatcher(None, before, after, autojunk=False)
            for sub, x1, x2, y1, y2 in chars.get_opcodes():
                if sub != "equal":
                    edits.append((start + x1, x2 - x1, after[y1:y2]))
        else:
            edits.append((start, len(before), after))
    return edits


def plan_edit(
    doc: TextDoc, edits: Sequence[Edit], budget: int = OPS_BUDGET
) -> list[list[InsertOp | DeleteOp]]:
    """Apply ``edits`` (old-text coordinates) to ``doc``; return the operations per entry.

    Applied from the last to the first, each edit's position is also its
    position in the text at that moment, so this is :func:`plan_steps`.
    """
    return plan_steps(doc, reversed(edits), budget)


def plan_steps(
    doc: TextDoc, steps: Iterable[Edit], budget: int = OPS_BUDGET
) -> list[list[InsertOp | DeleteOp]]:
    """Apply ``steps`` in order (each in the coordinates of the text as it is then).

    Returns the operations grouped per entry: group ``k`` is made under
    :func:`pending_agent` ``(k)``, and an upper bound of its encoded size
    (operations plus new references, :func:`_op_size`) stays within
    ``budget`` bytes. Consecutive typing merges into one operation.
    """
    groups: list[list[InsertOp | DeleteOp]] = []
    sizes: list[int] = []  # size bound of each pending operation of the open group
    named: set[bytes] = set()
    used = 0

    def close() -> None:
        nonlocal used
        groups.append(doc.take_ops())
        sizes.clear()
        named.clear()
        used = 0

    def follow(agent: bytes) -> None:
        nonlocal used
        start = max(len(sizes) - 1, 0)  # the last operation may have grown
        used -= sum(sizes[start:])
        del sizes[start:]
        for op in doc.ops_since(start):
            for name in _agents(op):
                if name != agent and name not in named:
                    named.add(name)
                    used += REF_COST
            size = _op_size(op, len(named))
            sizes.append(size)
            used += size

    for pos, length, inserted in steps:
        removed = length
        while removed:
            step = min(removed, DELETE_PIECE)
            if sizes and used + step * DELETE_CHAR_WORST > budget:
                close()
            agent = pending_agent(len(groups))
            doc.local_delete(agent, pos, step)
            follow(agent)
            removed -= step
        at = pos
        for start in range(0, len(inserted), INSERT_PIECE):
            piece = inserted[start : start + INSERT_PIECE]
            if sizes and used + _INSERT_WORST + len(piece.encode()) > budget:
                close()
            agent = pending_agent(len(groups))
            doc.local_insert(agent, at, piece)
            follow(agent)
            at += len(piece)
    if sizes:
        close()
    return groups


_REF_WORST: Final = 9  # [k, offset]: array head, k < 65536, offset < 2**32
_INSERT_WORST: Final = 2 + 2 * _REF_WORST + 5 + 2 * REF_COST


def _uint_size(n: int) -> int:
    """Bytes of a CBOR unsigned integer (or a length head)."""
    return 1 if n < 24 else 2 if n < 256 else 3 if n < 65536 else 5 if n < 2**32 else 9


def _op_size(op: InsertOp | DeleteOp, slots: int) -> int:
    """An operation's CBOR size, bounded above: reference slots are at most ``slots``."""
    slot = _uint_size(slots)
    if isinstance(op, InsertOp):
        size = 2 + len(data := op.text.encode()) + _uint_size(len(data))
        for ref in (op.left, op.right):
            size += 1 if ref is None else 1 + slot + _uint_size(ref[1])
        return size
    return 2 + 1 + slot + _uint_size(op.clock) + _uint_size(op.length)


def _agents(op: InsertOp | DeleteOp) -> list[bytes]:
    if isinstance(op, InsertOp):
        return [ref[0] for ref in (op.left, op.right) if ref is not None]
    return [op.agent]


def chain_bodies(
    groups: Sequence[Sequence[InsertOp | DeleteOp]],
    first: Callable[[list[dcbor.Value], list[bytes]], Step],
    doc: Callable[[Sequence[Entry]], bytes],
) -> Callable[[Sequence[Entry]], Step | None]:
    """The entry bodies for planned groups, for ``Writer.write_chain`` (node/writer.py).

    ``first(ops, refs)`` makes entry 0 (an ``agreement.new`` or an edit
    with the author's heads); every later group becomes an
    ``agreement.edit`` of agreement ``doc(made)`` that depends on the entry
    signed just before it.
    """

    def step(made: Sequence[Entry]) -> Step | None:
        k = len(made)
        if k == len(groups):
            return None
        alias = {pending_agent(j): made[j].id for j in range(k)}
        ops, refs = encode_ops(groups[k], pending_agent(k), alias)
        if k == 0:
            return first(ops, refs)
        return AGREEMENT_EDIT, edit_body(doc(made), [made[-1].id], refs, ops)

    return step


Steps = Callable[[Sequence[Entry]], Step | None]
"""A :func:`chain_bodies` builder: the next ``(kind, body)`` given the entries signed so far."""


def create_steps(title: str, text: str) -> Steps:
    """The entries of ``agreement new``: ``text`` under ``title`` (the first is the agreement)."""
    groups = plan_edit(TextDoc(), [(0, 0, text)])

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        assert not refs, "a new text names no other entry"
        return AGREEMENT_NEW, new_body(title, ops)

    return chain_bodies(groups, first, lambda made: made[0].id)


def edit_steps(agreement: Agreement, wanted: str) -> Steps | None:
    """The entries of ``agreement edit`` turning the current text into ``wanted``, depending
    on the current heads (``None`` if the texts are equal)."""
    groups = plan_edit(agreement.replica.doc, diff_edits(agreement.text, wanted))
    if not groups:
        return None
    doc, heads = agreement.doc, agreement.heads

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        return AGREEMENT_EDIT, edit_body(doc, heads, refs, ops)

    return chain_bodies(groups, first, lambda _: doc)


def merge_texts(base: str, current: str, wanted: str) -> str:
    """``wanted`` (an edit of ``base``) carried over onto ``current`` (another edit of it).

    For an edit made on a text that changed meanwhile (a page opened before a
    peer's edit arrived): the changes ``base -> current`` and ``base -> wanted``
    (:func:`diff_edits`) are applied together, so neither undoes the other.
    Changes that touch the same characters, or insert at the same place,
    conflict: a :class:`~samoorg.crdt.framework.errors.RuleViolation` says where, and
    nothing is merged.
    """
    from samoorg.crdt.framework.errors import RuleViolation

    theirs, mine = diff_edits(base, current), diff_edits(base, wanted)
    for pos, removed, _ in mine:
        for other, other_removed, _ in theirs:
            if _overlap((pos, pos + removed), (other, other + other_removed)):
                line = base.count("\n", 0, pos) + 1
                raise RuleViolation(
                    f"the text changed meanwhile at line {line}, where you edited it too: "
                    "reload the agreement and edit its current text"
                )
    merged = base
    # From the end backwards, so earlier positions stay valid; at one position a
    # deletion goes before an insertion there (which then lands before the rest).
    for pos, removed, inserted in sorted(
        [*theirs, *mine], key=lambda e: (e[0], e[1]), reverse=True
    ):
        merged = merged[:pos] + inserted + merged[pos + removed :]
    return merged


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two replaced ranges ``[start, end)`` touch the same text or the same gap."""
    if a[0] == a[1] and b[0] == b[1]:
        return a[0] == b[0]  # two insertions at one place: their order is not known
    if a[0] == a[1]:
        return b[0] < a[0] < b[1]
    if b[0] == b[1]:
        return a[0] < b[0] < a[1]
    return a[0] < b[1] and b[0] < a[1]
