"""Helpers for tests that run ``samoorg node run`` as child processes (``samoorg.node.processes``).

Every wait is bounded: :func:`wait_converged` polls the homes' ``status`` and
view digests until they agree or its timeout passes. :func:`assert_clean_stop`
stops a daemon and checks that it exited 0 on SIGTERM with a clean log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from samoorg.node.processes import NodeProcess, run_cli, view_digests


def entry_count(home: Path) -> int:
    """Entries in a home's store, as ``samoorg status --json`` reports them."""
    return int(json.loads(run_cli(home, "status", "--json").stdout)["store"]["entries"])


def wait_converged(homes: list[Path], timeout: float, expected_entries: int) -> dict[str, str]:
    """Poll until every home holds ``expected_entries`` and the same digests (bounded)."""
    deadline = time.monotonic() + timeout
    last: object = []
    while time.monotonic() < deadline:
        counts = [entry_count(h) for h in homes]
        if all(c == expected_entries for c in counts):
            digests = [view_digests(h) for h in homes]
            if all(d == digests[0] for d in digests):
                return digests[0]
            last = digests
        else:
            last = counts
        time.sleep(0.3)
    raise AssertionError(f"no convergence within {timeout:g} s: {last}")


def assert_clean_log(node: NodeProcess, code: int) -> None:
    """The daemon exited ``code`` 0 after SIGTERM, with no traceback or resource warning."""
    log = node.log_path.read_text(encoding="utf-8")
    assert code == 0, log
    assert "Traceback" not in log
    assert "ResourceWarning" not in log
    assert "SIGTERM received" in log


def assert_clean_stop(node: NodeProcess) -> None:
    """Stop the daemon and check its exit with :func:`assert_clean_log`."""
    assert_clean_log(node, node.stop())
