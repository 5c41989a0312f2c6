"""Backups and restores with real daemons (``node/backup.py``, ``node/actions/devices.py``).

A backup taken while the daemon writes is a consistent store; a restored home
whose daemon runs refuses writes through the API until it joins; the join
with the original's code goes through the restored home's daemon, and the two
daemons then replicate the pair of records so both list both devices.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from samoorg.node.processes import run_cli
from tests.api_fixtures import ApiNode, start_api_node, stop_api_node

pytestmark = [pytest.mark.slow, pytest.mark.network]


def _until(check: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Poll ``check`` (bounded) until it holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting until {what}")


def test_a_backup_taken_while_the_daemon_writes_is_consistent(tmp_path: Path) -> None:
    node = start_api_node(tmp_path / "ana")
    try:
        stop = threading.Event()
        statuses: list[int] = []

        def write() -> None:
            for n in range(300):
                if stop.is_set():
                    return
                statuses.append(node.api.post_json("/ideas", {"title": f"idea {n}"}).status)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            _until(lambda: len(statuses) >= 3, "the daemon wrote")
            made = [
                json.loads(
                    run_cli(node.home, "backup", str(tmp_path / f"{n}.backup"), "--json").stdout
                )
                for n in range(3)
            ]
        finally:
            stop.set()
            writer.join(timeout=60)
        # The writer hammers the API: some writes may be turned away by its rate limit.
        assert 201 in statuses
        assert set(statuses) <= {201, 429}
        assert [m["head"] for m in made] == sorted(m["head"] for m in made)
        for n, shown in enumerate(made):
            restored = tmp_path / f"restored-{n}"
            result = run_cli(
                tmp_path, "restore", str(tmp_path / f"{n}.backup"), "--home", str(restored)
            )
            assert result.returncode == 0, result.stderr
            log = json.loads(
                run_cli(restored, "log", "--author", shown["device"], "--all", "--json").stdout
            )
            assert len(log["items"]) == shown["head"]  # the store verified (restore checks it)
    finally:
        stop_api_node(node)


def test_a_restored_home_joins_through_the_daemons(tmp_path: Path) -> None:
    laptop = start_api_node(tmp_path / "laptop")
    nodes: list[ApiNode] = [laptop]
    try:
        assert laptop.api.post_json("/ideas", {"title": "before"}).status == 201
        file = tmp_path / "laptop.backup"
        run_cli(laptop.home, "backup", str(file))
        run_cli(tmp_path, "restore", str(file), "--home", str(tmp_path / "phone"))
        phone = start_api_node(tmp_path / "phone")
        nodes.append(phone)
        early = phone.api.post_json("/ideas", {"title": "too early"})
        assert (early.status, early.json()["error"]) == (409, "rule_violation")
        assert early.json()["message"].startswith("this home was restored from a backup")
        run_cli(tmp_path / "other", "init")
        foreign = json.loads(run_cli(tmp_path / "other", "device", "add", "--json").stdout)
        wrong = phone.api.post_json("/devices/accept", {"code": foreign["code"]})
        assert (wrong.status, wrong.json()["error"]) == (409, "rule_violation")
        assert "restored from a backup of identity" in wrong.json()["message"]
        code = laptop.cli_json("device", "add")["code"]  # through the laptop's daemon
        joined = run_cli(phone.home, "restore", str(file), "--join", code)  # through the phone's
        assert "joined identity" in joined.stdout
        ids = [laptop.cli_json("whoami")["device"], phone.cli_json("whoami")["device"]]
        run_cli(laptop.home, "follow", ids[1])
        for node in nodes:
            _until(
                lambda node=node: (
                    [d["id"] for d in node.api.get("/devices").json()["devices"]] == ids
                ),
                f"{node.home.name} lists both devices",
            )
        assert phone.api.post_json("/ideas", {"title": "from the phone"}).status == 201
        # device list reads the daemon's GET /devices: the same JSON as offline.
        for node in nodes:
            through = run_cli(node.home, "device", "list", "--json").stdout
            assert through == run_cli(node.home, "--offline", "device", "list", "--json").stdout
    finally:
        for node in nodes:
            stop_api_node(node)
