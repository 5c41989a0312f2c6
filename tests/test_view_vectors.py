"""The view vectors (tests/vectors/views/), and digests that hash reason codes, not texts."""

from __future__ import annotations

import hashlib
import json
import random
import runpy
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.reasons import Reason, ReasonCode
from samoorg.crdt.framework.views import DOMAINS, Views
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry, decode_entry

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "views" / "views.json").read_text("utf-8"))
GENERATOR = runpy.run_path(str(ROOT / "scripts" / "gen_view_vectors.py"))
SCENARIOS: list[tuple[list[Entry], dict[bytes, int]]] = [
    (
        [decode_entry(bytes.fromhex(raw)) for raw in case["entries"]],
        {bytes.fromhex(k): cut for k, cut in case["forked"].items()},
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
            assert name in {cls.name for cls in DOMAINS}


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


def build(entries: Sequence[Entry], forked: Mapping[bytes, int]) -> tuple[dict[str, str], Views]:
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


def _keep(entries: list[Entry]) -> st.SearchStrategy[list[Entry]]:
    """Subsets of ``entries`` in their order, each entry kept with probability about 1/2."""
    flags = st.lists(st.booleans(), min_size=len(entries), max_size=len(entries))
    return flags.map(lambda keep: [e for e, k in zip(entries, keep, strict=True) if k])


subsets = st.integers(0, len(SCENARIOS) - 1).flatmap(
    lambda n: st.tuples(st.just(n), _keep(SCENARIOS[n][0]), st.randoms(use_true_random=False))
)


def check_rewording_changes_no_digest(
    entries: Sequence[Entry], forked: Mapping[bytes, int], word: str, rng: random.Random
) -> None:
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


def codes_by_domain(views: Views) -> dict[ReasonCode, set[str]]:
    """Every code some digest names, with the domains naming it."""
    domains: dict[ReasonCode, set[str]] = {}
    for name, reasons in digested_reasons(views).items():
        for reason in reasons.values():
            domains.setdefault(reason.code, set()).add(name)
    return domains


def check_changing_a_code_changes_the_digest(
    entries: Sequence[Entry], forked: Sequence[bytes], code: ReasonCode, other: ReasonCode
) -> None:
    plain, views = build(entries, forked)
    domains = codes_by_domain(views)[code]
    with rewritten(lambda c, text: (other if c is code else c, text)):
        changed, _ = build(entries, forked)
    for name in domains:
        assert changed[name] != plain[name], (code, other, name)


@settings(max_examples=40, deadline=None)
@given(subsets, st.text(min_size=1, max_size=20))
def test_rewording_every_reason_changes_no_digest(
    case: tuple[int, list[Entry], random.Random], word: str
) -> None:
    number, entries, rng = case
    check_rewording_changes_no_digest(entries, SCENARIOS[number][1], word, rng)


@settings(max_examples=40, deadline=None)
@given(subsets, st.data())
def test_changing_one_reason_code_changes_the_digest(
    case: tuple[int, list[Entry], random.Random], data: st.DataObject
) -> None:
    number, entries, _ = case
    forked = SCENARIOS[number][1]
    domains = codes_by_domain(build(entries, forked)[1])
    if not domains:
        return
    code = data.draw(st.sampled_from(sorted(domains, key=lambda c: c.value)))
    other = data.draw(st.sampled_from([c for c in ReasonCode if c is not code]))
    check_changing_a_code_changes_the_digest(entries, forked, code, other)


@pytest.mark.parametrize("number", range(len(SCENARIOS)))
def test_rewording_the_reasons_of_a_whole_scenario_changes_no_digest(number: int) -> None:
    entries, forked = SCENARIOS[number]
    check_rewording_changes_no_digest(entries, forked, "reworded", random.Random(number))


def test_changing_any_digested_code_of_the_whole_scenarios_changes_the_digest() -> None:
    codes = list(ReasonCode)
    covered: set[ReasonCode] = set()
    for entries, forked in SCENARIOS:
        found = codes_by_domain(build(entries, forked)[1])
        for code in found:
            other = codes[(codes.index(code) + 1) % len(codes)]
            check_changing_a_code_changes_the_digest(entries, forked, code, other)
        covered |= found.keys()
    # every code but forked-author (in no digest, 8.1): closings' codes among them
    assert covered == set(ReasonCode) - {ReasonCode.FORKED_AUTHOR}


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
        return [state[3]], [pledge[5] for pledge in state[0]] + [state[4]]
    if name in ("forum", "ratings", "polls"):
        return [state["invalid"]], [state["pending"]]
    if name in ("devices", "recovery"):
        return [state["invalid"]], [state["waiting"]]
    if name == "profiles":  # [[author, seq, id]], voids; nothing waits
        assert [p[0] for p in state[0]] == sorted(p[0] for p in state[0])
        return [state[1]], []
    if name in ("listings", "reviews", "orgs"):
        return [state[1]], [state[2]]
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
            assert top[2] == sorted([bytes.fromhex(k), c] for k, c in case["forked"].items())
            lists, waits = _where_reasons_sit(name, top[1])
            for items in lists:
                assert [item[0] for item in items] == sorted(item[0] for item in items)
                for item in items:
                    assert item[0] not in voids
                    voids[item[0]] = item[1]
            for ids in waits:
                assert ids == sorted(ids)
                waiting.update(ids)
        # Entries past a fork's or a revocation's cut are in no digest (§8.1, §8.11), except
        # the device and recovery records the devices sweep judges.
        kinds = {
            decode_entry(bytes.fromhex(raw)).id: decode_entry(bytes.fromhex(raw)).kind
            for raw in case["entries"]
        }
        assert voids == {
            k: s[1]
            for k, s in statuses.items()
            if s[0] == "void"
            and s[1] != "forked-author"
            and (s[1] != "revoked-device" or kinds[k].startswith(("device.", "recovery.")))
        }
        assert waiting == {k for k, s in statuses.items() if s[0] == "waiting"}


PLEDGE_STATES = {
    "intention",
    "withdrawn",
    "committed",
    "fulfilled",
    "forgiven",
    "released",
    "waiting",
    "invalid",
}
CLOSED_BY = {
    "help.request": ("help.close", "request"),
    "initiative.propose": ("initiative.close", "initiative"),
}


def _sums(held: dict[bytes, Entry], pledges: list[Any]) -> tuple[dict[bytes, list[int]], Any]:
    """Totals per request or initiative (8.4) and debts (8.6) as §8.7 defines them."""
    totals: dict[bytes, list[int]] = {}
    debts: dict[tuple[str, bytes, bytes], list[int]] = {}
    for pledge_id, status, amount, _, _, _ in pledges:
        body: Any = held[pledge_id].body if pledge_id in held else {}
        ref = body.get("request", body.get("initiative"))
        if status in ("intention", "committed", "fulfilled") and ref is not None:
            row = totals.setdefault(ref, [0, 0, 0, 0])
            row[0] += amount
            row[1] += amount if status != "intention" else 0
            row[2] += amount if status == "fulfilled" else 0
            row[3] += 1
        if status == "committed":
            creditor = body["to"] if ref is None else held[ref].author
            debt = debts.setdefault((body["currency"], held[pledge_id].author, creditor), [0, 0])
            debt[0] += amount
            debt[1] += 1
    return totals, [[*key, *row] for key, row in sorted(debts.items())]


def test_the_pledges_state_has_the_fields_the_spec_gives() -> None:
    number = [case["name"] for case in VECTORS["scenarios"]].index("pledges")
    case = VECTORS["scenarios"][number]
    digest_input = bytes.fromhex(case["expected"]["digests"]["pledges"]["input"])
    top: Any = dcbor.decode(digest_input, max_size=1 << 24)
    assert len(top[1]) == 5
    pledges, appeals, debts, _, closings = top[1]
    held = {e.id: e for e in SCENARIOS[number][0]}
    statuses = {bytes.fromhex(k): v for k, v in case["expected"]["entries"].items()}
    valid = {k for k, s in statuses.items() if s == ["valid"]}
    assert [p[0] for p in pledges] == sorted({p[0] for p in pledges})
    for pledge_id, status, amount, commit, closing, waiting in pledges:
        assert status in PLEDGE_STATES
        assert isinstance(amount, int)
        assert amount >= 0
        assert (amount == 0) == (status in ("waiting", "invalid")), (status, amount)
        assert (commit is not None) == (status in ("committed", "fulfilled", "forgiven"))
        if commit is not None:
            assert commit in valid
            assert held[commit].kind == "pledge.commit"
            assert held[commit].body["pledge"] == pledge_id
        assert (closing is not None) == (status in ("fulfilled", "forgiven"))
        if closing is not None:
            kind = "pledge.fulfil" if status == "fulfilled" else "pledge.forgive"
            assert closing in valid
            assert held[closing].kind == kind
            assert held[closing].body["commitment"] == commit
        assert waiting == sorted(waiting)
        if status == "invalid":
            assert waiting == []
    assert {p[1] for p in pledges} >= {"released", "committed", "invalid", "waiting"}
    totals, owed = _sums(held, pledges)
    assert [a[0] for a in appeals] == sorted(k for k in valid if held[k].kind in CLOSED_BY)
    for appeal_id, sums, closed in appeals:
        assert sums == totals.get(appeal_id, [0, 0, 0, 0])
        if closed is not None:
            kind, field = CLOSED_BY[held[appeal_id].kind]
            assert closed in valid
            assert held[closed].kind == kind
            assert held[closed].body[field] == appeal_id
            assert held[closed].author == held[appeal_id].author
    assert {a[2] is None for a in appeals} == {True, False}
    assert debts == owed
    assert debts
    assert closings == sorted(closings)
    assert len(closings) >= 2
    for closing_id in closings:
        assert held[closing_id].kind in ("help.close", "initiative.close")
        assert statuses[closing_id] == ["waiting"]
