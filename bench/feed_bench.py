"""Feed and store benchmarks (issue 2).

Figures, each beside a baseline measured in the same run:

* ``Store.ingest`` of 100k entries over 100 feeds (batches of 1000, in bundle
  order) against the raw single-core PyNaCl verify rate, measured before and
  after each round. Goal: at least 0.8x; both cores can pass 1.0x. Also per
  CPU second, which other load on the machine disturbs much less.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.baseline import report, verify_rate, verify_rates
from samoorg.node.keystore import create_key_file
from samoorg.node.store import Store
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


def ingest_round(raws: list[bytes], folder: Path) -> tuple[float, float, Store]:
    """Ingest everything into a fresh store; return wall and CPU seconds and the open store."""
    store = Store(folder / "store.sqlite")
    start, cpu_start = time.perf_counter(), time.process_time()
    for offset in range(0, len(raws), BATCH):
        result = store.ingest(raws[offset : offset + BATCH])
        if result.rejected or len(result.new) != min(BATCH, len(raws) - offset):
            raise RuntimeError(f"benchmark ingest rejected entries: {result.rejected[:1]}")
    return time.perf_counter() - start, time.process_time() - cpu_start, store


def _baselines() -> tuple[float, float]:
    return verify_rates(0.5)


def bench_ingest(raws: list[bytes]) -> None:
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    sizes: list[float] = []
    for number in range(ROUNDS):
        before = _baselines()
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu, store = ingest_round(raws, Path(tmp))
            store.checkpoint()
            stats = store.stats()
            sizes.append(stats.file_bytes / stats.entries)
            store.close()
        after = _baselines()
        # The baseline is taken before and after each round: the machine is shared.
        base_wall, base_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
        rate = len(raws) / wall
        ratios.append(rate / base_wall)
        cpu_ratios.append(len(raws) / cpu / base_cpu)
        report(
            f"ingest round {number + 1}",
            rate,
            "entries/s",
            base_wall,
            note=f"per CPU second: {cpu_ratios[-1]:.2f}x raw verify",
        )
    report(
        f"ingest {len(raws) // 1000}k entries / {FEEDS} feeds: median ratio",
        statistics.median(ratios),
        "x",
        note=f"goal >= 0.8x; per CPU second {statistics.median(cpu_ratios):.2f}x",
    )
    mean_raw = sum(map(len, raws)) / len(raws)
    report("store bytes per entry (median)", statistics.median(sizes), "bytes", mean_raw)
    report("  baseline: mean encoded entry", mean_raw, "bytes")


def bench_append(count: int = 3000) -> None:
    ratios: list[float] = []
    for number in range(ROUNDS):
        before = _baselines()
        who = signer(f"append-{number}")
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store.sqlite") as store:
            start = time.perf_counter()
            for n in range(count):
                store.append(who, "post", {"text": "an ordinary post", "n": n})
            rate = count / (time.perf_counter() - start)
        base = (before[0] + _baselines()[0]) / 2
        ratios.append(rate / base)
        report(f"append round {number + 1} (one transaction each)", rate, "entries/s", base)
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
