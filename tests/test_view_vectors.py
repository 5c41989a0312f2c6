"""The view vectors (tests/vectors/views/), and digests that hash reason codes, not texts."""

from __future__ import annotations

import hashlib
import json
import random
import runpy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.index import EntryIndex
from samoorg.crdt.reasons import Reason, ReasonCode
from samoorg.crdt.views import DOMAINS, Views
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry, decode_entry

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "views" / "views.json").read_text("utf-8"))
GENERATOR = runpy.run_path(str(ROOT / "scripts" / "gen_view_vectors.py"))
SCENARIOS: list[tuple[list[Entry], list[bytes]]] = [
    (
        [decode_entry(bytes.fromhex(raw)) for raw in case["entries"]],
        [bytes.fromhex(k) for k in case["forked"]],
    )
    for case in VECTORS["scenarios"]
]


def test_committed_vectors_match_the_generator() -> None:
    assert GENERATOR["build"]() == VECTORS, "run scripts/gen_view_vectors.py and commit"


@pytest.mark.parametrize("number", range(len(SCENARIOS)))
def test_every_delivery_order_gives_the_expected_statuses_and_digests(number: int) -> None:
    entries, forked = SCENARIOS[number]
    expected = VECTORS["scenarios"][number]["expected"]
    rng = random.Random(number)
    for _ in range(3):
        order = list(entries)
        rng.shuffle(order)
        assert GENERATOR["expected"](order, forked) == expected


def test_each_digest_is_the_sha256_of_its_input() -> None:
    for case in VECTORS["scenarios"]:
        for name, digest in case["expected"]["digests"].items():
            assert hashlib.sha256(bytes.fromhex(digest["input"])).hexdigest() == digest["digest"]
            assert name in {"trust", "pledges", "forum", "ratings", "polls", "agreements"}


def test_the_vectors_cover_every_reason_code_and_waiting_entries() -> None:
    seen: set[str] = set()
    waiting = 0
    for case in VECTORS["scenarios"]:
        for status in case["expected"]["entries"].values():
            if status[0] == "void":
                seen.add(status[1])
            elif status[0] == "waiting":
                waiting += 1
                seen.update(status[1:2])
    assert seen == {code.value for code in ReasonCode}
    assert waiting >= 10


# -- digests depend on codes only ----------------------------------------------------------


@contextmanager
def rewritten(change: Callable[[ReasonCode, str], tuple[ReasonCode, str]]) -> Iterator[None]:
    """Every :class:`Reason` made inside has its code and text passed through ``change``."""
    original = Reason.__init__

    def init(self: Reason, code: ReasonCode, text: str, ids: tuple[bytes, ...] = ()) -> None:
        code, text = change(code, text)
        original(self, code, text, ids)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Reason, "__init__", init)
        yield


def build(entries: Sequence[Entry], forked: Sequence[bytes]) -> tuple[dict[str, str], Views]:
    views = Views(EntryIndex(entries, forked))
    return views.digests(), views


def digested_reasons(views: Views) -> dict[str, dict[bytes, Reason]]:
    """Per domain, the reasons its digest names: void entries, and waiting agreement entries."""
    found: dict[str, dict[bytes, Reason]] = {}
    for cls in DOMAINS:
        found[cls.name] = dict(views.domain(cls).invalid())
    found["agreements"].update(views.agreements.pending())
    return found


def texts(views: Views) -> dict[bytes, str]:
    return {k: r.text for reasons in digested_reasons(views).values() for k, r in reasons.items()}


subsets = st.integers(0, len(SCENARIOS) - 1).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.sampled_from(SCENARIOS[n][0]), unique_by=lambda e: e.id, min_size=1),
        st.randoms(use_true_random=False),
    )
)


@settings(max_examples=40, deadline=None)
@given(subsets, st.text(min_size=1, max_size=20))
def test_rewording_every_reason_changes_no_digest(
    case: tuple[int, list[Entry], random.Random], word: str
) -> None:
    number, entries, rng = case
    forked = SCENARIOS[number][1]
    plain, plain_views = build(entries, forked)
    before = texts(plain_views)
    shuffled = list(entries)
    rng.shuffle(shuffled)
    with rewritten(lambda code, text: (code, f"{word} {text[::-1]} {len(text)}")):
        reworded, reworded_views = build(shuffled, forked)
        after = texts(reworded_views)
    assert reworded == plain
    assert before.keys() == after.keys()
    assert all(before[k] != after[k] for k in before)  # the rewording did take effect


@settings(max_examples=40, deadline=None)
@given(subsets, st.data())
def test_changing_one_reason_code_changes_the_digest(
    case: tuple[int, list[Entry], random.Random], data: st.DataObject
) -> None:
    number, entries, _ = case
    forked = SCENARIOS[number][1]
    plain, views = build(entries, forked)
    domains: dict[ReasonCode, set[str]] = {}
    for name, reasons in digested_reasons(views).items():
        for reason in reasons.values():
            domains.setdefault(reason.code, set()).add(name)
    if not domains:
        return
    code = data.draw(st.sampled_from(sorted(domains, key=lambda c: c.value)))
    other = data.draw(st.sampled_from([c for c in ReasonCode if c is not code]))
    with rewritten(lambda c, text: (other if c is code else c, text)):
        changed, _ = build(entries, forked)
    for name in domains[code]:
        assert changed[name] != plain[name], (code, other, name)


def test_the_spec_lists_exactly_the_reason_codes_of_the_implementation() -> None:
    spec = (ROOT / "docs" / "protocol.md").read_text("utf-8")
    table = spec[
        spec.index("**Reason codes**") : spec.index("**Test vectors.** `tests/vectors/views")
    ]
    listed = [row.split("`")[1] for row in table.splitlines() if row.startswith("| `")]
    assert sorted(listed) == sorted(code.value for code in ReasonCode)
    assert len(set(listed)) == len(listed)


def _where_reasons_sit(name: str, state: Any) -> tuple[list[list[Any]], list[list[bytes]]]:
    """The lists of void items and of waiting ids in one domain's state, as §8.7 lays it out."""
    if name == "trust":
        return [state[1]], [invite[4] for invite in state[0]]
    if name == "pledges":
        return [state[3]], [pledge[5] for pledge in state[0]]
    if name in ("forum", "ratings", "polls"):
        return [state["invalid"]], [state["pending"]]
    voids, waiting = [state[1]], []
    for agreement in state[0]:
        voids.append(agreement[5])
        waiting.append([item[0] for item in agreement[6]])
    return voids, waiting


def test_void_and_waiting_entries_sit_where_the_spec_says() -> None:
    for case in VECTORS["scenarios"]:
        statuses = {bytes.fromhex(k): v for k, v in case["expected"]["entries"].items()}
        voids: dict[bytes, str] = {}
        waiting: set[bytes] = set()
        for name, digest in case["expected"]["digests"].items():
            top = dcbor.decode(bytes.fromhex(digest["input"]), max_size=1 << 24)
            assert isinstance(top, list)
            assert top[0] == name
            assert top[2] == sorted(bytes.fromhex(k) for k in case["forked"])
            lists, waits = _where_reasons_sit(name, top[1])
            for items in lists:
                assert [item[0] for item in items] == sorted(item[0] for item in items)
                for item in items:
                    assert item[0] not in voids
                    voids[item[0]] = item[1]
            for ids in waits:
                assert ids == sorted(ids)
                waiting.update(ids)
        assert voids == {
            k: s[1] for k, s in statuses.items() if s[0] == "void" and s[1] != "forked-author"
        }
        assert waiting == {k for k, s in statuses.items() if s[0] == "waiting"}
