"""The identity key file: permissions, passphrase sealing, clear errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from samoorg.node.errors import KeyFileError
from samoorg.node.keystore import (
    PASSPHRASE_ENV,
    create_key_file,
    load_signer,
    read_public_key,
)
from samoorg.protocol.ids import peer_id


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
        ({"public_key": "11" * 32}, "does not match"),
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
