"""Helpers for replication tests: deterministic feeds, stores, and session pairs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trio
import trio.testing

from samoorg.node.replication import Outcome, SyncLimits, SyncReport, replicate
from samoorg.node.store import Store
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer, digest
from samoorg.protocol.entry import VERSION, Entry, create_entry, decode_entry

T0 = 1_700_000_000_000


def signer(name: str) -> Signer:
    """A deterministic key per name, so failures reproduce."""
    return Signer(hashlib.sha256(b"samoorg-test-key:" + name.encode()).digest())


def forged_chain(author_key: bytes, count: int) -> list[Entry]:
    """Hash-linked entries in someone's name, with signatures nobody made."""
    entries: list[Entry] = []
    prev: bytes | None = None
    for seq in range(1, count + 1):
        unsigned = dcbor.encode([VERSION, author_key, seq, prev, seq, "note", {"forged": True}])
        raw = b"\x88" + unsigned[1:] + b"\x58\x40" + bytes(range(64))
        entries.append(decode_entry(raw, verify_signature=False))
        prev = digest(raw)
    return entries


def assert_failed(report: SyncReport, error: str) -> None:
    """The session failed with ``error`` (a prefix of ``"ErrorName: message"``)."""
    assert report.outcome is Outcome.FAILED, report.summary()
    assert report.error is not None
    assert report.error.startswith(error), report.error


def make_feed(
    author: Signer, count: int, *, start: Entry | None = None, tag: str = ""
) -> list[Entry]:
    """``count`` signed, hash-linked entries continuing ``start`` (or from seq 1)."""
    entries: list[Entry] = []
    prev = start
    for _ in range(count):
        seq = prev.seq + 1 if prev else 1
        entry = create_entry(
            author,
            seq=seq,
            prev=prev.id if prev else None,
            timestamp=T0 + seq,
            kind="note",
            body={"n": seq, "tag": tag},
        )
        entries.append(entry)
        prev = entry
    return entries


@contextmanager
def stores(tmp_path: Path, *names: str) -> Iterator[list[Store]]:
    """Open one fresh store per name; close them all afterwards."""
    opened = [Store(tmp_path / name / "store.db") for name in names]
    try:
        yield opened
    finally:
        for store in opened:
            store.close()


def fill(store: Store, entries: Sequence[Entry]) -> None:
    """Put already-verified test entries into a store (fully checked path)."""
    report = store.ingest([e.raw for e in entries])
    assert not report.rejected, report.rejected


def snapshot(store: Store) -> tuple[set[bytes], set[bytes]]:
    """Entry ids and flagged authors: what two converged stores share."""
    return {e.id for _, e in store.entries()}, store.forked_authors()


@dataclass
class PairResult:
    """The two reports of one session between ``left`` and ``right``."""

    left: SyncReport
    right: SyncReport


async def sync_pair(
    left: Store,
    right: Store,
    authors: set[bytes],
    *,
    limits: SyncLimits | None = None,
    right_authors: set[bytes] | None = None,
) -> PairResult:
    """One one-shot session between two stores over a trio memory stream."""
    a, b = trio.testing.memory_stream_pair()
    reports: dict[str, SyncReport] = {}
    extra = {"limits": limits} if limits else {}

    async def side(name: str, stream: trio.abc.Stream, store: Store, scope: set[bytes]) -> None:
        reports[name] = await replicate(stream, store, scope=lambda: scope, peer=name, **extra)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(side, "left", a, left, authors)
        nursery.start_soon(side, "right", b, right, right_authors or authors)
    return PairResult(reports["left"], reports["right"])
