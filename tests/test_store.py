"""The SQLite store: order-independent ingest, nothing unverified stored, forks, checks."""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.node.errors import Ambiguous, NotFound, StoreDamaged, StoreError
from samoorg.node.store import FORKED_AUTHOR, Store
from samoorg.node.verifier import Verifier
from samoorg.protocol.entry import Entry, create_entry
from samoorg.protocol.errors import BadForkProof, BadSignature, LocalProtocolError
from samoorg.protocol.fork import ForkProof
from tests.feed_fixtures import flip_bit, make_feed, signer

FEEDS = {
    name: make_feed(signer(name), length)
    for name, length in (("alice", 7), ("bob", 4), ("carol", 1))
}
ALL = [entry for feed in FEEDS.values() for entry in feed]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as opened:
        yield opened


def _state(store: Store) -> tuple[list[tuple[bytes, int, bytes]], list[bytes]]:
    heads = [(h.author, h.seq, h.id) for h in store.heads()]
    ids = sorted(entry.id for _, entry in store.entries())
    return heads, ids


def _assert_prefixes(store: Store) -> None:
    """Every stored feed is a prefix of the original feed."""
    for feed in FEEDS.values():
        stored = store.feed_raw(feed[0].author, 0, 1000)
        assert stored == [entry.raw for entry in feed[: len(stored)]]


def _ingest_until_stable(store: Store, batches: Sequence[Sequence[bytes]]) -> None:
    """Ingest every batch, then retry gap rejections while that makes progress.

    This is what import and replication do: an entry whose predecessor has
    not arrived is refused with WrongSequence and asked for again later.
    """
    retry: list[bytes] = []
    for batch in batches:
        report = store.ingest(batch)
        assert {r.error for r in report.rejected} <= {"WrongSequence"}
        retry += [batch[r.index] for r in report.rejected]
        _assert_prefixes(store)
    for _ in range(len(ALL) + 1):
        if not retry:
            break
        report = store.ingest(retry)
        progress = bool(report.new)
        retry = [retry[r.index] for r in report.rejected]
        assert progress or not retry


@settings(max_examples=40)
@given(st.data())
def test_any_ingest_order_gives_the_same_store(data: st.DataObject) -> None:
    raws = [entry.raw for entry in ALL]
    extra = data.draw(st.lists(st.sampled_from(raws), max_size=8), label="duplicates")
    shuffled = data.draw(st.permutations(raws + extra), label="order")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(shuffled) - 1), max_size=6), label="cuts"))
    bounds = [0, *cuts, len(shuffled)]
    batches = [shuffled[a:b] for a, b in itertools.pairwise(bounds)]
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.sqlite") as shuffled_store:
        _ingest_until_stable(shuffled_store, batches)
        with Store(Path(tmp) / "ref.sqlite") as reference:
            report = reference.ingest(raws)
            assert not report.rejected
            assert _state(shuffled_store) == _state(reference)
        assert shuffled_store.verify_all() == []


def test_nothing_unverified_is_stored(store: Store) -> None:
    alice = FEEDS["alice"]
    forged = flip_bit(alice[2].raw, len(alice[2].raw) * 8 - 1)  # last signature bit
    report = store.ingest([alice[0].raw, alice[1].raw, forged, alice[3].raw, b"\x00junk"])
    assert [e.seq for e in report.new] == [1, 2]
    assert [(r.index, r.error) for r in report.rejected] == [
        (2, BadSignature.__name__),
        (3, "WrongSequence"),
        (4, "MalformedEntry"),
    ]
    assert store.head(alice[0].author).seq == 2  # type: ignore[union-attr]
    assert store.get_by_id(forged) is None
    assert store.verify_all() == []


