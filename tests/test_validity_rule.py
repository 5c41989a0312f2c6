"""The one validity rule (docs/protocol.md §4.1) on every ingest path.

An entry is valid when its own signature verifies, or when a later entry of
the same feed with a valid signature commits to it through the hash links.
Only the author can make the second case happen (by signing over an entry they
never signed); every path must then store the same thing, and ``samoorg
verify`` must warn about the author instead of failing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from unittest import mock

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.cli import feed_commands
from samoorg.node.replication import Outcome, SyncLimits
from samoorg.node.store import SCHEMA_VERSION, IngestReport, Store
from samoorg.protocol.bundle import Record, RecordType, encode_bundle
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import Entry, decode_entry
from samoorg.protocol.fork import ForkProof
from samoorg.protocol.ids import peer_id
from tests.conftest import CliRunner
from tests.sync_fixtures import make_feed, signer, stores, sync_pair

ALICE, BOB, CAROL = signer("alice"), signer("bob"), signer("carol")
GARBAGE = b"\x01" * 64


def feed_with_unsigned(
    who: Signer, length: int, unsigned: set[int] | frozenset[int], *, tag: str = ""
) -> list[Entry]:
    """A hash-linked feed whose entries at ``unsigned`` seqs carry a garbage signature.

    Each later entry is signed (validly) over the garbage one, as only the
    author can do.
    """
    entries: list[Entry] = []
    for seq in range(1, length + 1):
        (entry,) = make_feed(who, 1, start=entries[-1] if entries else None, tag=tag)
        if seq in unsigned:
            entry = decode_entry(entry.raw[:-64] + GARBAGE, verify_signature=False)
        entries.append(entry)
    return entries


def expected_prefix(feed: list[Entry], unsigned: set[int] | frozenset[int]) -> list[Entry]:
    """What the rule keeps of a whole feed: everything up to its last signed entry."""
    signed = [entry.seq for entry in feed if entry.seq not in unsigned]
    return feed[: max(signed, default=0)]


def rows(store: Store) -> list[tuple[bytes, int, bytes]]:
    return sorted((e.author, e.seq, e.id) for _, e in store.entries())


def state(store: Store) -> tuple[list[tuple[bytes, int, bytes]], list[object], list[bytes]]:
    """Everything a store holds: rows, heads and fork proofs."""
    return rows(store), store.heads(), [p.to_bytes() for p in store.fork_proofs()]


def import_bundle(store: Store, entries: list[Entry], batch: int) -> IngestReport:
    """The ``samoorg import`` path (batches of ``batch`` records, gaps retried)."""
    records = [Record(RecordType.ENTRY, e.raw) for e in entries]
    report = IngestReport()
    with mock.patch.object(feed_commands, "IMPORT_BATCH", batch):
        feed_commands._import_records(store, records, report)
    return report


def test_ingest_accepts_an_entry_signed_for_in_the_same_batch(tmp_path: Path) -> None:
    feed = feed_with_unsigned(ALICE, 4, {2})
    with stores(tmp_path, "alone", "together") as (alone, together):
        # Without the entry that signs for it, #2 is refused for its signature.
        first = alone.ingest([e.raw for e in feed[:2]])
        assert [r.error for r in first.rejected] == ["BadSignature"]
        assert alone.head(ALICE.public_key).seq == 1  # type: ignore[union-attr]
        # With it, in any order, the whole feed is valid.
        report = together.ingest([e.raw for e in reversed(feed)])
        assert not report.rejected
        assert [e.seq for e in report.new] == [1, 2, 3, 4]
        found = together.verify_report()
        assert found.problems == []
        assert len(found.warnings) == 1
        assert found.warnings[0].startswith(f"{peer_id(ALICE.public_key)}: #2 carries")
        assert "#3 signs for it" in found.warnings[0]


def test_a_feed_cannot_end_in_an_unsigned_entry(tmp_path: Path) -> None:
    feed = feed_with_unsigned(ALICE, 5, {3, 4, 5})
    with stores(tmp_path, "s") as (store,):
        report = store.ingest([e.raw for e in feed])
        assert [r.seq for r in report.rejected] == [3, 4, 5]
        assert {r.error for r in report.rejected} == {"BadSignature"}
        assert store.head(ALICE.public_key).seq == 2  # type: ignore[union-attr]
        assert store.verify_report().warnings == []


def test_an_unsigned_entry_in_a_fork_yields_a_signed_over_proof(tmp_path: Path) -> None:
    """The conflicting entry lacks a signature of its own: the entry signing for it proves it."""
    honest = feed_with_unsigned(ALICE, 3, set())
    other = feed_with_unsigned(ALICE, 3, {2}, tag="other")  # #2 differs, unsigned; #3 signs it
    with stores(tmp_path, "s") as (store,):
        store.ingest([e.raw for e in honest])
        report = store.ingest([e.raw for e in other[1:]])
        assert not report.new
        assert len(report.forks) == 1
        proof = report.forks[0]
        a, b = proof.verify()
        assert (a.id, b.id) == (other[1].id, other[2].id)
        assert store.is_forked(ALICE.public_key)
        assert store.verify_report().problems == []


def test_an_unsigned_stored_entry_in_a_fork_yields_a_signed_over_proof(tmp_path: Path) -> None:
    ours = feed_with_unsigned(ALICE, 4, {2, 3})
    rival = feed_with_unsigned(ALICE, 2, set(), tag="rival")  # a valid other #2
    with stores(tmp_path, "s") as (store,):
        store.ingest_runs(ours)  # the fast path: one signature (#4) checked
        report = store.ingest([rival[1].raw])
        assert report.rejected[0].error == "ForkDetected"
        a, b = report.forks[0].verify()
        assert (a.seq, b.seq) == (3, 4)  # #4 signs over the unsigned #3
        assert store.verify_report().problems == []


def test_an_entry_whose_signer_was_refused_is_refused_too(tmp_path: Path) -> None:
    """#3 is unsigned and signed for by #4, but a fork at #3 in the batch stops #4."""
    feed = feed_with_unsigned(ALICE, 4, {3})
    rival = feed_with_unsigned(ALICE, 3, set(), tag="rival")[2]  # a valid other #3
    with stores(tmp_path, "s") as (store,):
        store.ingest([e.raw for e in feed[:2]])
        report = store.ingest([feed[2].raw, rival.raw, feed[3].raw])
        assert not report.new
        assert store.is_forked(ALICE.public_key)
        assert store.head(ALICE.public_key).seq == 2  # type: ignore[union-attr]
        errors = sorted((r.seq, r.error) for r in report.rejected)
        assert errors == [(3, "BadSignature"), (3, "ForkDetected"), (4, "ForkedAuthor")]
        assert report.forks[0].verify()[1] == feed[3]  # signed over #3
        found = store.verify_report()
        assert found.problems == []
        assert found.warnings == []


