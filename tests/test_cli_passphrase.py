"""SAMOORG_PASSPHRASE and the passphrase prompt: never a prompt nobody can answer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli_fixtures import run_child
from tests.conftest import CliRunner

PEER = "12D3KooWNyrGApAE74UNmhFMo7DfKiTSFLuyiUS9BWNXSggtmz95"
SIGN = ("pledge", "intend", "5", "EUR", "--to", PEER, "--force")
"""A command that signs, and so needs the secret key."""


def _sealed(cli: CliRunner, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "s3cret")
    assert cli(home, "init").code == 0
    assert json.loads((home / "identity.key").read_text())["protection"] == "argon2id-secretbox"


def test_an_empty_variable_means_no_passphrase_at_init(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "")
    home = tmp_path / "open"
    assert cli(home, "init").code == 0
    assert json.loads((home / "identity.key").read_text())["protection"] == "none"
    assert cli(home, *SIGN).code == 0
    refused = cli(tmp_path / "other", "init", "--passphrase")
    assert refused.code == 2
    assert refused.err.startswith(
        "error: --passphrase asks for a passphrase, but SAMOORG_PASSPHRASE is empty"
    )
    assert refused.err.count("\n") == 1


def test_an_empty_variable_does_not_prompt_for_a_sealed_key(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "sealed"
    _sealed(cli, home, monkeypatch)
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "")
    result = cli(home, *SIGN)
    assert result.code == 1
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "SAMOORG_PASSPHRASE is empty" in result.err
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "s3cret")
    assert cli(home, *SIGN).code == 0


def test_without_a_terminal_one_line_says_how_to_pass_it(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "sealed"
    _sealed(cli, home, monkeypatch)
    for args in (SIGN, ("init", "--passphrase")):
        target = home if args == SIGN else tmp_path / "new"
        result = run_child(target, *args, stdin=subprocess.DEVNULL, text=True)
        assert result.returncode in (1, 2), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert "GetPassWarning" not in result.stderr
        assert "set SAMOORG_PASSPHRASE" in result.stderr
        assert "Passphrase" not in result.stdout + result.stderr