def test_duplicates_are_not_verified_again(tmp_path: Path) -> None:
    class Counting(Verifier):
        checked = 0

        def check(self, entries: Sequence[Entry]) -> list[BadSignature | None]:
            Counting.checked += len(entries)
            return super().check(entries)

    with Store(tmp_path / "s.sqlite", verifier=Counting()) as store:
        raws = [e.raw for e in FEEDS["alice"]]
        assert len(store.ingest(raws).new) == len(raws)
        assert Counting.checked == len(raws)
        again = store.ingest(raws)
        assert (len(again.new), again.duplicates, again.rejected) == (0, len(raws), [])
        assert Counting.checked == len(raws)


def _fork_of_alice(at: int) -> Entry:
    feed = FEEDS["alice"]
    prev = feed[at - 2].id if at > 1 else None
    return create_entry(signer("alice"), seq=at, prev=prev, timestamp=1, kind="post", body={})


def test_fork_is_proven_stored_and_flags_the_author(store: Store) -> None:
    alice = FEEDS["alice"]
    store.ingest([e.raw for e in alice[:4]])
    other = _fork_of_alice(3)
    report = store.ingest([other.raw])
    assert [r.error for r in report.rejected] == ["ForkDetected"]
    assert len(report.forks) == 1
    assert store.is_forked(alice[0].author)
    assert store.forked_authors() == {alice[0].author}
    (proof,) = store.fork_proofs()
    assert {e.id for e in proof.verify()} == {alice[2].id, other.id}
    # What we had stays; later entries of the forked author are refused.
    later = store.ingest([e.raw for e in alice[4:]])
    assert {r.error for r in later.rejected} == {FORKED_AUTHOR}
    assert store.head(alice[0].author).seq == 4  # type: ignore[union-attr]
    assert store.fork_cuts() == {alice[0].author: 3}  # pinned: seq 1, 2 stay valid
    # A second fork at a seq no lower is reported but stores no second proof.
    other_twin = create_entry(
        signer("alice"), seq=3, prev=alice[1].id, timestamp=9, kind="post", body={}
    )
    again = store.ingest([other_twin.raw])
    assert [r.error for r in again.rejected] == ["ForkDetected"]
    assert again.forks == []
    # One lower replaces it: one proof per author, the lowest cut (§4.4).
    lower = store.ingest([_fork_of_alice(2).raw])
    assert [r.error for r in lower.rejected] == ["ForkDetected"]
    assert len(lower.forks) == 1
    assert store.fork_cuts() == {alice[0].author: 2}
    assert len(store.fork_proofs()) == 1
    assert store.verify_all() == []


def test_backlink_fork_within_one_batch(store: Store) -> None:
    alice = FEEDS["alice"]
    other = _fork_of_alice(2)
    on_other = create_entry(signer("alice"), seq=3, prev=other.id, timestamp=2, kind="p", body={})
    report = store.ingest([alice[0].raw, alice[1].raw, on_other.raw])
    assert [r.error for r in report.rejected] == ["BrokenBacklink"]
    (proof,) = report.forks
    assert [e.seq for e in proof.verify()] == [2, 3]
    assert store.is_forked(alice[0].author)


def test_fork_proof_from_elsewhere(store: Store) -> None:
    proof = ForkProof.of(
        FEEDS["bob"][1],
        create_entry(
            signer("bob"), seq=2, prev=FEEDS["bob"][0].id, timestamp=5, kind="post", body={}
        ),
    )
    assert store.ingest_fork_proof(proof.to_bytes()) == proof
    assert store.ingest_fork_proof(proof.to_bytes()) is None
    assert store.is_forked(signer("bob").public_key)
    assert store.heads() == []  # a proof alone creates no feed
    report = store.ingest([e.raw for e in FEEDS["bob"]])
    assert {r.error for r in report.rejected} == {FORKED_AUTHOR}
    with pytest.raises(BadForkProof):
        store.ingest_fork_proof(b"not a proof")
    assert store.verify_all() == []


