"""The ledger's pages: each list paged at once by one cursor, per-member rows indexed once.

``samoorg ledger`` (and ``GET /ledger``) answer a page of each of its three
lists; the per-member index must give exactly the rows the filter names, and
the pages must concatenate to the whole answer (``--all``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.netting import Cycle, Debts, suggest_netting
from samoorg.node.api.pages import decode_cursor
from samoorg.node.api.shapes import LEDGER_SECTIONS, LedgerRows, ledger_index, ledger_json
from tests.community_fixtures import views_of

MEMBERS = [bytes([n]) * 32 for n in range(1, 7)]

debts_strategy = st.dictionaries(
    st.tuples(
        st.sampled_from(["EUR", "CHF"]), st.sampled_from(MEMBERS), st.sampled_from(MEMBERS)
    ).filter(lambda k: k[1] != k[2]),
    st.integers(1, 10_000),
    max_size=24,
)


def _naive(every: LedgerRows, wanted: set[bytes] | None) -> LedgerRows:
    """The rows a filter keeps, by walking every row (what the index must equal)."""

    def shown(parties: tuple[bytes, ...]) -> bool:
        return wanted is None or wanted <= set(parties)

    def keys(rows: list[tuple[str, bytes, bytes]]) -> list[tuple[str, bytes, bytes]]:
        return [k for k in rows if shown(k[1:])]

    cycles: list[Cycle] = [c for c in every.netting if shown(c.members)]
    return LedgerRows(keys(every.outstanding), cycles, keys(every.after_netting))


@settings(max_examples=60, deadline=None)
@given(
    debts_strategy,
    st.sampled_from(MEMBERS),
    st.one_of(st.none(), st.sampled_from(MEMBERS)),
    st.booleans(),
    st.booleans(),
)
def test_the_index_gives_the_rows_the_filter_names(
    debts: Debts, me: bytes, other: bytes | None, mine: bool, per_member: bool
) -> None:
    # Indexed per member (the daemon) or filtered per query (a command): the same rows.
    index = ledger_index(
        debts, dict.fromkeys(debts, 1), suggest_netting(debts), per_member=per_member
    )
    assert (index.by_member is None) is not per_member
    assert index.every.outstanding == list(debts)
    wanted = {me, other} if other is not None else {me} if mine else None
    assert index.rows(me, other, mine) == _naive(index.every, wanted)


@settings(max_examples=60, deadline=None)
@given(debts_strategy, st.sampled_from(MEMBERS), st.booleans(), st.integers(1, 7))
def test_pages_concatenate_to_all(debts: Debts, me: bytes, mine: bool, limit: int) -> None:
    views = views_of()
    index = ledger_index(debts, dict.fromkeys(debts, 2), suggest_netting(debts))
    rows = index.rows(me, None, mine)
    whole = ledger_json(views, index, rows, 0, None)
    assert whole["next_cursor"] is None
    assert whole["totals"] == {name: len(whole[name]) for name in LEDGER_SECTIONS}
    joined: dict[str, list[Any]] = {name: [] for name in LEDGER_SECTIONS}
    start, pages = 0, 0
    while True:
        page = ledger_json(views, index, rows, start, limit)
        assert page["totals"] == whole["totals"]
        for name in LEDGER_SECTIONS:
            assert len(page[name]) <= limit
            joined[name] += page[name]
        pages += 1
        if page["next_cursor"] is None:
            break
        start = decode_cursor(page["next_cursor"])
        assert start == pages * limit
    assert joined == {name: whole[name] for name in LEDGER_SECTIONS}
    longest = max(whole["totals"].values())
    assert pages == max(1, -(-longest // limit))  # the last page is the one that ends the longest


def test_a_page_names_its_rows_and_counts() -> None:
    a, b, c = MEMBERS[:3]
    debts = {("EUR", a, b): 3000, ("EUR", b, c): 5000, ("EUR", c, a): 4000, ("CHF", a, c): 100}
    index = ledger_index(debts, dict.fromkeys(debts, 1), suggest_netting(debts))
    first = ledger_json(views_of(), index, index.rows(a, None, True), 0, 1)
    assert first["totals"] == {"outstanding": 3, "netting": 1, "after_netting": 2}
    assert [(r["amount"], r["commitments"]) for r in first["outstanding"]] == [
        ({"EUR": "30.00"}, 1)
    ]
    assert len(first["netting"]) == 1
    assert decode_cursor(first["next_cursor"]) == 1
    last = ledger_json(views_of(), index, index.rows(a, None, True), 2, 1)
    assert (last["netting"], last["after_netting"], last["next_cursor"]) == ([], [], None)
    assert [r["amount"] for r in last["outstanding"]] == [{"CHF": "1.00"}]
