"""Store.ingest_runs: hash-linked runs authenticated by one signature each."""

from __future__ import annotations

from pathlib import Path

import pytest

from samoorg.node.store import Store
from samoorg.protocol.entry import Entry, decode_entry
from samoorg.protocol.fork import ForkProof
from tests.sync_fixtures import fill, forged_chain, make_feed, signer, stores

ALICE, BOB = signer("alice"), signer("bob")


def with_signature(entry: Entry, signature: bytes) -> Entry:
    """The same entry with another (invalid) signature; its id changes with it."""
    return decode_entry(entry.raw[:-64] + signature, verify_signature=False)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with stores(tmp_path, "s") as (opened,):
        yield opened


def count_verifies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = Entry.verify

    def counting(self: Entry) -> None:
        calls.append(self.seq)
        original(self)

    monkeypatch.setattr(Entry, "verify", counting)
    return calls


def test_a_new_feed_costs_one_signature_check_per_run(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_verifies(monkeypatch)
    alice, bob = make_feed(ALICE, 50), make_feed(BOB, 20)
    report = store.ingest_runs(alice + bob)
    assert len(report.new) == 70
    assert not report.rejected
    assert sorted(calls) == [20, 50]
    assert store.head(ALICE.public_key).seq == 50  # type: ignore[union-attr]
    assert store.verify_all() == []


def test_runs_continue_the_stored_head_and_skip_what_is_held(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = make_feed(ALICE, 30)
    store.ingest_runs(feed[:10])
    calls = count_verifies(monkeypatch)
    report = store.ingest_runs(feed[5:20])  # 5 held, 10 new
    assert (len(report.new), report.duplicates) == (10, 5)
    assert calls == [20]
    replay = store.ingest_runs(feed[:20])
    assert (len(replay.new), replay.duplicates) == (0, 20)
    assert calls == [20]  # a pure replay needs no signature at all
    assert store.verify_all() == []


def test_a_forged_last_signature_falls_back_to_checking_every_entry(store: Store) -> None:
    feed = make_feed(ALICE, 8)
    forged = with_signature(feed[-1], bytes(64))
    report = store.ingest_runs([*feed[:-1], forged])
    assert len(report.new) == 7
    assert [r.error for r in report.rejected] == ["BadSignature"]
    assert store.head(ALICE.public_key).seq == 7  # type: ignore[union-attr]
    assert store.verify_all() == []


def test_a_forged_chain_stores_nothing(store: Store) -> None:
    report = store.ingest_runs(forged_chain(ALICE.public_key, 12))
    assert not report.new
    assert report.rejected[0].error == "BadSignature"
    assert store.stats().entries == 0


def test_gaps_forks_and_flagged_authors_take_the_checked_path(store: Store) -> None:
    feed = make_feed(ALICE, 10)
    gap = store.ingest_runs(feed[3:6])
    assert not gap.new
    assert {r.error for r in gap.rejected} == {"WrongSequence"}
    store.ingest_runs(feed[:5])
    other = make_feed(ALICE, 3, start=feed[3], tag="fork")  # seq 5.. on another branch
    forked = store.ingest_runs(other)
    assert not forked.new
    assert len(forked.forks) == 1
    assert store.is_forked(ALICE.public_key)
    later = store.ingest_runs(feed[5:])
    assert not later.new
    assert later.rejected[0].error == "ForkedAuthor"
    assert store.verify_all() == []


def test_out_of_order_runs_in_one_batch(store: Store) -> None:
    feed = make_feed(ALICE, 9)
    report = store.ingest_runs([*feed[6:], *feed[:3], *feed[3:6]])
    # [7..9] does not fit yet and is handed to ingest(), which runs after the
    # fast runs [1..3] and [4..6] were written: everything lands.
    assert len(report.new) == 9
    assert not report.rejected
    assert store.verify_all() == []


def test_inner_signatures_are_vouched_for_by_the_last(store: Store) -> None:
    """The author's caveat (docs/protocol.md §7.9) under the one validity rule (§4.1).

    An author may sign entry 3 whose ``prev`` is the id of an entry 2 carrying a
    garbage signature. Entry 3's valid signature commits to 2's exact bytes, so
    2 is valid: ``ingest_runs`` and ``ingest`` both store it, and verification
    warns about the author instead of failing.
    """
    feed = make_feed(ALICE, 1)
    bad_second = with_signature(make_feed(ALICE, 1, start=feed[0])[0], b"\x01" * 64)
    third = make_feed(ALICE, 1, start=bad_second)[0]
    report = store.ingest_runs([feed[0], bad_second, third])
    assert len(report.new) == 3
    found = store.verify_report()
    assert found.problems == []
    assert len(found.warnings) == 1
    assert "#2 carries no valid signature of its own; #3 signs for it" in found.warnings[0]
    # Held back, not rejected, when the entry that signs for it may follow.
    with stores(store.path.parent.parent, "other") as (other,):
        first = other.ingest_runs([feed[0], bad_second], hold_tail=True)
        assert ([e.seq for e in first.new], [e.seq for e in first.held]) == ([1], [2])
        assert not first.rejected
        second = other.ingest_runs([*first.held, third], hold_tail=True)
        assert [e.seq for e in second.new] == [2, 3]
        assert not second.held


def test_fork_evidence_matches_ingest(tmp_path: Path) -> None:
    feed = make_feed(ALICE, 4)
    branch = make_feed(ALICE, 2, start=feed[1], tag="b")
    with stores(tmp_path, "x", "y") as (x, y):
        fill(x, feed)
        y.ingest_runs(feed)
        a = x.ingest([e.raw for e in branch])
        b = y.ingest_runs(branch)
        assert [p.to_bytes() for p in a.forks] == [p.to_bytes() for p in b.forks]
        proof: ForkProof = b.forks[0]
        proof.verify()
