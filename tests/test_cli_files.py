"""Bundles from any readable stream, and file errors a user can act on."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.cli_fixtures import run_child
from tests.conftest import CliRunner
from tests.feed_fixtures import append_entries


@pytest.fixture
def bundle(tmp_path: Path, cli: CliRunner) -> Path:
    """A bundle of 4 entries exported by Alice."""
    alice = tmp_path / "alice"
    assert cli(alice, "init").code == 0
    append_entries(alice, 4)
    path = tmp_path / "alice.bundle"
    assert cli(alice, "export", str(path)).code == 0
    return path


@pytest.fixture
def bob(tmp_path: Path, cli: CliRunner) -> Path:
    home = tmp_path / "bob"
    assert cli(home, "init").code == 0
    return home


def test_import_from_a_pipe_given_as_a_path(bundle: Path, bob: Path) -> None:
    # What `samoorg import <(cat alice.bundle)` gets: a /dev/fd path to a pipe.
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(bundle.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        result = run_child(bob, "import", f"/dev/fd/{read_end}", pass_fds=(read_end,), text=True)
    finally:
        os.close(read_end)
        writer.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported 4 new entries")


def test_import_from_dev_stdin_on_a_pipe(bundle: Path, bob: Path) -> None:
    data = bundle.read_bytes()
    result = run_child(bob, "import", "/dev/stdin", input=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"imported 4 new entries")
    truncated = run_child(bob, "import", "/dev/stdin", input=data[:-5])
    assert truncated.returncode == 1
    assert b"truncated" in truncated.stderr


@pytest.mark.parametrize("content", [b"", b"hello", b"NOT-A-BUNDLE/1\n" + b"\0" * 40])
def test_a_file_that_is_no_bundle_says_so(
    cli: CliRunner, bob: Path, tmp_path: Path, content: bytes
) -> None:
    other = tmp_path / "notes.txt"
    other.write_bytes(content)
    result = cli(bob, "import", str(other))
    assert result.code == 1
    assert result.err.startswith("error: expected a samoorg bundle file (one written by")
    assert "magic" not in result.err


def test_file_errors_name_the_users_path(cli: CliRunner, bob: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    cases = [
        (("export", str(folder)), f"'{folder}' is a directory: give the path of the bundle file"),
        (
            ("export", str(tmp_path / "missing" / "x.bundle")),
            f"the folder '{tmp_path / 'missing'}' does not exist",
        ),
        (("import", str(folder)), f"'{folder}' is a directory: give the path of a file"),
        (("import", str(tmp_path / "nothing.bundle")), "does not exist"),
    ]
    for args, message in cases:
        result = cli(bob, *args)
        assert result.code == 1, args
        assert message in result.err, result.err
        assert ".partial" not in result.err
        assert "Errno" not in result.err
        assert result.err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bob", "folder"]


def test_init_on_a_file(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    result = cli(target, "init")
    assert result.code == 1
    assert result.err.startswith(f"error: '{target}' is a file: give --home a directory")
    assert "File exists" not in result.err
    assert target.read_text() == "mine\n"
