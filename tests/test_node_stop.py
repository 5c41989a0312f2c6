"""`samoorg node stop`: the running daemon of a home exits cleanly, and the command waits for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samoorg.node.processes import NodeProcess, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.network]


def test_node_stop_stops_the_daemon_and_waits(tmp_path: Path) -> None:
    home = tmp_path / "solo"
    run_cli(home, "init")
    node = NodeProcess(home)
    node.start()
    pid = node.pid
    try:
        stopped = run_cli(home, "node", "stop", check=False)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout == f"stopped the daemon (pid {pid}) of {home}\n"
        # The command returned only once the daemon had released its lock.
        assert json.loads(run_cli(home, "status", "--json").stdout)["daemon"] is None
    finally:
        code = node.stop()
    assert code == 0
    log = node.log_path.read_text(encoding="utf-8")
    assert "SIGTERM received" in log
    assert "Traceback" not in log


def test_node_stop_without_a_daemon_says_so(tmp_path: Path) -> None:
    home = tmp_path / "idle"
    run_cli(home, "init")
    result = run_cli(home, "node", "stop", check=False)
    assert result.returncode == 1
    assert result.stderr == f"error: no daemon is running for {home}\n"
