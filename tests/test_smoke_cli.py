"""End-to-end smoke test of the feed commands in temporary homes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner


def test_init_whoami_verify(tmp_path: Path, cli: CliRunner) -> None:
    home = tmp_path / "alice"
    assert cli(home, "init").code == 0
    who = cli(home, "whoami", "--json")
    assert who.code == 0
    data = json.loads(who.out)
    assert data["id"].startswith("12D3KooW")
    assert data["home"] == str(home)
    check = cli(home, "verify")
    assert check.code == 0, check.err
    assert check.out.startswith("ok: 0 entries")


def test_errors_are_one_line(tmp_path: Path, cli: CliRunner) -> None:
    result = cli(tmp_path / "nobody", "log")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith("error: no Samoorg identity")
