"""The identity key file: permissions, passphrase sealing, clear errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.node.ed25519_public import public_key_of_seed
from samoorg.node.errors import KeyFileError
from samoorg.node.keystore import (
    MAX_KEY_FILE,
    PASSPHRASE_ENV,
    create_key_file,
    load_signer,
    read_public_key,
)
from samoorg.node.processes import cli_command
from samoorg.protocol.crypto import Signer
from samoorg.protocol.ids import peer_id
from tests.conftest import CliRunner


@pytest.fixture(autouse=True)
def _no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


def test_created_0600_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "home" / "identity.key"
    signer = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_signer(path).seed == signer.seed
    assert read_public_key(path) == signer.public_key
    data = json.loads(path.read_text())
    assert data["peer_id"] == peer_id(signer.public_key)
    assert data["protection"] == "none"


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    create_key_file(path)
    with pytest.raises(KeyFileError, match="already exists"):
        create_key_file(path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_too_open_key_file_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "identity.key"
    create_key_file(path)
    path.chmod(mode)
    for read in (load_signer, read_public_key):
        with pytest.raises(KeyFileError) as caught:
            read(path)  # type: ignore[operator]
        message = str(caught.value)
        assert f"{mode:04o}" in message
        assert f"chmod 600 '{path}'" in message
    path.chmod(0o600)
    load_signer(path)


def test_passphrase_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "identity.key"
    signer = create_key_file(path, passphrase="correct horse")
    data = json.loads(path.read_text())
    assert data["protection"] == "argon2id-secretbox"
    assert "seed" not in data
    assert signer.seed.hex() not in path.read_text()
    # The public key needs no passphrase.
    assert read_public_key(path) == signer.public_key
    assert load_signer(path, lambda: "correct horse").seed == signer.seed
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_signer(path, lambda: "wrong")
    with pytest.raises(KeyFileError, match=PASSPHRASE_ENV):
        load_signer(path)  # no terminal prompt and no variable
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert load_signer(path, lambda: pytest.fail("must not prompt")).seed == signer.seed
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_signer(path)


def _rewrite(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"format": "other/1"}, "expected format"),
        ({"seed": "zz"}, "'seed' is missing or malformed"),
        ({"seed": "00" * 31}, "'seed' is missing or malformed"),
        ({"protection": "rot13"}, "unknown protection"),
        ({"public_key": "11" * 32}, "was altered: expected peer_id"),
        ({"peer_id": peer_id(b"\x11" * 32)}, "was altered: expected peer_id"),
    ],
)
def test_damaged_key_files(tmp_path: Path, changes: dict[str, object], words: str) -> None:
    path = tmp_path / "identity.key"
    create_key_file(path)
    _rewrite(path, **changes)
    with pytest.raises(KeyFileError, match=words):
        load_signer(path)


def test_hostile_kdf_limits_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    create_key_file(path, passphrase="pw")
    _rewrite(path, memlimit=1 << 40)
    with pytest.raises(KeyFileError, match="out of range"):
        load_signer(path, lambda: "pw")


def test_missing_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="samoorg init"):
        load_signer(tmp_path / "none.key")
    path = tmp_path / "identity.key"
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not a Samoorg key file"):
        load_signer(path)


def _impostor(path: Path) -> str:
    """Give the key file someone else's public key and peer id (consistent with each other)."""
    other = Signer(b"\x07" * 32).public_key
    _rewrite(path, public_key=other.hex(), peer_id=peer_id(other))
    return peer_id(other)


def test_a_public_key_that_is_not_the_seeds_is_refused(tmp_path: Path, cli: CliRunner) -> None:
    home = tmp_path / "home"
    assert cli(home, "init").code == 0
    impostor = _impostor(home / "identity.key")
    for command in (("whoami",), ("status",), ("trust", "list"), ("idea", "post", "hi")):
        result = cli(home, *command)
        assert result.code == 1, command
        assert impostor not in result.out, command
        (line,) = result.err.splitlines()
        assert line.endswith(
            "was altered: its public_key is not the one of its seed; restore the file from a backup"
        ), command
    # What the store holds can still be read and exported, to recover.
    assert cli(home, "log").code == 0
    assert cli(home, "export", str(tmp_path / "saved.bundle")).code == 0


def test_a_sealed_key_is_checked_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    create_key_file(path, passphrase="pw")
    _impostor(path)
    with pytest.raises(KeyFileError, match="its public_key is not the one of its seed"):
        load_signer(path, lambda: "pw")


def test_a_fifo_behind_the_key_file_is_refused_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    (home / "identity.key").symlink_to(fifo)
    # A bound, not a timing assertion: before the fix this read blocked for ever.
    done = subprocess.run(
        cli_command(home, "whoami"), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: key file {home / 'identity.key'} is a FIFO, not a regular file: "
        "replace it with the file itself"
    ]


def test_a_directory_or_a_huge_file_is_not_a_key(tmp_path: Path) -> None:
    folder = tmp_path / "folder.key"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="is a directory, not a regular file"):
        read_public_key(folder)
    huge = tmp_path / "huge.key"
    huge.write_bytes(b" " * (MAX_KEY_FILE + 1))
    huge.chmod(0o600)
    with pytest.raises(KeyFileError, match=f"expected at most {MAX_KEY_FILE} bytes"):
        read_public_key(huge)


@given(st.binary(min_size=32, max_size=32))
def test_the_pure_public_key_is_libsodiums(seed: bytes) -> None:
    assert public_key_of_seed(seed) == Signer(seed).public_key
