"""Network benchmarks with real ``samoorg node run`` processes on 127.0.0.1.

* **Initial sync**: a node holding 100,000 entries in 100 feeds serves a fresh
  node that follows those feeds; entries/s from the fresh node's start to its
  last entry, beside the raw pynacl verify rate of the same run.
* **Propagation**: ten nodes in a chain (each bootstraps to the previous
  one); an entry written at one end by a local command, until every node
  holds it; p50/p95 over several entries (goal: p95 under 1 s).
* **Reconnect**: the served node restarts on the same port; time from its
  ``ready`` line until its peer holds an entry written while it was down.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.baseline import report, verify_rate
from samoorg.node.home import Home
from samoorg.node.keystore import create_key_file
from samoorg.node.peerbook import PeerBook
from samoorg.node.processes import NodeProcess
from samoorg.node.store import Store
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import create_entry

FEEDS = int(os.environ.get("SAMOORG_BENCH_FEEDS", "100"))
PER_FEED = int(os.environ.get("SAMOORG_BENCH_PER_FEED", "1000"))
CHAIN = 10
SAMPLES = 20


def _home(path: Path) -> tuple[Home, Signer]:
    home = Home(path)
    signer = create_key_file(home.key_file)
    Store(home.store_file).close()
    return home, signer


def _fill(store: Store, feeds: int, per_feed: int) -> list[bytes]:
    """Write ``feeds`` feeds of ``per_feed`` signed entries; return the authors."""
    authors: list[bytes] = []
    for f in range(feeds):
        signer = Signer(f.to_bytes(4, "big") * 8)
        authors.append(signer.public_key)
        prev = None
        batch: list[bytes] = []
        for seq in range(1, per_feed + 1):
            entry = create_entry(
                signer,
                seq=seq,
                prev=prev,
                timestamp=1_700_000_000_000 + seq,
                kind="bench.note",
                body={"n": seq, "text": "x" * 60},
            )
            prev = entry.id
            batch.append(entry.raw)
        report_ = store.ingest(batch)
        assert not report_.rejected, report_.rejected[:1]
    return authors


def _count(path: Path) -> int:
    # Every stored feed is a prefix, so the heads add up to the entry count; a
    # COUNT(*) over 100k rows every 50 ms would take CPU from the node we time.
    with Store(path) as store:
        return sum(head.seq for head in store.heads())


def _wait(condition: Callable[[], bool], timeout: float, step: float = 0.02) -> float:
    start = time.perf_counter()
    deadline = start + timeout
    while time.perf_counter() < deadline:
        if condition():
            return time.perf_counter() - start
        time.sleep(step)
    raise TimeoutError(f"condition not met within {timeout:g} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def initial_sync(base: Path, rate: float) -> None:
    """100k entries in 100 feeds from one node process to another."""
    source_home, _ = _home(base / "source")
    with Store(source_home.store_file) as store:
        started = time.perf_counter()
        authors = _fill(store, FEEDS, PER_FEED)
        filled = time.perf_counter() - started
    total = FEEDS * PER_FEED
    print(f"  (generated and stored {total:,} entries in {filled:.1f} s)", flush=True)
    sink_home, _ = _home(base / "sink")
    with PeerBook.open(sink_home) as book:
        book.follow(authors)
    with NodeProcess(source_home.path) as source:
        sink = NodeProcess(sink_home.path, bootstrap=source.addrs)
        started = time.perf_counter()
        sink.start()
        try:
            ready = time.perf_counter() - started
            took = _wait(lambda: _count(sink_home.store_file) >= total, 600, step=0.05)
        finally:
            sink.stop()
    elapsed = ready + took
    # The ratio is to the single-core pynacl verify rate of this run: above 1
    # means fewer than one signature check per entry (hash-linked runs).
    report(
        "initial sync, 2 processes (entries/s)",
        total / elapsed,
        "entries/s",
        rate,
        note=f"{total:,} entries, {FEEDS} feeds, {elapsed:.2f} s incl. {ready:.2f} s start-up",
    )
    report("initial sync after start-up (entries/s)", total / took, "entries/s", rate)


def propagation(base: Path) -> None:
    """p50/p95 time for an entry to reach all ten nodes of a chain."""
    homes: list[Home] = []
    signers: list[Signer] = []
    for i in range(CHAIN):
        home, signer = _home(base / f"chain{i}")
        homes.append(home)
        signers.append(signer)
    keys = [s.public_key for s in signers]
    for home in homes:
        with PeerBook.open(home) as book:
            book.follow(keys)
    nodes: list[NodeProcess] = []
    try:
        for home in homes:
            node = NodeProcess(home.path, bootstrap=nodes[-1].addrs if nodes else ())
            node.start()
            nodes.append(node)
        stores = [Store(h.store_file) for h in homes]
        try:
            # Wait for the chain to be connected end to end: one entry through.
            origin = 0
            with Store(homes[origin].store_file) as local:
                local.append(signers[origin], "bench.ping", {"n": 0})
            _wait(lambda: all(s.head(keys[origin]) for s in stores), 60, step=0.02)
            times: list[float] = []
            for n in range(1, SAMPLES + 1):
                origin = 0 if n % 2 else CHAIN - 1
                with Store(homes[origin].store_file) as local:
                    start = time.perf_counter()
                    want = local.append(signers[origin], "bench.ping", {"n": n}).seq

                def everywhere(origin: int = origin, want: int = want) -> bool:
                    return all(
                        (head := s.head(keys[origin])) is not None and head.seq >= want
                        for s in stores
                    )

                _wait(everywhere, 30, step=0.005)
                times.append(time.perf_counter() - start)
                time.sleep(0.2)
        finally:
            for store in stores:
                store.close()
    finally:
        for node in reversed(nodes):
            node.stop()
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    report(
        f"propagation to all {CHAIN} nodes of a chain, p50", 1000 * statistics.median(times), "ms"
    )
    report(
        f"propagation to all {CHAIN} nodes of a chain, p95",
        1000 * p95,
        "ms",
        1000.0,
        note=f"ratio to the 1 s goal; {SAMPLES} entries from both ends, max {max(times):.3f} s",
    )


def reconnect(base: Path) -> None:
    """A restarted peer on the same port: time until its peer has what it missed."""
    a_home, a_signer = _home(base / "restart-a")
    b_home, _ = _home(base / "restart-b")
    with PeerBook.open(b_home) as book:
        book.follow([a_signer.public_key])
    listen = f"/ip4/127.0.0.1/tcp/{_free_port()}"
    a = NodeProcess(a_home.path, listen=listen)
    a.start()
    b = NodeProcess(b_home.path, bootstrap=a.addrs)
    b.start()
    try:
        with Store(b_home.store_file) as seen:
            with Store(a_home.store_file) as local:
                local.append(a_signer, "bench.ping", {"n": 1})
            _wait(lambda: (h := seen.head(a_signer.public_key)) is not None and h.seq == 1, 30)
            samples: list[float] = []
            for n in range(2, 5):
                a.stop()
                with Store(a_home.store_file) as local:
                    local.append(a_signer, "bench.ping", {"n": n})
                time.sleep(1.0)  # b notices and starts backing off
                a.start()
                samples.append(
                    _wait(
                        lambda n=n: (
                            (h := seen.head(a_signer.public_key)) is not None and h.seq == n
                        ),
                        60,
                    )
                )
    finally:
        b.stop()
        a.stop()
    report(
        "reconnect after peer restart (ready -> synced)",
        1000 * statistics.median(samples),
        "ms",
        note=f"median of {len(samples)}, max {max(samples):.2f} s; peer down 1 s",
    )


def run() -> None:
    """Run the three network benchmarks in a temporary directory."""
    rate = verify_rate()
    base = Path(tempfile.mkdtemp(prefix="samoorg-netbench-"))
    try:
        initial_sync(base, rate)
        propagation(base)
        reconnect(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
