"""tests/vectors/pledge_closes.json (docs/protocol.md §8.5 rule 6) against this implementation.

The file itself is checked against scripts/gen_vectors.py by tests/test_vectors.py.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.reasons import ReasonCode
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.pledges import INITIATIVE, INTEND, REQUEST
from samoorg.protocol.entry import decode_entry

CASES = json.loads(
    (Path(__file__).parent / "vectors" / "pledge_closes.json").read_text(encoding="utf-8")
)["cases"]


def test_every_delivery_order_gives_the_expected_closings() -> None:
    rng = random.Random(11)
    for case in CASES:
        entries = [decode_entry(bytes.fromhex(raw)) for raw in case["entries"]]
        expected = case["expected"]
        for _ in range(4):
            order = list(entries)
            rng.shuffle(order)
            views = Views(EntryIndex(order))
            pledges = views.pledges
            appeals = [a for kind in (REQUEST, INITIATIVE) for a in pledges.appeals(kind)]
            closed = {a.id.hex(): a.closed.id.hex() if a.closed else None for a in appeals}
            states = {e.id.hex(): pledges.pledge(e.id).state for e in order if e.kind == INTEND}  # type: ignore[union-attr]
            assert closed == expected["closed"], case["name"]
            assert states == expected["pledges"], case["name"]
            codes = {k.hex(): v.code.value for k, v in views.invalid().items()}
            assert codes == expected["void"], case["name"]
            assert [i.hex() for i in pledges.waiting_closings()] == expected["waiting"]
            assert views.digests()["pledges"] == expected["digest"], case["name"]


def test_the_cases_cover_each_rule() -> None:
    expected = [case["expected"] for case in CASES]
    states = {s for e in expected for s in e["pledges"].values()}
    assert {"released", "committed", "invalid"} <= states
    codes = {code for e in expected for code in e["void"].values()}
    closing_codes = {
        ReasonCode.CLOSE_INVALID_TARGET,
        ReasonCode.CLOSE_WRONG_KIND,
        ReasonCode.CLOSE_NOT_AUTHOR,
        ReasonCode.CLOSE_AGAIN,
        ReasonCode.INTEND_AFTER_CLOSE,
        ReasonCode.COMMIT_AFTER_CLOSE,
    }
    assert {c.value for c in closing_codes} <= codes
    assert any(e["waiting"] for e in expected)
    assert any(c is None for e in expected for c in e["closed"].values())
