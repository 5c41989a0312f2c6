"""`node run --listen` on a port that is taken: one error line, non-zero exit, never `ready`.

Real processes on 127.0.0.1: a second daemon must not share the port of a
running one (the kernel would split connections between them), and a port
held by any other program must not leave a daemon that listens nowhere.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from samoorg.node.processes import NodeProcess, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.network]


def _run_on(home: Path, address: str) -> tuple[int, str, str]:
    result = run_cli(home, "node", "run", "--listen", address, "--no-mdns", check=False, timeout=60)
    return result.returncode, result.stdout, result.stderr


def test_a_port_held_by_another_daemon_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    run_cli(first, "init")
    run_cli(second, "init")
    with NodeProcess(first) as node:
        port = node.addrs[0].split("/")[4]
        address = f"/ip4/127.0.0.1/tcp/{port}"
        code, out, err = _run_on(second, address)
        assert code != 0
        assert "ready" not in out
        assert err == f"error: cannot listen on {address}: address in use\n"
        # The first daemon still serves alone.
        assert run_cli(second, "sync", node.addrs[0]).returncode == 0


def test_a_port_held_by_another_program_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "node"
    run_cli(home, "init")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"/ip4/127.0.0.1/tcp/{holder.getsockname()[1]}"
        code, out, err = _run_on(home, address)
    assert code != 0
    assert "ready" not in out
    assert err == f"error: cannot listen on {address}: address in use\n"
