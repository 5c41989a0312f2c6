"""The text CRDT: local editing, convergence under any delivery order, holding, refusals."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.text import BadTextOp, TextDoc
from samoorg.crdt.algorithms.text_replica import Change, Delete, Insert, Replica, change_from_local
from samoorg.crdt.framework.reasons import ReasonCode

A, B, C = b"agent-a", b"agent-b", b"agent-c"


def state(replica: Replica) -> list[tuple[bytes, int, str, tuple[bytes, ...]]]:
    """Every character (tombstones too) with ids and deleters: the full CRDT state."""
    return [(s.agent, s.clock, s.text, tuple(sorted(s.deleters))) for s in replica.doc.spans()]


def edit(replica: Replica, agent: bytes, *actions: tuple[str, int, object]) -> Change:
    """Apply local actions under ``agent``; record and return the change."""
    for action, pos, arg in actions:
        if action == "ins":
            assert isinstance(arg, str)
            replica.doc.local_insert(agent, pos, arg)
        else:
            assert isinstance(arg, int)
            replica.doc.local_delete(agent, pos, arg)
    change = change_from_local(agent, replica.doc.take_ops(), replica.heads)
    replica.record_local(change)
    return change


def test_local_editing_matches_a_string() -> None:
    rng = random.Random(7)
    doc = TextDoc()
    model = ""
    for step in range(3000):
        agent = b"a" if step % 500 < 250 else b"b"
        if model and rng.random() < 0.4:
            pos = rng.randrange(len(model))
            length = rng.randint(1, min(30, len(model) - pos))
            doc.local_delete(agent, pos, length)
            model = model[:pos] + model[pos + length :]
        else:
            pos = rng.choice([0, len(model), rng.randint(0, len(model))])
            text = "".join(rng.choice("xyz\n") for _ in range(rng.randint(1, 12)))
            doc.local_insert(agent, pos, text)
            model = model[:pos] + text + model[pos:]
        assert len(doc) == len(model)
    assert doc.text() == model
    # Replaying the recorded operations elsewhere rebuilds the same state.
    copy = TextDoc()
    for op in doc.take_ops():
        if hasattr(op, "text"):
            copy.insert(*op)  # type: ignore[arg-type]
        else:
            copy.delete(*op)  # type: ignore[arg-type]
    assert list(copy.spans()) == list(doc.spans())


def test_typing_is_run_length_encoded() -> None:
    doc = TextDoc()
    for i, char in enumerate("hello world, this is one run"):
        doc.local_insert(A, i, char)
    assert doc.item_count() == 1
    ops = doc.take_ops()
    assert len(ops) == 1
    assert ops[0].text == "hello world, this is one run"  # type: ignore[union-attr]
    for pos in range(27, 20, -1):  # backspace "one run"
        doc.local_delete(A, pos, 1)
    assert doc.text() == "hello world, this is "
    assert doc.item_count() == 2  # one visible run, one run of tombstones
    assert len(doc.take_ops()) == 1


@pytest.mark.parametrize("backwards", [False, True])
def test_concurrent_runs_do_not_interleave(backwards: bool) -> None:
    base = Replica()
    root = edit(base, A, ("ins", 0, "[]"))
    replicas = [Replica(), Replica()]
    changes: list[Change] = [root]
    for replica, agent_base, word in zip(replicas, (b"x", b"y"), ("hello", "WORLD"), strict=True):
        replica.receive(root)
        letters = reversed(word) if backwards else iter(word)
        for i, letter in enumerate(letters):
            pos = 1 if backwards else 1 + i
            changes.append(edit(replica, agent_base + bytes([i]), ("ins", pos, letter)))
    merged = Replica()
    for change in changes:
        merged.receive(change)
    assert merged.text() in ("[helloWORLD]", "[WORLDhello]")


@st.composite
def histories(draw: st.DrawFn) -> list[Change]:
    """Random concurrent editing by three replicas that sync now and then."""
    replicas = [Replica() for _ in range(3)]
    changes: list[Change] = []
    for step in range(draw(st.integers(1, 24))):
        who = draw(st.integers(0, 2))
        replica = replicas[who]
        if draw(st.integers(0, 4)) == 0:
            source = replicas[draw(st.integers(0, 2))]
            for change in list(source.applied.values()):
                replica.receive(change)
            continue
        actions: list[tuple[str, int, object]] = []
        length = len(replica.doc)
        for _ in range(draw(st.integers(1, 3))):
            if length and draw(st.booleans()):
                pos = draw(st.integers(0, length - 1))
                size = draw(st.integers(1, min(4, length - pos)))
                actions.append(("del", pos, size))
                length -= size
            else:
                pos = draw(st.sampled_from([0, length, length // 2]))
                text = draw(st.text("ab\n", min_size=1, max_size=4))
                actions.append(("ins", pos, text))
                length += len(text)
        changes.append(edit(replica, b"r%d-%03d" % (who, step), *actions))
    return changes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False))
def test_every_delivery_order_with_duplicates_converges(
    changes: list[Change], rng: random.Random
) -> None:
    reference = Replica()
    for change in changes:
        reference.receive(change)
    if not changes:
        return
    assert not reference.held
    assert not reference.invalid
    for _ in range(3):
        delivery = changes + rng.choices(changes, k=len(changes) // 2)
        rng.shuffle(delivery)
        replica = Replica()
        for change in delivery:
            replica.receive(change)
        assert not replica.held
        assert replica.text() == reference.text()
        assert state(replica) == state(reference)
        assert replica.heads == reference.heads


def test_changes_wait_for_their_dependencies() -> None:
    origin = Replica()
    first = edit(origin, A, ("ins", 0, "abc"))
    second = edit(origin, B, ("ins", 3, "def"), ("del", 0, 1))
    third = edit(origin, C, ("ins", 5, "!"))
    replica = Replica()
    replica.receive(third)
    replica.receive(second)
    assert replica.text() == ""
    assert replica.missing() == {C: frozenset({B}), B: frozenset({A})}
    replica.receive(first)
    assert replica.missing() == {}
    assert replica.text() == origin.text() == "bcdef!"
    assert list(replica.applied) == [A, B, C]


def test_bad_references_are_refused_with_dependents() -> None:
    origin = Replica()
    first = edit(origin, A, ("ins", 0, "abc"))
    replica = Replica()
    replica.receive(first)
    beyond = Change.build(B, [Insert((A, 7), None, "x")])
    replica.receive(beyond)
    assert "has 3" in replica.invalid[B].text
    assert replica.invalid[B].code is ReasonCode.UNKNOWN_CHARACTER
    child = Change.build(C, [Insert((B, 0), None, "y")])
    replica.receive(child)
    assert replica.invalid[C].text == f"depends on invalid entry {B.hex()[:12]}"
    assert replica.invalid[C].code is ReasonCode.DEPENDS_ON_VOID
    self_ahead = Change.build(b"d", [Insert((b"d", 0), None, "z")])
    replica.receive(self_ahead)
    assert "has 0" in replica.invalid[b"d"].text
    assert replica.invalid[b"d"].code is ReasonCode.UNKNOWN_CHARACTER
    assert replica.text() == "abc"


def test_a_held_change_is_refused_when_its_dependency_is() -> None:
    replica = Replica()
    replica.receive(Change.build(C, [Insert((B, 0), None, "y")]))
    assert C in replica.held
    replica.receive(Change.build(B, [Delete((B, 0), 1)]))
    assert set(replica.invalid) == {B, C}
    assert not replica.held


def test_crossed_origins_leave_the_text_untouched() -> None:
    origin = Replica()
    first = edit(origin, A, ("ins", 0, "abcdef"))
    replica = Replica()
    replica.receive(first)
    before = state(replica)
    # Valid first operation, then an insert whose left origin is after its right one.
    crossed = Change.build(B, [Delete((A, 0), 2), Insert((A, 4), (A, 1), "x")])
    replica.receive(crossed)
    assert "left origin before the right origin" in replica.invalid[B].text
    assert replica.invalid[B].code is ReasonCode.ORIGINS_OUT_OF_ORDER
    assert state(replica) == before
    assert replica.text() == "abcdef"
    same = Change.build(C, [Insert((A, 2), (A, 2), "x")])
    replica.receive(same)
    assert "different left and right" in replica.invalid[C].text
    assert replica.invalid[C].code is ReasonCode.SAME_ORIGINS


def test_local_positions_are_checked() -> None:
    doc = TextDoc()
    doc.local_insert(A, 0, "abc")
    with pytest.raises(BadTextOp):
        doc.local_insert(A, 4, "x")
    with pytest.raises(BadTextOp):
        doc.local_delete(A, 2, 2)
    with pytest.raises(BadTextOp):
        doc.chars(B, 0, 1)


def test_text_at_a_version_restricts_the_order() -> None:
    origin = Replica()
    first = edit(origin, A, ("ins", 0, "one two"))
    second = edit(origin, B, ("del", 0, 4), ("ins", 3, " three"))
    assert origin.text() == "two three"
    assert origin.doc.text_at({A}.__contains__) == "one two"
    assert origin.doc.text_at({A, B}.__contains__) == "two three"
    assert origin.closure([B]) == {A, B}
    assert second.deps == frozenset({A})
    assert first.deps == frozenset()
