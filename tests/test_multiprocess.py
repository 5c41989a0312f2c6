"""Three ``samoorg node run`` processes, actions through the CLI, identical view digests.

Everything runs on 127.0.0.1, mDNS is off (other test runs on this machine
must not join), and every wait is bounded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samoorg.node.processes import NodeProcess, run_cli, start_mesh, stop_all
from tests.process_fixtures import assert_clean_log, wait_converged

pytestmark = [pytest.mark.slow, pytest.mark.network]


def test_three_daemons_converge_on_cli_actions(tmp_path: Path) -> None:
    homes = [tmp_path / name for name in ("ana", "ben", "cy")]
    for home in homes:
        run_cli(home, "init")
    nodes = start_mesh(homes)
    ana = nodes[0]
    try:
        # Ana invites Ben; the code carries Ana's daemon addresses.
        made = json.loads(
            run_cli(
                homes[0], "invite", "create", "--amount", "100", "--currency", "EUR", "--json"
            ).stdout
        )
        accepted = json.loads(run_cli(homes[1], "invite", "accept", made["code"], "--json").stdout)
        assert accepted["addrs"] == ana.addrs
        # Ben invites Cy; Cy accepts.
        made = json.loads(
            run_cli(
                homes[1], "invite", "create", "--amount", "50", "--currency", "EUR", "--json"
            ).stdout
        )
        run_cli(homes[2], "invite", "accept", made["code"])
        run_cli(
            homes[2],
            "request",
            "create",
            "--amount",
            "300",
            "--currency",
            "EUR",
            "--reason",
            "roof repair",
        )
        ben_id = run_cli(homes[1], "whoami").stdout.strip()
        run_cli(homes[0], "pledge", "intend", "20", "EUR", "--to", ben_id)
        # Six entries written through the CLI, and the inviters' daemons confirm
        # both acceptances (trust.confirm, for friend-of-a-friend scope).
        digests = wait_converged(homes, 60, expected_entries=8)
        assert set(digests) >= {"trust", "pledges"}
        # Ben's trust list, seen from Cy's node, holds all three.
        listed = json.loads(run_cli(homes[2], "trust", "list", "--json").stdout)["items"]
        assert len(listed) == 3, listed

        # A write while the daemons run reaches the others live.
        ana_id = run_cli(homes[0], "whoami").stdout.strip()
        run_cli(homes[1], "pledge", "intend", "5", "EUR", "--to", ana_id)
        wait_converged(homes, 30, expected_entries=9)
        peers = json.loads(run_cli(homes[0], "peers", "--json").stdout)
        assert {p["id"] for p in peers if p["connected"]} == {
            run_cli(h, "whoami").stdout.strip() for h in homes[1:]
        }
    finally:
        codes = stop_all(nodes)
    for node, code in zip(nodes, codes, strict=True):
        assert_clean_log(node, code)


def test_second_daemon_in_one_home_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "solo"
    run_cli(home, "init")
    with NodeProcess(home) as node:
        again = run_cli(
            home,
            "node",
            "run",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--no-mdns",
            check=False,
            timeout=60,
        )
        assert again.returncode == 1
        assert again.stderr.startswith("error: a daemon is already running")
        assert again.stderr.count("\n") == 1
        status = json.loads(run_cli(home, "status", "--json").stdout)
        assert status["daemon"]["pid"] == node.pid
        assert status["daemon"]["addrs"] == node.addrs
    status = json.loads(run_cli(home, "status", "--json").stdout)
    assert status["daemon"] is None


def test_sigint_also_stops_cleanly(tmp_path: Path) -> None:
    import signal

    home = tmp_path / "solo"
    run_cli(home, "init")
    node = NodeProcess(home)
    node.start()
    assert node.stop(sig=signal.SIGINT) == 0
    log = node.log_path.read_text(encoding="utf-8")
    assert "SIGINT received" in log
    assert "Traceback" not in log