def test_verify_command_warns_and_succeeds(cli: CliRunner, tmp_path: Path) -> None:
    feed = feed_with_unsigned(BOB, 6, {2, 3})
    bundle = tmp_path / "bob.bundle"
    bundle.write_bytes(encode_bundle([Record(RecordType.ENTRY, e.raw) for e in feed]))
    home = tmp_path / "home"
    assert cli(home, "init").code == 0
    imported = cli(home, "import", str(bundle))
    assert imported.code == 0, imported.err
    assert imported.out.startswith("imported 6 new entries")
    result = cli(home, "verify")
    assert result.code == 0, result.err
    assert "1 warning" in result.out
    assert result.out.startswith("ok: 6 entries in 1 feed verified")
    assert f"warning: {peer_id(BOB.public_key)}: #2, #3 carry no valid signature" in result.err


feeds_strategy = st.lists(
    st.tuples(st.integers(1, 9), st.frozensets(st.integers(1, 9), max_size=5)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=30)
@given(
    shapes=feeds_strategy,
    frame=st.integers(1, 5),
    import_batch=st.integers(1, 7),
    order=st.randoms(use_true_random=False),
)
def test_bundle_and_sync_store_the_same(
    tmp_path_factory: object,
    shapes: list[tuple[int, frozenset[int]]],
    frame: int,
    import_batch: int,
    order: object,
) -> None:
    """Feeds with unsigned entries: a bundle import (any order, any batch size) and a sync
    (any frame size) both store exactly what the rule says, and the same thing."""
    import random
    import tempfile

    assert isinstance(order, random.Random)
    feeds = [
        feed_with_unsigned(who, length, unsigned)
        for who, (length, unsigned) in zip((ALICE, BOB, CAROL), shapes, strict=False)
    ]
    expected = sorted(
        (e.author, e.seq, e.id)
        for feed, (_, unsigned) in zip(feeds, shapes, strict=False)
        for e in expected_prefix(feed, unsigned)
    )
    everything = [e for feed in feeds for e in feed]
    shuffled = everything[:]
    order.shuffle(shuffled)
    authors = {feed[0].author for feed in feeds}
    with (
        tempfile.TemporaryDirectory() as tmp,
        stores(Path(tmp), "src", "bundle", "sync") as (
            source,
            bundled,
            synced,
        ),
    ):
        source.ingest([e.raw for e in everything])
        import_bundle(bundled, shuffled, import_batch)
        limits = SyncLimits(batch_entries=frame)
        result = trio.run(lambda: sync_pair(source, synced, authors, limits=limits))
        assert result.right.outcome is Outcome.COMPLETE, result.right.summary()
        assert rows(source) == expected
        assert state(bundled) == state(source)
        assert state(synced) == state(source)
        for store in (source, bundled, synced):
            assert store.verify_report().problems == []


def test_schema_1_store_is_upgraded(tmp_path: Path) -> None:
    """A store written with the v1 schema (UNIQUE id index) opens, upgraded, rows intact."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        """
        PRAGMA journal_mode=WAL;
        CREATE TABLE entries (
            rowid INTEGER PRIMARY KEY, author BLOB NOT NULL, seq INTEGER NOT NULL,
            id BLOB NOT NULL UNIQUE, kind TEXT NOT NULL, timestamp INTEGER NOT NULL,
            raw BLOB NOT NULL, UNIQUE (author, seq));
        CREATE INDEX entries_by_kind ON entries (kind);
        CREATE TABLE feeds (author BLOB PRIMARY KEY, seq INTEGER NOT NULL, id BLOB NOT NULL,
            forked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
        CREATE TABLE fork_proofs (author BLOB PRIMARY KEY, proof BLOB NOT NULL,
            found_at INTEGER NOT NULL) WITHOUT ROWID;
        PRAGMA user_version = 1;
        """
    )
    feed = feed_with_unsigned(CAROL, 5, set())
    db.executemany(
        "INSERT INTO entries (rowid, author, seq, id, kind, timestamp, raw) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(10 + e.seq, e.author, e.seq, e.id, e.kind, e.timestamp, e.raw) for e in feed],
    )
    db.execute("INSERT INTO feeds VALUES (?, 5, ?, 0)", (CAROL.public_key, feed[-1].id))
    db.close()
    with Store(path) as store:
        assert [rowid for rowid, _ in store.entries()] == [11, 12, 13, 14, 15]
        assert store.verify_all() == []
        assert store.resolve(feed[2].id.hex()[:7]) == feed[2]
        assert store.get_by_id(feed[3].id) == feed[3]
        more = feed_with_unsigned(CAROL, 7, set())
        assert len(store.ingest([e.raw for e in more]).new) == 2
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {name for (name,) in check.execute("SELECT name FROM sqlite_master")}
    assert "entries_by_feed" in indexes
    assert {
        "listings",
        "listing_versions",
        "listing_tags",
        "listing_text",
    } <= indexes  # the search index
    assert not any(name.startswith("sqlite_autoindex_entries") for name in indexes)
    check.close()


def test_signed_over_proof_stands_on_its_own() -> None:
    feed = feed_with_unsigned(ALICE, 3, {2})
    proof = ForkProof.of(feed[1], feed[2])
    assert ForkProof.from_bytes(proof.to_bytes()).verify()[1] == feed[2]


async def test_a_fork_over_an_unsigned_entry_is_proven_by_sync(tmp_path: Path) -> None:
    """The fork answer carries the entries that sign for an unsigned one (§7.6)."""
    ours = feed_with_unsigned(ALICE, 4, {2, 3})
    rival = feed_with_unsigned(ALICE, 2, set(), tag="rival")
    with stores(tmp_path, "a", "b") as (a, b):
        a.ingest([e.raw for e in ours])
        b.ingest([e.raw for e in rival])
        await sync_pair(a, b, {ALICE.public_key})
        assert a.is_forked(ALICE.public_key)
        assert b.is_forked(ALICE.public_key)
        proof = b.fork_proof(ALICE.public_key)
        assert proof is not None
        assert [e.seq for e in proof.verify()] == [3, 4]
        for store in (a, b):
            assert store.verify_report().problems == []
