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

The daemon's start is two figures: to *serving* (its API answers ``GET
/status``; local commands use it from then on; domains load when first
asked for) and to *ready* (the store's consistency checked, peers served):
the first start decodes every row, a second one (beside the first) only
those stored since the first one's clean check.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.api_bench import _rss_mb, _store
from bench.baseline import report
from samoorg.crdt.kinds.trust import TrustState
from samoorg.node.api.token import token_file
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
    ("invite", "list"),
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


def _daemon_start(home: Path) -> tuple[float, float, float, float, float]:
    """``(seconds from spawn to serving, to ready, CPU seconds by then, RSS in MB when
    serving, when ready)`` of ``samoorg node run``.

    *Serving*: the API answers ``GET /status`` (local commands use the daemon
    from then on). *Ready*: the store was found consistent and the node syncs
    with peers (``ready`` printed).
    """
    node = NodeProcess(home)
    serving: list[tuple[float, float]] = []
    start = time.perf_counter()
    watcher = threading.Thread(target=_watch_serving, args=(Home(home), start, serving))
    watcher.start()
    node.start(timeout=1800)
    took = time.perf_counter() - start
    watcher.join()
    assert node.pid is not None
    rss = _rss_mb(node.pid)
    fields = Path(f"/proc/{node.pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    node.stop(timeout=1800)
    (served, served_rss), *_ = serving or [(took, rss)]
    return served, took, cpu, served_rss, rss


def _watch_serving(home: Home, start: float, found: list[tuple[float, float]]) -> None:
    """Append ``(seconds since start, daemon RSS)`` once the API answers (bounded wait)."""
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            state = json.loads(home.daemon_state.read_text(encoding="utf-8"))
            url, pid = state["api"]["url"], state["pid"]
            token = token_file(home).read_text(encoding="ascii").strip()
            parts = urlsplit(url)
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
            headers = {"Authorization": f"Bearer {token}"}
            connection.request("GET", "/api/v1/status", headers=headers)
            if connection.getresponse().status == 200:
                found.append((time.perf_counter() - start, _rss_mb(pid)))
                return
        except (OSError, ValueError, KeyError, TypeError, http.client.HTTPException):
            continue


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
        # The first ledger nets every debt and saves the netting in the checkpoint;
        # the last command is a ledger again, that reads it.
        for number, command in enumerate((*COMMANDS, ("ledger", "--mine"))):
            warm, cpu, warm_rss = _run(home.path, *command)
            note = f"{warm_rss:.0f} MB, {warm / whoami:.1f}x whoami, CPU {cpu:.2f} s, goal <= 2 s"
            how = "fresh checkpoint" if number < len(COMMANDS) else "again (its netting saved)"
            report(f"{' '.join(command)}: {how}", warm, "s", None, note)

        serving, ready, cpu, serving_rss, ready_rss = _daemon_start(home.path)
        note = f"{serving_rss:.0f} MB RSS, goal <= 5 s, 600 MB"
        report("daemon start to serving (API answers): checkpoint", serving, "s", None, note)
        note = f"{ready_rss:.0f} MB RSS, CPU {cpu:.1f} s (every row checked for peers)"
        report("daemon start to ready: checkpoint, first start", ready, "s", None, note)
        first_ready = ready
        # The next start checks the file's structure and only the rows stored since.
        serving, ready, cpu, serving_rss, ready_rss = _daemon_start(home.path)
        note = f"serving {serving:.2f} s, {ready_rss:.0f} MB RSS, CPU {cpu:.1f} s"
        report("daemon start to ready: checkpoint, started before", ready, "s", first_ready, note)
        if total <= 200_000:  # a rebuild at 1M takes minutes: see the rebuild above
            path.unlink()
            serving, ready, cpu, _, ready_rss = _daemon_start(home.path)
            note = f"ready {ready:.1f} s, {ready_rss:.0f} MB RSS, CPU {cpu:.1f} s"
            report("daemon start to serving: no checkpoint", serving, "s", None, note)
