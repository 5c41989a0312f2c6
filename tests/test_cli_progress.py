"""Progress bars: on a terminal after a second of work, never on a pipe."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from samoorg.cli import progress
from samoorg.protocol.bundle import Record, RecordType, encode_bundle
from tests.cli_fixtures import child_env, run_child
from tests.conftest import CliRunner
from tests.feed_fixtures import append_entries, make_feed, signer


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "feed.bundle"
    feed = make_feed(signer("progress"), 3000)
    path.write_bytes(encode_bundle(Record(RecordType.ENTRY, e.raw) for e in feed))
    return path


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> FakeTerminal:
    """Every bar draws at once, on a fake terminal."""
    screen = FakeTerminal()
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "_terminal", lambda: screen)
    return screen


def test_import_and_export_show_a_bar_on_a_terminal(
    cli: CliRunner, tmp_path: Path, bundle: Path, terminal: FakeTerminal
) -> None:
    home = tmp_path / "bob"
    assert cli(home, "init").code == 0
    imported = cli(home, "import", str(bundle))
    assert imported.code == 0, imported.err
    assert imported.out.startswith("imported 3000 new entries")
    assert "importing" in terminal.getvalue()
    assert "3000/3000" in terminal.getvalue()
    exported = cli(home, "export", str(tmp_path / "copy.bundle"))
    assert exported.code == 0, exported.err
    assert "exporting" in terminal.getvalue()


def test_a_short_task_shows_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = FakeTerminal()
    monkeypatch.setattr(progress, "_terminal", lambda: screen)
    with progress.Progress("quick", 10) as bar:  # DELAY (1 s) is not over yet
        bar.update(10)
        assert not bar.shown
    assert screen.getvalue() == ""


def test_no_bar_on_a_pipe(tmp_path: Path, cli: CliRunner, bundle: Path) -> None:
    home = tmp_path / "bob"
    assert cli(home, "init").code == 0
    append_entries(home, 3)
    for args in (("import", str(bundle)), ("export", str(tmp_path / "out.bundle"))):
        result = run_child(home, *args, text=True)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout + result.stderr
        assert "importing" not in result.stderr
        assert "exporting" not in result.stderr


IMMEDIATE = """
import sys
from samoorg.cli import progress
progress.DELAY = 0.0
from samoorg.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_import_draws_on_a_real_terminal(tmp_path: Path, cli: CliRunner, bundle: Path) -> None:
    home = tmp_path / "bob"
    assert cli(home, "init").code == 0
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", IMMEDIATE, "--home", str(home), "import", str(bundle)],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=child_env(),
    )
    os.close(follower)  # the child holds its own copy
    screen = b""
    try:
        for _ in range(100_000):  # read the terminal until the child closes it
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: no writer left
                break
            if not chunk:
                break
            screen += chunk
        out, _ = child.communicate(timeout=120)
    finally:
        os.close(leader)
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0
    assert out.startswith(b"imported 3000 new entries")
    assert b"importing" in screen
    assert b"3000/3000" in screen


@pytest.mark.slow
@pytest.mark.network
def test_sync_shows_a_bar_on_a_terminal(
    cli: CliRunner, tmp_path: Path, terminal: FakeTerminal
) -> None:
    from samoorg.node.processes import NodeProcess

    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for home in (alice, bob):
        assert cli(home, "init").code == 0
    append_entries(alice, 50)
    with NodeProcess(alice) as node:
        result = cli(bob, "sync", node.addrs[0])
    assert result.code == 0, result.err
    assert "received 50, sent 0, rejected 0" in result.out
    assert "syncing" in terminal.getvalue()
