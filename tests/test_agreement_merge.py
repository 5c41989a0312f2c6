"""Carrying an edit made on an older text over onto the current one (merge_texts)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.crdt.algorithms.agreement_edits import merge_texts
from samoorg.crdt.framework.errors import RuleViolation

# Per line of the base: 0 keep, 1 change (append a mark), 2 delete.
CHOICES = st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=12)


def _lines(n: int) -> list[str]:
    return [f"line {i} of the text\n" for i in range(n)]


def _apply(lines: list[str], choice: dict[int, int], mark: str) -> str:
    out = []
    for i, line in enumerate(lines):
        action = choice.get(i, 0)
        if action == 1:
            out.append(line[:-1] + f" {mark}\n")
        elif action == 0:
            out.append(line)
    return "".join(out)


@given(CHOICES, st.data())
def test_edits_of_different_lines_both_survive(choices: list[int], data: st.DataObject) -> None:
    lines = _lines(len(choices))
    # Each line's change goes to one side only: theirs or mine.
    sides = data.draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
    theirs = {i: c for i, c in enumerate(choices) if sides[i]}
    mine = {i: c for i, c in enumerate(choices) if not sides[i]}
    base = "".join(lines)
    current, wanted = _apply(lines, theirs, "THEIRS"), _apply(lines, mine, "MINE")
    expected = _apply(lines, {**theirs, **mine}, "X")
    merged = merge_texts(base, current, wanted)
    assert merged.replace("THEIRS", "X").replace("MINE", "X") == expected
    assert merge_texts(base, wanted, current) == merged


@given(st.text(max_size=40), st.text(max_size=40))
def test_no_change_on_one_side_gives_the_other(base: str, other: str) -> None:
    assert merge_texts(base, base, other) == other
    assert merge_texts(base, other, base) == other


def test_the_same_place_changed_twice_is_refused() -> None:
    base = "one\ntwo\nthree\n"
    with pytest.raises(RuleViolation, match="line 2"):
        merge_texts(base, "one\ntwX\nthree\n", "one\ntwY\nthree\n")
    with pytest.raises(RuleViolation):
        merge_texts(base, "one\ntwo\nA\nthree\n", "one\ntwo\nB\nthree\n")
