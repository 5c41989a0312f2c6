"""Latency of the daemon's HTTP API over the generated community (bench/community_bench.py).

The community (``SAMOORG_BENCH_API_N`` entries, default 100,000; the issue's
sizes are 10k, 100k and 1M) is ingested once into a store cached under the
system temp dir; each run copies it into a fresh home whose identity is the
community's first member (the root of its trust tree), starts
``samoorg node run`` on loopback, and measures:

* ingest: entries/s into the store (signatures verified), when not cached;
* daemon start, from the checkpoint an offline command saved first (its
  rebuild is reported too): seconds from exec to ``ready`` and its RSS then
  (``bench/checkpoint_bench.py`` also times the start to serving the API);
* per endpoint, p50 and p95 of :data:`REQUESTS` sequential requests on one
  keep-alive connection (a first page where the endpoint is a listing);
  ``POST /ideas`` writes 100 ideas first, so that ``/ideas`` has pages;
* beside them the baselines of the same run: ``GET /openapi.json`` (a
  constant document: the cost of HTTP, the gate and JSON encoding alone) and
  raw Ed25519 verification (bench/baseline.py);
* CLI read commands answered by the running daemon, as whole processes
  (median of :data:`CLI_RUNS`), each beside ``samoorg whoami`` of the same run
  (the start-up budget every local command has).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from bench.baseline import report, verify_rate
from bench.community_bench import CACHE_VERSION, load_or_generate
from samoorg.node.api.token import token_file
from samoorg.node.home import Home
from samoorg.node.keystore import create_key_file
from samoorg.node.processes import NodeProcess, cli_command
from samoorg.node.store import Store

REQUESTS = 200
CLI_RUNS = 5
CLI_READS = (
    ("trust", "pool"),
    ("trust", "list"),
    ("pledge", "list"),
    ("ledger", "--mine"),
    ("idea", "list"),
    ("log",),
    ("inbox",),
)
IDEAS = 100
BATCH = 5000


def _store(total: int) -> tuple[Path, float | None]:
    """The cached store of the community; ingest rate if it was made now."""
    path = Path(tempfile.gettempdir()) / f"samoorg-bench-api-v{CACHE_VERSION}-{total}.sqlite"
    if path.exists():
        return path, None
    raws, _ = load_or_generate(total)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    start = time.perf_counter()
    with Store(partial) as store:
        for begin in range(0, len(raws), BATCH):
            store.ingest(raws[begin : begin + BATCH])
        store.checkpoint()
    rate = len(raws) / (time.perf_counter() - start)
    partial.replace(path)
    return path, rate


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Client:
    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: object = None) -> tuple[float, object]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        self.connection.request(method, "/api/v1" + path, body=data, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        took = time.perf_counter() - start
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:200]!r}")
        return took, json.loads(raw)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000


@contextlib.contextmanager
def bench_node(total: int) -> Iterator[tuple[Path, NodeProcess, str]]:
    """A daemon over the cached community of ``total`` entries: its home, process and token.

    The home's identity is the community's first member; the start-up figures
    (to ready, RSS) are reported as it starts.
    """
    cached, ingest = _store(total)
    if ingest is not None:
        report("ingest into the store (signatures checked)", ingest, "entries/s", verify_rate())
    with tempfile.TemporaryDirectory(prefix="samoorg-api-bench-") as root:
        home = Home(Path(root) / "home")
        home.path.mkdir()
        create_key_file(home.key_file, seed=random.Random(7).randbytes(32))  # member 0
        shutil.copyfile(cached, home.store_file)
        # A daemon restarts from the views checkpoint: made here by one offline command
        # (a rebuild of every view), as a node that ran before would have saved it.
        made = _wall(cli_command(home.path, "trust", "pool"))
        report("checkpoint made (offline rebuild + save)", made, "s")
        node = NodeProcess(home.path, extra_args=["--api-rate", "1000000"])
        start = time.perf_counter()
        node.start(timeout=600)
        took = time.perf_counter() - start
        try:
            assert node.pid is not None
            assert node.api_url is not None
            report("daemon start to ready (checkpoint)", took, "s", note=f"{total:,} entries")
            report("daemon RSS when ready", _rss_mb(node.pid), "MB")
            token = token_file(home).read_text(encoding="ascii").strip()
            yield home.path, node, token
        finally:
            node.stop()


def run() -> None:
    """Print ingest, daemon start and per-endpoint latencies."""
    total = int(os.environ.get("SAMOORG_BENCH_API_N", "100000"))
    with bench_node(total) as (home, node, token):
        assert node.api_url is not None
        _measure(Client(node.api_url, token))
        _cli_reads(home)


def _measure(client: Client) -> None:
    writes = [
        client.call("POST", "/ideas", {"title": f"idea {n}", "body": "x" * 200})[0]
        for n in range(IDEAS)
    ]
    first_idea = client.call("GET", "/ideas?limit=1")[1]
    assert isinstance(first_idea, dict)
    idea_id = first_idea["items"][0]["id"]
    endpoints = [
        "/openapi.json",
        "/status",
        "/trust/pool",
        "/trust/list",
        "/ideas",
        f"/ideas/{idea_id}",
        "/pledges",
        "/pledges?everyone=true",
        "/pledges?mine=true",
        "/ledger?mine=true",
        "/inbox",
        "/log",
    ]
    base_p50 = 0.0
    for path in endpoints:
        first, _ = client.call("GET", path)
        samples = [client.call("GET", path)[0] for _ in range(REQUESTS)]
        p50, p95 = percentiles(samples)
        if path == "/openapi.json":
            base_p50 = p50
        ratio = f"p95 {p95:.2f} ms, first {first * 1000:.1f} ms"
        report(f"GET {path[:40]} p50", p50, "ms", base_p50 or None, ratio)
    p50, p95 = percentiles(writes)
    report("POST /ideas p50", p50, "ms", base_p50, f"p95 {p95:.2f} ms")


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def _cli_reads(home: Path) -> None:
    whoami = statistics.median(_wall(cli_command(home, "whoami")) for _ in range(CLI_RUNS))
    report("CLI whoami (baseline, median)", whoami, "s")
    for args in CLI_READS:
        _wall(cli_command(home, *args))  # the daemon's first answer after a change
        took = statistics.median(_wall(cli_command(home, *args)) for _ in range(CLI_RUNS))
        report(f"CLI {' '.join(args)} through the daemon", took, "s", whoami, "goal <= 0.15 s")