def test_append_builds_a_chain(store: Store) -> None:
    me = signer("me")
    first = store.append(me, "note", {"text": "one"})
    second = store.append(me, "note", {"text": "two"}, timestamp=first.timestamp - 10)
    third = store.append(me, "note", {"text": "three"})
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert (second.prev, third.prev) == (first.id, second.id)
    assert third.timestamp >= first.timestamp  # own timestamps never go backwards
    with pytest.raises(LocalProtocolError):
        store.append(me, "Not A Kind", {})
    assert store.head(me.public_key).seq == 3  # type: ignore[union-attr]
    assert store.verify_all() == []


def test_append_refuses_a_forked_own_feed(store: Store) -> None:
    me = signer("alice")
    store.ingest([FEEDS["alice"][0].raw])
    store.ingest([_fork_of_alice(1).raw])
    with pytest.raises(StoreError, match="forked"):
        store.append(me, "note", {})


def test_reading_api(store: Store) -> None:
    store.ingest([e.raw for e in ALL])
    alice, bob = FEEDS["alice"], FEEDS["bob"]
    assert store.get(alice[0].author, 3) == alice[2]
    assert store.get(alice[0].author, 99) is None
    assert store.get_by_id(bob[1].id) == bob[1]
    assert store.resolve(bob[1].id.hex()[:10]) == bob[1]
    with pytest.raises(NotFound):
        store.resolve("zz")
    with pytest.raises(NotFound):
        store.resolve("0000000000000000")
    rows = list(store.entries(author=bob[0].author))
    assert [e for _, e in rows] == bob
    assert list(store.entries(since=rows[-1][0], author=bob[0].author)) == []
    assert list(store.entries(kinds=["nothing"])) == []
    assert store.feed_raw(alice[0].author, 5, 10) == [alice[5].raw, alice[6].raw]
    marker = store.change_marker()
    store.append(signer("dave"), "post", {})
    assert store.change_marker() != marker
    stats = store.stats()
    assert (stats.entries, stats.feeds, stats.forked) == (len(ALL) + 1, 4, 0)
    with pytest.raises(Ambiguous):
        _resolve_ambiguous(store)


def _resolve_ambiguous(store: Store) -> Entry:
    # Find two stored ids that share a 4-digit prefix by appending until they do.
    seen: dict[str, bytes] = {e.id.hex()[:4]: e.id for _, e in store.entries()}
    me = signer("prefix-hunter")
    for n in range(5000):
        entry = store.append(me, "post", {"n": n})
        prefix = entry.id.hex()[:4]
        if prefix in seen:
            return store.resolve(prefix)
        seen[prefix] = entry.id
    pytest.fail("no shared prefix found")  # pragma: no cover


def _tamper(path: Path, sql: str, *params: object) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, params)
    db.close()


def test_verify_all_finds_tampering(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    alice = FEEDS["alice"]
    with Store(path) as store:
        store.ingest([e.raw for e in ALL])
        assert store.verify_all() == []
    forged = flip_bit(alice[1].raw, len(alice[1].raw) * 8 - 5)
    _tamper(path, "UPDATE entries SET raw = ? WHERE id = ?", forged, alice[1].id)
    _tamper(path, "DELETE FROM entries WHERE id = ?", alice[4].id)
    _tamper(path, "UPDATE entries SET kind = 'other' WHERE id = ?", FEEDS["bob"][0].id)
    _tamper(path, "UPDATE feeds SET seq = 9 WHERE author = ?", FEEDS["carol"][0].author)
    with Store(path) as store:
        problems = "\n".join(store.verify_all())
    assert "BadSignature" in problems
    assert "expected seq 5 here" in problems
    assert "row columns disagree" in problems
    assert "recorded head #9" in problems


def test_store_open_errors(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"this is not a database" * 100)
    with pytest.raises(
        StoreDamaged, match=r"is damaged \(file is not a database\): move the store aside"
    ):
        Store(bogus)
    newer = tmp_path / "newer.sqlite"
    Store(newer).close()
    _tamper(newer, "PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="schema 99"):
        Store(newer)
