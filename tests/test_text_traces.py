"""The editing traces of ../shared/traces replayed through the text CRDT."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.text_traces import load_trace, replay_concurrent, replay_sequential
from samoorg.crdt.algorithms.text import DeleteOp, InsertOp, TextDoc
from samoorg.crdt.algorithms.text_replica import Replica


def test_automerge_paper_gives_its_end_content(shared: Path) -> None:
    trace = load_trace(shared / "traces" / "automerge-paper.json.gz")
    assert len(trace["txns"]) == 259_778
    doc = replay_sequential(trace)
    assert doc.text() == trace["endContent"]
    assert doc.item_count() < 20_000  # runs, not characters
    # The recorded operations, integrated by another replica, give the same state.
    ops = doc.take_ops()
    copy = TextDoc()
    for op in ops:
        if isinstance(op, InsertOp):
            copy.insert(*op)
        else:
            assert isinstance(op, DeleteOp)
            copy.delete(*op)
    assert copy.text() == trace["endContent"]
    assert list(copy.spans()) == list(doc.spans())


@pytest.mark.parametrize("name", ["clownschool", "friendsforever"])
def test_concurrent_trace_converges_to_its_end_content(shared: Path, name: str) -> None:
    trace = load_trace(shared / "traces" / f"{name}.json.gz")
    replicas, changes = replay_concurrent(trace)
    assert len(replicas) == trace["numAgents"] >= 2
    changes = [c for c in changes if c.ops]
    # Every author merges everyone else's changes.
    for replica in replicas:
        for change in changes:
            replica.receive(change)
        assert not replica.held
        assert not replica.invalid
        assert replica.text() == trace["endContent"]
    # A newcomer receiving everything shuffled, with duplicates, gets the same state.
    rng = random.Random(name)
    delivery = changes + rng.sample(changes, len(changes) // 10)
    rng.shuffle(delivery)
    newcomer = Replica()
    for change in delivery:
        newcomer.receive(change)
    assert not newcomer.held
    assert newcomer.text() == trace["endContent"]
    assert list(newcomer.doc.spans()) == list(replicas[0].doc.spans())
