"""Feed and store benchmarks (issue 2).

Figures, each beside a baseline measured in the same run:

* ``Store.ingest`` of 100k entries over 100 feeds (batches of 1000, in bundle
  order) against the raw single-core PyNaCl verify rate, measured right
  before every batch (see :class:`Paired`). Goal: at least 0.8x; both cores
  can pass 1.0x. Also per CPU second, which other load disturbs less.
* ``Store.append`` rate (sign + write one transaction) against the same rate.
* ``samoorg whoami`` wall time against a bare ``python -c pass`` start-up.
  Goal: under 0.15 s.
* Store bytes per entry against the mean encoded entry size.

The machine is shared, so rounds are repeated and the median ratio reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.baseline import report, verify_rate, verify_rates
from samoorg.node.keystore import create_key_file
from samoorg.node.store import Store
from samoorg.protocol.crypto import Signer
from tests.feed_fixtures import make_feed, signer

FEEDS = 100
PER_FEED = 1000
BATCH = 1000
ROUNDS = 3


def make_feeds(feeds: int = FEEDS) -> list[bytes]:
    """``feeds`` feeds concatenated in bundle order (signing uses both cores)."""

    def one(number: int) -> list[bytes]:
        return [entry.raw for entry in make_feed(signer(f"bench-{number}"), PER_FEED)]

    with ThreadPoolExecutor(2) as pool:
        return [raw for feed in pool.map(one, range(feeds)) for raw in feed]


@dataclass
class Paired:
    """Work timed in slices, each right after a short raw-verify baseline.

    The machine is shared and its load changes by the second, so every slice
    of work gets its own baseline: ``ratio`` compares the work with what raw
    verification did in the same moments.
    """

    units: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    baseline_wall: float = 0.0  # seconds raw verify would need for ``units``
    baseline_cpu: float = 0.0

    def slice(self, units: int, work: Callable[[], object]) -> None:
        wall_rate, cpu_rate = verify_rates(0.02)
        start, cpu_start = time.perf_counter(), time.process_time()
        work()
        self.wall += time.perf_counter() - start
        self.cpu += time.process_time() - cpu_start
        self.units += units
        self.baseline_wall += units / wall_rate
        self.baseline_cpu += units / cpu_rate

    @property
    def rate(self) -> float:
        return self.units / self.wall

    @property
    def ratio(self) -> float:
        return self.baseline_wall / self.wall

    @property
    def cpu_ratio(self) -> float:
        return self.baseline_cpu / self.cpu

    def report(self, name: str) -> None:
        """One line: the rate, its ratio to raw verify, and the same per CPU second."""
        note = f"per CPU second: {self.cpu_ratio:.2f}x raw verify"
        report(name, self.rate, "entries/s", self.rate / self.ratio, note=note)


def ingest_round(raws: list[bytes], store: Store) -> Paired:
    """Ingest everything in batches of ``BATCH``, each paired with a baseline."""
    paired = Paired()

    def batch(part: list[bytes]) -> None:
        result = store.ingest(part)
        if result.rejected or len(result.new) != len(part):
            raise RuntimeError(f"benchmark ingest rejected entries: {result.rejected[:1]}")

    for offset in range(0, len(raws), BATCH):
        part = raws[offset : offset + BATCH]
        paired.slice(len(part), partial(batch, part))
    return paired


def bench_ingest(raws: list[bytes]) -> None:
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    sizes: list[float] = []
    for number in range(ROUNDS):
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store.sqlite") as store:
            paired = ingest_round(raws, store)
            store.checkpoint()
            stats = store.stats()
            sizes.append(stats.file_bytes / stats.entries)
        ratios.append(paired.ratio)
        cpu_ratios.append(paired.cpu_ratio)
        paired.report(f"ingest round {number + 1}")
    report(
        f"ingest {len(raws) // 1000}k entries / {FEEDS} feeds: median ratio",
        statistics.median(ratios),
        "x",
        note=f"goal >= 0.8x; per CPU second {statistics.median(cpu_ratios):.2f}x",
    )
    mean_raw = sum(map(len, raws)) / len(raws)
    report("store bytes per entry (median)", statistics.median(sizes), "bytes", mean_raw)
    report("  baseline: mean encoded entry", mean_raw, "bytes")


def bench_append(count: int = 3000, step: int = 300) -> None:
    ratios: list[float] = []
    for number in range(ROUNDS):
        who = signer(f"append-{number}")
        paired = Paired()
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store.sqlite") as store:

            def appends(first: int, store: Store = store, who: Signer = who) -> None:
                for n in range(first, first + step):
                    store.append(who, "post", {"text": "an ordinary post", "n": n})

            for first in range(0, count, step):
                paired.slice(step, partial(appends, first))
        ratios.append(paired.ratio)
        paired.report(f"append round {number + 1} (one transaction each)")
    report("append: median ratio to raw verify", statistics.median(ratios), "x")


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_whoami(runs: int = 15) -> None:
    script = Path(sys.executable).with_name("samoorg")
    with tempfile.TemporaryDirectory() as tmp:
        create_key_file(Path(tmp) / "identity.key")
        env = {**os.environ, "SAMOORG_HOME": tmp}
        _wall([str(script), "whoami"], env)  # warm the page cache
        bare = [_wall([sys.executable, "-c", "pass"], env) for _ in range(runs)]
        whoami = [_wall([str(script), "whoami"], env) for _ in range(runs)]
    base = statistics.median(bare)
    report("python -c pass (baseline, median)", base, "s")
    report(
        "samoorg whoami wall time (median)",
        statistics.median(whoami),
        "s",
        base,
        note=f"min {min(whoami):.3f} s, goal < 0.15 s",
    )


def run() -> None:
    """Print every figure of this module."""
    start = time.perf_counter()
    raws = make_feeds()
    report(
        "setup: signed test feeds",
        len(raws),
        "entries",
        note=f"{time.perf_counter() - start:.1f} s",
    )
    bench_ingest(raws)
    bench_append()
    bench_whoami()


if __name__ == "__main__":
    report("baseline: raw pynacl verify (1 core)", verify_rate(), "verify/s")
    run()
