"""The network commands: peer book and follows without a daemon; one-shot sync against one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from samoorg.node.processes import NodeProcess, run_cli
from samoorg.protocol.ids import peer_id
from tests.cli_fixtures import assert_commands_do_not_import
from tests.conftest import CliRunner
from tests.net_fixtures import make_home


def test_peer_book_and_follows(tmp_path: Path, cli: CliRunner) -> None:
    home = tmp_path / "ana"
    assert cli(home, "init").code == 0
    other = peer_id(os.urandom(32))
    added = cli(home, "peer", "add", f"/ip4/10.1.2.3/tcp/4001/p2p/{other}", "--json")
    assert added.code == 0, added.err
    assert json.loads(added.out) == {
        "id": other,
        "name": None,
        "addrs": ["/ip4/10.1.2.3/tcp/4001"],
        "source": "manual",
    }
    listed = json.loads(cli(home, "peers", "--json").out)
    assert [(p["id"], p["source"], p["addrs"]) for p in listed] == [
        (other, "manual", ["/ip4/10.1.2.3/tcp/4001"])
    ]
    assert cli(home, "follow", other).out == "following 1 feed (1 new)\n"
    assert json.loads(cli(home, "follow", "--json").out) == [other]
    assert json.loads(cli(home, "unfollow", other, "--json").out) == {"unfollowed": other}
    missing = cli(home, "unfollow", other)
    assert missing.code == 1
    assert missing.err == f"error: {other} is not followed\n"
    assert cli(home, "peer", "remove", other).code == 0
    assert "no known peers" in cli(home, "peers").out
    status = json.loads(cli(home, "status", "--json").out)
    assert status["daemon"] is None


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("/ip4/10.1.2.3/tcp/4001", "expected the address to end in /p2p/<peer id>"),
        ("10.1.2.3:4001", "expected a multiaddr"),
        ("/ip4/10.1.2.3/tcp/4001/p2p/QmBad", "bad peer id"),
    ],
)
def test_bad_addresses_are_one_line_errors(
    tmp_path: Path, cli: CliRunner, address: str, message: str
) -> None:
    home = tmp_path / "ana"
    cli(home, "init")
    for command in (["peer", "add", address], ["sync", address]):
        result = cli(home, *command)
        assert result.code == 2  # bad usage
        assert result.err.startswith("error: ")
        assert message in result.err
        assert result.err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.network
def test_one_shot_sync_reports_and_resumes(tmp_path: Path, cli: CliRunner) -> None:
    server, server_signer = make_home(tmp_path / "server")
    from samoorg.node.store import Store

    with Store(server.store_file) as store:
        for i in range(30):
            store.append(server_signer, "test.note", {"i": i})
    client = tmp_path / "client"
    cli(client, "init")
    cli(client, "follow", peer_id(server_signer.public_key))
    with NodeProcess(server.path) as node:
        first = cli(client, "sync", node.addrs[0])
        assert first.code == 0, first.err
        assert "received 30, sent 0, rejected 0" in first.out
        again = json.loads(cli(client, "sync", node.addrs[0], "--json").out)
        assert (again["received"], again["sent"], again["outcome"]) == (0, 0, "complete")
        refused = cli(client, "sync", node.addrs[0].replace(node.addrs[0].split("/")[4], "1"))
        assert refused.code == 1
        assert refused.err.startswith("error: cannot reach")
        # The daemon's home asks its daemon, which refuses to sync with itself; offline,
        # it refuses to start a second host with the daemon's identity.
        itself = run_cli(server.path, "sync", node.addrs[0], check=False)
        assert itself.returncode == 1
        assert itself.stderr == "error: that address is this node itself\n"
        busy = run_cli(server.path, "--offline", "sync", node.addrs[0], check=False)
        assert busy.returncode == 1
        assert "a daemon is running for this home" in busy.stderr
    peers = json.loads(cli(client, "peers", "--json").out)
    assert peers[0]["received"] == 30


def test_local_commands_do_not_import_libp2p(tmp_path: Path) -> None:
    home = tmp_path / "ana"
    run_cli(home, "init")
    commands = [["status"], ["peers"], ["follow"], ["invite", "list"]]
    assert_commands_do_not_import(home, commands, ("libp2p",))
