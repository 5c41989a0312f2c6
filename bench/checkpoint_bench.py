"""Offline commands and daemon start with a views checkpoint, beside a full rebuild.

The community of ``bench/community_bench.py`` (size: ``SAMOORG_BENCH_CHECKPOINT_N``,
default 100,000; ``1000000`` for the issue's 1M figures) is ingested once into
a store cached under the system temp dir (``bench/api_bench.py``'s), copied
into a fresh home whose identity is the community's first member. Each
command runs as a whole process (``samoorg --home H trust pool`` ...), so the
figures include start-up, loading and output; peak RSS is the child's
``ru_maxrss``. Baselines of the same run: the same command without a
checkpoint (which then rebuilds every view from the store, and saves a
checkpoint for next time), and ``samoorg whoami`` (no store access).

The checkpoint has one section per domain, loaded when first asked for, so
``trust pool`` reads the trust section only; the in-process figures show the
load of one section beside the load of all of them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api_bench import _store
from bench.baseline import report
from samoorg.crdt.kinds.trust import TrustState
from samoorg.node.checkpoint import checkpoint_path, open_views, save_checkpoint
from samoorg.node.home import Home
from samoorg.node.keystore import create_key_file
from samoorg.node.processes import NodeProcess, cli_command
from samoorg.node.store import Store

REBUILT: tuple[tuple[str, ...], ...] = (("trust", "pool"),)
"""Commands also run without a checkpoint (a rebuild: minutes at 1M entries)."""
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("trust", "pool"),
    ("trust", "list"),
    ("idea", "list"),
    ("utility",),
    ("log",),
    ("ledger", "--mine"),
    ("pledge", "list"),
)


_RUNNER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
error = child.stderr.read().decode()
_, status, usage = os.wait4(child.pid, 0)
took = time.perf_counter() - start
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps([os.waitstatus_to_exitcode(status), took, cpu, usage.ru_maxrss / 1024, error]))
"""


def _run(home: Path, *args: str) -> tuple[float, float, float]:
    """``(wall seconds, CPU seconds, peak RSS in MB)`` of one whole CLI process.

    CPU time is printed too: on a machine shared with other work, wall time
    mostly measures the wait for a core.

    Started by a small runner process: a child's ``ru_maxrss`` starts at its
    parent's size when forked, and this benchmark's own process is large.
    """
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, *cli_command(home, *args)],
        capture_output=True,
        text=True,
        check=True,
    )
    code, took, cpu, rss, error = json.loads(result.stdout)
    assert code == 0, f"samoorg {' '.join(args)} failed: {error}"
    return took, cpu, rss


def _daemon_start(home: Path) -> tuple[float, float, float]:
    """``(seconds from spawn to ready, CPU seconds by then, RSS in MB when ready)`` of
    ``samoorg node run``."""
    node = NodeProcess(home)
    start = time.perf_counter()
    node.start(timeout=1800)
    took = time.perf_counter() - start
    status = Path(f"/proc/{node.pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    fields = Path(f"/proc/{node.pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    node.stop(timeout=1800)
    return took, cpu, rss / 1024


def run() -> None:
    """Print command times with a checkpoint beside a rebuild, and the daemon's start."""
    total = int(os.environ.get("SAMOORG_BENCH_CHECKPOINT_N", "100000"))
    cached, _ = _store(total)
    with tempfile.TemporaryDirectory(prefix="samoorg-cp-bench-") as base:
        home = Home(Path(base) / "home")
        home.path.mkdir()
        create_key_file(home.key_file, seed=random.Random(7).randbytes(32))  # member 0
        shutil.copyfile(cached, home.store_file)
        with Store(home.store_file) as store:
            path = checkpoint_path(store)
            start = time.perf_counter()
            live = open_views(store)
            live.views.invalid()
            rebuilt = time.perf_counter() - start
            report("in-process: rebuild every view", rebuilt, "s", None, f"{total:,} entries")
            start = time.perf_counter()
            save_checkpoint(live)
            saved = time.perf_counter() - start
            size = path.stat().st_size / 1e6
            report("in-process: save the checkpoint", saved, "s", rebuilt, f"{size:.0f} MB")
            del live
            start = time.perf_counter()
            open_views(store).views.domain(TrustState).invalid()
            report("in-process: load the trust section", time.perf_counter() - start, "s", rebuilt)
            start = time.perf_counter()
            open_views(store).views.invalid()
            report("in-process: load every section", time.perf_counter() - start, "s", rebuilt)

        whoami, whoami_cpu, _ = _run(home.path, "whoami")
        report("whoami (no store access)", whoami, "s", None, f"CPU {whoami_cpu:.2f} s")
        for command in REBUILT:
            saved_checkpoint = path.read_bytes()
            path.unlink()
            cold, cpu, cold_rss = _run(home.path, *command)
            note = f"{cold_rss:.0f} MB, {cold / whoami:.1f}x whoami, CPU {cpu:.2f} s"
            report(f"{' '.join(command)}: no checkpoint (rebuild + save)", cold, "s", None, note)
            path.write_bytes(saved_checkpoint)  # the same checkpoint for every command below
            path.chmod(0o600)
        for command in COMMANDS:
            warm, cpu, warm_rss = _run(home.path, *command)
            note = f"{warm_rss:.0f} MB, {warm / whoami:.1f}x whoami, CPU {cpu:.2f} s, goal <= 2 s"
            report(f"{' '.join(command)}: fresh checkpoint", warm, "s", None, note)

        fresh, cpu, fresh_rss = _daemon_start(home.path)
        note = f"{fresh_rss:.0f} MB RSS, CPU {cpu:.1f} s, goal <= 5 s, 600 MB"
        report("daemon start to ready: checkpoint", fresh, "s", None, note)
        if total <= 200_000:  # a rebuild at 1M takes minutes: see the rebuild above
            path.unlink()
            cold, cpu, cold_rss = _daemon_start(home.path)
            note = f"{cold_rss:.0f} MB RSS, CPU {cpu:.1f} s"
            report("daemon start to ready: no checkpoint", cold, "s", None, note)
