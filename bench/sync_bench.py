"""Initial sync: 100k entries across 100 feeds, from a full store into an empty one.

Two set-ups, both through the real protocol and driver (``replicate``):

* one process, two stores, a trio memory stream between them (sender and
  receiver share one core's worth of GIL);
* two processes over a loopback TCP socket (trio), the sender in a child
  process started with ``python -m bench.sync_bench --serve STORE``.

Each figure is entries per second of wall time, beside its ratio to raw
PyNaCl verifications per second measured in the same run: a ratio above 1
means syncing is faster than checking one signature per entry could be on
one core. The receiver checks one signature per hash-linked run
(``Store.ingest_runs``; soundness in docs/protocol.md §7.9).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import trio
import trio.testing

from bench.baseline import report, verify_rate
from samoorg.node.replication import SyncReport, replicate
from samoorg.node.store import Store
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import create_entry

FEEDS: Final = 100
PER_FEED: Final = 1000
TOTAL: Final = FEEDS * PER_FEED
ROOT: Final = Path(__file__).resolve().parents[1]


def _authors() -> list[Signer]:
    return [Signer(hashlib.sha256(b"sync-bench:%d" % i).digest()) for i in range(FEEDS)]


def build_source(path: Path) -> set[bytes]:
    """A store holding FEEDS feeds of PER_FEED pledge-like entries; returns the authors."""
    authors = _authors()
    with Store(path) as store:
        for author in authors:
            prev = None
            run = []
            for seq in range(1, PER_FEED + 1):
                entry = create_entry(
                    author,
                    seq=seq,
                    prev=prev.id if prev else None,
                    timestamp=1_700_000_000_000 + seq,
                    kind="pledge",
                    body={"amount": 100 * seq, "currency": "EUR", "initiative": "roof repair"},
                )
                run.append(entry)
                prev = entry
            store.ingest_runs(run)
        store.checkpoint()
    return {a.public_key for a in authors}


def _check(target: Store, sync: SyncReport) -> None:
    if target.stats().entries != TOTAL or sync.received != TOTAL:
        raise RuntimeError(f"sync incomplete: {sync.summary()}")


def in_process(source: Path, work: Path, authors: set[bytes]) -> float:
    """Entries/s syncing a copy of ``source`` into an empty store over a memory stream."""
    shutil.copy(source, work / "sender.db")
    sender, receiver = Store(work / "sender.db"), Store(work / "receiver.db")
    reports: list[SyncReport] = []

    async def main() -> None:
        left, right = trio.testing.memory_stream_pair()

        async def side(stream: trio.abc.Stream, store: Store) -> None:
            reports.append(await replicate(stream, store, scope=lambda: authors))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(side, left, sender)
            nursery.start_soon(side, right, receiver)

    start, cpu = time.perf_counter(), time.process_time()
    trio.run(main)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    _check(receiver, next(r for r in reports if r.received))
    sender.close()
    receiver.close()
    print(f"  (in-process: {TOTAL / cpu:,.0f} entries per CPU-second, both sides on one core)")
    return TOTAL / elapsed


def two_processes(source: Path, work: Path, authors: set[bytes]) -> float:
    """Entries/s from a child process serving ``source`` over loopback TCP."""
    shutil.copy(source, work / "server.db")
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.sync_bench", "--serve", str(work / "server.db")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        receiver = Store(work / "client.db")
        elapsed = 0.0

        async def main() -> SyncReport:
            nonlocal elapsed
            start = time.perf_counter()
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            sync = await replicate(stream, receiver, scope=lambda: authors)
            elapsed = time.perf_counter() - start
            return sync

        _check(receiver, trio.run(main))
        receiver.close()
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return TOTAL / elapsed


def serve(path: Path) -> None:
    """Child process: print a loopback port, sync one connection, exit."""

    async def main() -> None:
        with Store(path) as store:
            listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
            print(listeners[0].socket.getsockname()[1], flush=True)
            with trio.fail_after(300):
                stream = await listeners[0].accept()
                authors = {h.author for h in store.heads()}
                await replicate(stream, store, scope=lambda: authors)
            for listener in listeners:
                await listener.aclose()

    trio.run(main)


def run() -> None:
    """Build the source store once, then time both set-ups against the verify baseline."""
    baseline = verify_rate()
    with tempfile.TemporaryDirectory(prefix="samoorg-sync-bench-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        authors = build_source(work / "source.db")
        print(
            f"  (built {TOTAL:,} entries in {FEEDS} feeds in {time.perf_counter() - start:.1f} s)"
        )
        for name, measure in (("in-process", in_process), ("two processes", two_processes)):
            rates = []
            for attempt in range(2):
                folder = work / f"{name.replace(' ', '-')}-{attempt}"
                folder.mkdir()
                rates.append(measure(work / "source.db", folder, authors))
            report(
                f"initial sync, {name} (best of 2)",
                max(rates),
                "entries/s",
                baseline,
                note=f"{TOTAL:,} entries, {FEEDS} feeds",
            )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]))
    else:
        run()
