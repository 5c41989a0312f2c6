"""Crash safety: ``kill -9`` in the middle of a large ingest or of many appends.

Each iteration starts a real subprocess, waits until it has committed
something, kills it with SIGKILL after a random extra delay, and then checks
that ``samoorg verify`` passes and that every stored feed is a prefix of what
its author signed.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from samoorg.node.keystore import load_signer
from samoorg.node.own_head import OwnHeadRecord
from samoorg.node.processes import cli_command
from samoorg.node.store import Store
from samoorg.protocol.bundle import Record, RecordType, encode_bundle
from samoorg.protocol.entry import decode_entry
from tests.feed_fixtures import make_feed, signer

pytestmark = pytest.mark.slow

FEEDS = 8
PER_FEED = 2000
INGEST_KILLS = 4
APPEND_KILLS = 3
DEADLINE = 90.0

APPENDER = """
import sys
from pathlib import Path
from samoorg.node.keystore import load_signer
from samoorg.node.own_head import OwnHeadRecord
from samoorg.node.store import Store

home, log = Path(sys.argv[1]), open(sys.argv[2], "a")
me = load_signer(home / "identity.key")
own_head = OwnHeadRecord(home / "own-head.json", me.public_key)
with Store(home / "store.sqlite", own_head=own_head) as store:
    for n in range(1_000_000):
        entry = store.append(me, "note", {"n": n, "text": "crash test " * 4})
        log.write(entry.id.hex() + "\\n")
        log.flush()
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SAMOORG_")}


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(home, *args),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=DEADLINE,
        check=False,
    )


def _count(home: Path) -> int:
    path = home / "store.sqlite"
    if not path.exists():
        return 0
    db = sqlite3.connect(path, timeout=10)
    try:
        return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not created yet
        return 0
    finally:
        db.close()


def _kill_after_progress(process: subprocess.Popen[bytes], progressed: Callable[[], bool]) -> bool:
    """Wait until ``progressed()``, then SIGKILL after a random delay; True if it was killed."""
    deadline = time.monotonic() + DEADLINE
    while not progressed():
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    time.sleep(random.uniform(0.0, 0.4))
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=DEADLINE)
    return killed and process.returncode == -signal.SIGKILL


def _verify_passes(home: Path) -> None:
    result = _run(home, "verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def _stored_feeds(home: Path) -> dict[bytes, list[bytes]]:
    with Store(home / "store.sqlite") as store:
        return {h.author: store.feed_raw(h.author, 0, 10**6) for h in store.heads()}


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[bytes, list[bytes]]]:
    feeds = {}
    for number in range(FEEDS):
        feed = make_feed(signer(f"crash-{number}"), PER_FEED)
        feeds[feed[0].author] = [entry.raw for entry in feed]
    path = tmp_path_factory.mktemp("crash") / "big.bundle"
    records = [Record(RecordType.ENTRY, raw) for raws in feeds.values() for raw in raws]
    path.write_bytes(encode_bundle(records))
    return path, feeds


def _init(home: Path) -> None:
    done = _run(home, "init")
    assert done.returncode == 0, done.stderr


def test_kill_during_large_ingest(
    tmp_path: Path, big_bundle: tuple[Path, dict[bytes, list[bytes]]]
) -> None:
    bundle, originals = big_bundle
    total = FEEDS * PER_FEED
    mid_ingest = 0
    home = tmp_path
    for iteration in range(INGEST_KILLS):
        home = tmp_path / f"node-{iteration}"
        _init(home)
        process = subprocess.Popen(
            cli_command(home, "import", str(bundle)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )
        killed = _kill_after_progress(process, lambda home=home: _count(home) > 0)
        _verify_passes(home)
        stored = _stored_feeds(home)
        for author, raws in stored.items():
            assert raws == originals[author][: len(raws)]
        count = sum(map(len, stored.values()))
        if killed and 0 < count < total:
            mid_ingest += 1
    assert mid_ingest >= 1, "no kill landed in the middle of an ingest"
    # The last node resumes: importing again completes every feed.
    done = _run(home, "import", str(bundle))
    assert done.returncode == 0, done.stderr
    assert _stored_feeds(home) == originals
    _verify_passes(home)


def test_kill_during_many_appends(tmp_path: Path) -> None:
    home = tmp_path / "writer"
    _init(home)
    log = tmp_path / "committed.log"
    log.touch()
    killed_count = 0
    for _ in range(APPEND_KILLS):
        before = len(log.read_text().split())
        process = subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(home), str(log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )

        def grew(before: int = before) -> bool:
            return len(log.read_text().split()) > before + 10

        killed_count += _kill_after_progress(process, grew)
        _verify_passes(home)
        logged = [line for line in log.read_text().split() if len(line) == 64]
        (feed,) = _stored_feeds(home).values()
        stored = [hashlib.sha256(raw).hexdigest() for raw in feed]
        # Every logged append was committed before it was logged; at most one
        # more was committed when the kill came between commit and log.
        assert stored[: len(logged)] == logged
        assert len(logged) <= len(stored) <= len(logged) + 1
        if len(stored) > len(logged):
            with log.open("a") as handle:
                handle.write(stored[-1] + "\n")
        _check_own_head(home, stored, log)
    assert killed_count >= 1
    done = _run(home, "idea", "post", "after the kills")
    assert done.returncode == 0, done.stderr
    _verify_passes(home)
    (feed,) = _stored_feeds(home).values()
    assert [hashlib.sha256(raw).hexdigest() for raw in feed[:-1]] == log.read_text().split()


def _check_own_head(home: Path, stored: list[str], log: Path) -> None:
    """The own-head record is at the stored head, or ahead by the one append it holds."""
    key = load_signer(home / "identity.key").public_key
    record = OwnHeadRecord(home / "own-head.json", key).read()
    assert record is not None
    assert len(stored) <= record.seq <= len(stored) + 1
    if record.seq == len(stored):
        assert record.id.hex() == stored[-1]
        return
    # Killed between the record and the commit: the next append stores this
    # very entry first (same id, so no second history).
    (pending,) = record.entries
    assert decode_entry(pending).prev == bytes.fromhex(stored[-1])
    with log.open("a") as handle:
        handle.write(record.id.hex() + "\n")
