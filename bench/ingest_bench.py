"""Ingest while serving: entries/s into the store and the daemon's views, with API latency.

What an initial sync does to a running node, without the network: the
community of ``bench/community_bench.py`` (``SAMOORG_BENCH_INGEST_N`` entries,
default 100,000) is stored in batches of :data:`BATCH` by another process
(signatures checked, as a sync session stores them) into the store of a
running daemon whose identity is the community's first member. Meanwhile
this process asks the daemon's API, on one keep-alive connection, in turn for
``GET /openapi.json`` (the cost of HTTP and JSON alone: the baseline),
``GET /trust/pool`` and ``GET /log?limit=1``.

Figures: entries/s into the store (the writer process's own rate); entries/s
into the daemon's views (all entries until ``/log`` names the last one
stored, which it does once the views applied it); p50/p95 (and the slowest
answer) of each endpoint during the ingest beside the same endpoint on the
idle daemon afterwards.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api_bench import Client, percentiles
from bench.baseline import report
from bench.community_bench import load_or_generate
from samoorg.node.api.token import token_file
from samoorg.node.home import Home
from samoorg.node.keystore import create_key_file
from samoorg.node.processes import NodeProcess
from samoorg.node.store import Store

BATCH = 5000
ENDPOINTS = ("/openapi.json", "/trust/pool", "/log?limit=1")
IDLE_REQUESTS = 100
MAX_WAIT = 1800.0
"""Seconds the views may take to catch up (a bound, not a figure)."""

_WRITER = """
import json, sys, time
from pathlib import Path
from bench.community_bench import load_or_generate
from samoorg.node.store import Store
raws, _ = load_or_generate(int(sys.argv[2]))
batch = int(sys.argv[3])
with Store(Path(sys.argv[1])) as store:
    print("start", flush=True)
    start = time.perf_counter()
    for begin in range(0, len(raws), batch):
        store.ingest(raws[begin : begin + batch])
    took = time.perf_counter() - start
    (last,) = store._db.execute("SELECT id FROM entries ORDER BY rowid DESC LIMIT 1").fetchone()
    print(json.dumps([len(raws), took, bytes(last).hex()]), flush=True)
"""


def run() -> None:
    """Print the ingest rates and the API's latency during and after the ingest."""
    total = int(os.environ.get("SAMOORG_BENCH_INGEST_N", "100000"))
    load_or_generate(total)  # generated (and cached) before anything is timed
    with tempfile.TemporaryDirectory(prefix="samoorg-ingest-bench-") as base:
        home = Home(Path(base) / "home")
        home.path.mkdir()
        create_key_file(home.key_file, seed=random.Random(7).randbytes(32))  # member 0
        with Store(home.store_file):
            pass
        node = NodeProcess(home.path, extra_args=["--api-rate", "1000000"])
        node.start(timeout=600)
        try:
            assert node.api_url is not None
            token = token_file(home).read_text(encoding="ascii").strip()
            _measure(Client(node.api_url, token), home, total)
        finally:
            node.stop()


def _measure(client: Client, home: Home, total: int) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(home.store_file), str(total), str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "start"
    start = time.perf_counter()
    busy: dict[str, list[float]] = {path: [] for path in ENDPOINTS}
    stored: tuple[int, float, str] | None = None
    caught_up = None
    deadline = time.monotonic() + MAX_WAIT
    while caught_up is None and time.monotonic() < deadline:
        if stored is None and writer.poll() is not None:
            count, took, last = json.loads(writer.stdout.readline())
            stored = (count, took, last)
        for path in ENDPOINTS:
            took, body = client.call("GET", path)
            busy[path].append(took)
            if stored is not None and path.startswith("/log") and isinstance(body, dict):
                items = body.get("items") or [{}]
                if items[0].get("id") == stored[2]:
                    caught_up = time.perf_counter() - start
    if stored is None:
        writer.kill()
        print(f"  the ingest did not end within {MAX_WAIT:g} s")
        return
    count, store_took, _ = stored
    report("ingest into the store while serving", count / store_took, "entries/s")
    if caught_up is None:
        print(f"  the views did not catch up within {MAX_WAIT:g} s")
        return
    report("ingest into the daemon's views", count / caught_up, "entries/s", note="store to views")
    base = percentiles(busy["/openapi.json"])[0]
    for path in ENDPOINTS:
        idle = [client.call("GET", path)[0] for _ in range(IDLE_REQUESTS)]
        idle_p50, idle_p95 = percentiles(idle)
        p50, p95 = percentiles(busy[path])
        worst = max(busy[path]) * 1000
        note = (
            f"p95 {p95:.1f} ms, max {worst:.0f} ms; "
            f"idle p50 {idle_p50:.2f} ms, p95 {idle_p95:.2f} ms"
        )
        report(f"during ingest: GET {path} p50", p50, "ms", base, note)
