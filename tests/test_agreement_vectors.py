"""The agreement test vectors (tests/vectors/agreements/) against this implementation."""

from __future__ import annotations

import json
import random
import runpy
from pathlib import Path

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.agreements import version_hash
from samoorg.protocol.entry import decode_entry

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads(
    (ROOT / "tests" / "vectors" / "agreements" / "agreements.json").read_text("utf-8")
)


def test_committed_vectors_match_the_generator() -> None:
    generator = runpy.run_path(str(ROOT / "scripts" / "gen_agreement_vectors.py"))
    assert generator["build"]() == VECTORS, "run scripts/gen_agreement_vectors.py and commit"


def test_bodies_cover_valid_and_void_cases() -> None:
    cases = VECTORS["bodies"]
    assert sum("ops" in c for c in cases) >= 3
    assert sum("void" in c for c in cases) >= 5
    for case in cases:
        entry = decode_entry(bytes.fromhex(case["entry"]))
        assert entry.id.hex() == case["id"]
        assert entry.kind == case["kind"]


def test_history_gives_the_expected_state_in_any_order() -> None:
    history = VECTORS["history"]
    entries = [decode_entry(bytes.fromhex(raw)) for raw in history["entries"]]
    doc = bytes.fromhex(history["agreement"])
    expected = history["expected"]
    rng = random.Random(3)
    for _ in range(4):
        order = list(entries)
        rng.shuffle(order)
        views = Views(EntryIndex(order))
        agreement = views.agreements.get(doc)
        assert agreement is not None
        assert agreement.text == expected["text"]
        assert agreement.version.hex() == expected["version"]
        assert [h.hex() for h in agreement.heads] == expected["heads"]
        assert {k.hex(): v.status for k, v in agreement.accepted.items()} == expected["accepted"]
        assert {k.hex(): v.code.value for k, v in agreement.invalid.items()} == expected["void"]
        waiting = {
            k.hex(): [v.code.value, [i.hex() for i in v.ids]] for k, v in agreement.pending.items()
        }
        assert waiting == expected["waiting"]
        assert views.digests()["agreements"] == expected["digest"]
    assert expected["void"]
    assert expected["waiting"]
    assert len(set(expected["accepted"].values())) == 2  # one outdated, one current


def test_version_hashes() -> None:
    for case in VECTORS["versions"]:
        doc = bytes.fromhex(case["agreement"])
        assert version_hash(doc, case["text"]).hex() == case["hash"]
