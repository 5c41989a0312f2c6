"""Closing one's own help request or initiative, ``request show``, and the commit prompt."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.community_homes import Homes, clock_fixture  # noqa: F401 (the clock fixture)
from tests.conftest import CliRunner

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _request(homes: Homes, name: str) -> str:
    made = homes.json(
        name, "request", "create", "--amount", "200", "--currency", "EUR", "--reason", "roof"
    )
    return str(made["id"])


def test_closing_a_request_releases_intentions_and_keeps_commitments(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = Homes(cli, tmp_path, "dave", "alice", "carol")
    request = _request(homes, "dave")
    homes.sync("dave", "alice", "carol")
    kept = homes.json("alice", "pledge", "intend", "120", "EUR", "--request", request[:10])
    homes.run("alice", "pledge", "commit", kept["id"][:10], "--due", "10d")
    loose = homes.json("carol", "pledge", "intend", "50", "EUR", "--request", request[:10])
    homes.sync("dave", "alice", "carol")
    shown = homes.json("dave", "request", "show", request[:10])
    assert (shown["status"], shown["pledged"], shown["reason"]) == (
        "collecting",
        {"EUR": "170.00"},
        "roof",
    )
    assert RFC3339.fullmatch(shown["created"])
    assert {b["id"]: b["state"] for b in shown["backers"]} == {
        kept["id"]: "committed",
        loose["id"]: "intention",
    }
    assert homes.refused("alice", "request", "close", request[:10]) == (
        "only the author of the help request can close it"
    )
    closed = homes.json("dave", "request", "close", request[:10], "--note", "insurance paid")
    assert closed["status"] == "closed"
    assert closed["released"] == [loose["id"]]
    assert (closed["pledged"], closed["committed"]) == ({"EUR": "120.00"}, {"EUR": "120.00"})
    assert RFC3339.fullmatch(closed["closed"])
    assert homes.refused("dave", "request", "close", request[:10]) == (
        "the help request is already closed"
    )
    homes.sync("dave", "alice", "carol")
    shown = homes.json("carol", "request", "show", request[:10])
    assert shown["close_note"] == "insurance paid"
    assert {b["id"]: b["state"] for b in shown["backers"]} == {
        kept["id"]: "committed",
        loose["id"]: "released",
    }
    assert homes.refused("carol", "pledge", "commit", loose["id"][:10]).endswith(
        "before this commitment"
    )
    assert homes.refused("carol", "pledge", "intend", "5", "EUR", "--request", request[:10])
    text = homes.run("carol", "request", "show", request[:10])
    assert "[closed]" in text
    assert "insurance paid" in text
    homes.run("dave", "pledge", "fulfilled", kept["id"][:10])  # the commitment stays
    homes.sync("dave", "alice", "carol")
    assert homes.items("alice", "log", "--invalid") == []
    digests = {name: homes.views(name).digests()["pledges"] for name in homes.ids}
    assert len(set(digests.values())) == 1


def test_an_initiative_can_be_cancelled(tmp_path: Path, cli: CliRunner, clock: list[int]) -> None:
    homes = Homes(cli, tmp_path, "bob", "carol")
    well = homes.json("bob", "initiative", "propose", "Well", "--goal", "100", "--currency", "EUR")[
        "id"
    ]
    homes.sync("bob", "carol")
    pledge = homes.json("carol", "pledge", "intend", "60", "EUR", "--initiative", well[:10])
    homes.sync("bob", "carol")
    homes.run("bob", "initiative", "close", well[:10])
    [listed] = homes.items("bob", "initiative", "list")
    assert (listed["status"], listed["pledged"], listed["backers"]) == (
        "closed",
        {"EUR": "0.00"},
        0,
    )
    homes.sync("bob", "carol")
    assert homes.items("carol", "pledge", "list", "--mine")[0]["state"] == "released"
    assert homes.items("carol", "pledge", "list", "--mine")[0]["id"] == pledge["id"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_commit_asks_on_a_terminal(
    tmp_path: Path, cli: CliRunner, clock: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob")
    pledge = homes.json(
        "alice", "pledge", "intend", "30", "EUR", "--to", homes.ids["bob"], "--force"
    )
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    declined = cli(tmp_path / "alice", "pledge", "commit", pledge["id"][:10], "--force")
    assert declined.code == 1
    assert "cannot be withdrawn" in declined.out
    assert declined.err == "error: not committed: nothing was recorded\n"
    assert homes.items("alice", "pledge", "list")[0]["state"] == "intention"
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert cli(tmp_path / "alice", "pledge", "commit", pledge["id"][:10], "--force").code == 0
    assert homes.items("alice", "pledge", "list")[0]["state"] == "committed"
    other = homes.json("alice", "pledge", "intend", "5", "EUR", "--to", homes.ids["bob"], "--force")
    monkeypatch.setattr("sys.stdin", _Terminal(""))  # --yes: no question is read
    assert (
        cli(tmp_path / "alice", "pledge", "commit", other["id"][:10], "--yes", "--force").code == 0
    )


def test_invite_revoke_prints_json(tmp_path: Path, cli: CliRunner) -> None:
    from samoorg.protocol.invite_code import parse_invite_code

    homes = Homes(cli, tmp_path, "alice")
    code = homes.run("alice", "invite", "create", "--amount", "100", "--currency", "EUR").strip()
    invite = parse_invite_code(code).invite.hex()
    revoked = homes.json("alice", "invite", "revoke", invite[:10])
    assert revoked["invite"] == invite
    assert revoked["state"] == "revoked"
    assert len(revoked["revocation"]) == 64
    [row] = homes.items("alice", "invite", "list")
    assert RFC3339.fullmatch(row["expires"])
