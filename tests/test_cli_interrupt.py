"""Ctrl-C (SIGINT) during `import` and `sync`: a clean stop, a summary line, exit 130.

Real child processes: the test waits until the child has stored its first
batch, then sends SIGINT. Everything stored before the signal stays, the
store verifies, and running the command again finishes the job.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from samoorg.node.home import Home
from samoorg.node.keystore import load_signer
from samoorg.node.processes import NodeProcess, cli_command, run_cli
from samoorg.node.store import Store
from samoorg.protocol.bundle import Record, RecordType, encode_bundle
from tests.feed_fixtures import make_feed, signer

ENTRIES = 12_000


def _stored(home: Path) -> int:
    path = home / "store.sqlite"
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        (count,) = db.execute("SELECT count(*) FROM entries").fetchone()
    except sqlite3.OperationalError:  # the schema is not written yet
        return 0
    finally:
        db.close()
    return int(count)


def _interrupt_once_stored(home: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``command``; SIGINT it once ``home`` holds an entry; return what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMOORG_")}
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        for _ in range(3000):  # at most about 150 s
            if _stored(home) > 0 or child.poll() is not None:
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return subprocess.CompletedProcess(command, child.returncode, out, err)


@pytest.mark.slow
def test_ctrl_c_during_import_says_how_far_it_got(tmp_path: Path) -> None:
    bundle = tmp_path / "big.bundle"
    feed = make_feed(signer("big"), ENTRIES)
    bundle.write_bytes(encode_bundle(Record(RecordType.ENTRY, e.raw) for e in feed))
    bob = tmp_path / "bob"
    run_cli(bob, "init")
    result = _interrupt_once_stored(bob, cli_command(bob, "import", str(bundle)))
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    match = re.search(rf"interrupted after (\d+) of {ENTRIES} records of the bundle", result.stderr)
    assert match is not None, result.stderr
    assert result.stderr.count("\n") == 1
    stored = _stored(bob)
    assert 0 < stored < ENTRIES
    assert result.stdout.startswith(f"imported {stored} new entries")
    assert run_cli(bob, "verify").stdout.startswith(f"ok: {stored} entries")
    again = run_cli(bob, "import", str(bundle))
    assert again.stdout.startswith(f"imported {ENTRIES - stored} new entries, {stored} already had")


@pytest.mark.slow
@pytest.mark.network
def test_ctrl_c_during_sync_stops_cleanly(tmp_path: Path) -> None:
    alice = tmp_path / "alice"
    run_cli(alice, "init")
    me = load_signer(Home(alice).key_file)
    with Store(Home(alice).store_file) as store:
        store.ingest([entry.raw for entry in make_feed(me, ENTRIES)])
    bob = tmp_path / "bob"
    run_cli(bob, "init")
    with NodeProcess(alice) as node:
        result = _interrupt_once_stored(bob, cli_command(bob, "sync", node.addrs[0]))
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert "ExceptionGroup" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    match = re.fullmatch(
        r"interrupted: received (\d+), sent 0, rejected 0; what was received is stored", lines[0]
    )
    assert match is not None, lines
    stored = _stored(bob)
    assert 0 < stored < ENTRIES
    assert int(match.group(1)) == stored
    assert run_cli(bob, "verify").stdout.startswith(f"ok: {stored} entries")
