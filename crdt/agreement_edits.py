"""From "the agreement should now read like this" to text operations that fit in entries.

:func:`diff_edits` compares the current and the wanted text, first by lines
and then, inside replaced blocks, by characters (``difflib``), and returns
replacements in the old text's coordinates. :func:`plan_edit` applies them
to a replica's document as local edits, from the end of the text backwards
so earlier positions stay valid, and cuts the resulting operations into
groups that each fit in one 64 KiB entry. Each group is made under its own
placeholder agent (:func:`pending_agent`) because the id of the entry that
will carry it is not known until it is signed; the encoder maps the
placeholders to entry ids (:func:`samoorg.crdt.agreement_codec.encode_ops`).
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher
from itertools import accumulate
from typing import Final

from samoorg.crdt.agreement_codec import encode_ops
from samoorg.crdt.text import DeleteOp, InsertOp, TextDoc
from samoorg.protocol import dcbor

Edit = tuple[int, int, str]
"""``(position, characters removed, text inserted)`` in the old text."""

CHAR_DIFF_LIMIT: Final = 4000
"""Replaced blocks up to this many characters on each side also get a character diff."""
INSERT_PIECE: Final = 4096
"""Characters per insert operation (at most 16 KiB of UTF-8)."""
DELETE_PIECE: Final = 256
"""Characters deleted per step; each step costs at most :data:`DELETE_STEP_WORST` bytes."""
DELETE_STEP_WORST: Final = DELETE_PIECE * 52
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
    """Apply ``edits`` to ``doc`` locally; return the operations grouped per entry.

    Group ``k`` is made under :func:`pending_agent` ``(k)`` and its encoded
    operations plus new references stay within ``budget`` bytes.
    """
    groups: list[list[InsertOp | DeleteOp]] = [[]]
    used = 0
    named: set[bytes] = set()

    def make_room(worst: int) -> bytes:
        nonlocal used
        if used + worst > budget and groups[-1]:
            groups.append([])
            used = 0
            named.clear()
        return pending_agent(len(groups) - 1)

    def account(agent: bytes) -> None:
        nonlocal used
        ops = doc.take_ops()
        groups[-1].extend(ops)
        encoded, refs = encode_ops(ops, agent, {})
        fresh = set(refs) - named
        named.update(fresh)
        used += len(dcbor.encode(encoded)) + REF_COST * len(fresh)

    for pos, length, inserted in reversed(edits):
        removed = length
        while removed:
            step = min(removed, DELETE_PIECE)
            agent = make_room(DELETE_STEP_WORST)
            doc.local_delete(agent, pos, step)
            account(agent)
            removed -= step
        at = pos
        for start in range(0, len(inserted), INSERT_PIECE):
            piece = inserted[start : start + INSERT_PIECE]
            agent = make_room(len(piece.encode()) + 4 * REF_COST)
            doc.local_insert(agent, at, piece)
            account(agent)
            at += len(piece)
    return [group for group in groups if group]
