"""``samoorg backup`` and ``samoorg restore`` of a community store, beside plain copies.

The store of ``bench/api_bench.py`` (the generated community, size
``SAMOORG_BENCH_BACKUP_N``, default 100,000 entries; cached under the system
temp dir) is put in a fresh home. Measured in-process (``node/backup.py``):
writing the backup (``VACUUM INTO`` snapshots, hashing, one file) and reading
it (every part hashed), each beside a plain ``shutil.copyfile`` of the store
file in the same run; a whole restore (copy, ``quick_check``, every signature
and link verified, the device's head), as entries per second beside the raw
single-core verify rate of the same run (the signatures dominate).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.api_bench import _store
from bench.baseline import report, verify_rate
from samoorg.node.backup import read_backup, restore, write_backup
from samoorg.node.home import Home
from samoorg.node.keystore import create_key_file
from samoorg.node.store import Store


def _timed(work: object) -> float:
    assert callable(work)
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run() -> None:
    """Print the figures."""
    total = int(os.environ.get("SAMOORG_BENCH_BACKUP_N", "100000"))
    source, _ = _store(total)
    with tempfile.TemporaryDirectory(prefix="samoorg-bench-backup-") as tmp:
        root = Path(tmp)
        home = Home(root / "home")
        home.path.mkdir()
        shutil.copyfile(source, home.store_file)
        key = create_key_file(home.key_file).public_key
        with Store(home.store_file) as store:
            entries = store.stats().entries
        size = home.store_file.stat().st_size / 2**20
        copy = _timed(lambda: shutil.copyfile(home.store_file, root / "copy.sqlite"))
        report(f"baseline: copy the store file ({size:.0f} MB)", size / copy, "MB/s")
        target = root / "home.backup"
        wrote = _timed(
            lambda: write_backup(
                home, target, identity=key, device=key, force=False, created="bench"
            )
        )
        report("samoorg backup (VACUUM INTO, hash, write)", size / wrote, "MB/s", size / copy)
        found: list[object] = []
        read = _timed(lambda: found.append(read_backup(target)))
        report("read and check a backup (hash every part)", size / read, "MB/s", size / copy)
        backup = read_backup(target)
        restored = _timed(lambda: restore(backup, Home(root / "restored"), None))
        report(
            f"samoorg restore ({entries:,} entries, all verified)",
            entries / restored,
            "entries/s",
            verify_rate(),
        )
