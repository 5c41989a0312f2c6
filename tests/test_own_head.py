"""Lost local state must not fork one's own feed (node/own_head.py).

Each test loses the store the way a user can (deleted, truncated to 0 bytes,
its ``-wal`` file gone, killed between the record and the commit) and runs the
real CLI against the home.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from samoorg.node.home import Home
from samoorg.node.own_head import OwnHeadRecord
from samoorg.node.store import Store
from tests.conftest import CliRunner

MISSING = "is missing from store"


def _post(cli: CliRunner, home: Path, text: str) -> str:
    done = cli(home, "idea", "post", text)
    assert done.code == 0, done.err
    return done.out.split()[1]


def _log(cli: CliRunner, home: Path) -> list[dict[str, object]]:
    """Every stored entry, oldest first (``log`` lists newest first)."""
    done = cli(home, "log", "--json", "--all")
    assert done.code == 0, done.err
    return list(reversed(json.loads(done.out)["items"]))


def _refused(cli: CliRunner, home: Path, entries: int, held: int) -> None:
    done = cli(home, "idea", "post", "must not be signed")
    assert done.code == 1
    (line,) = done.err.splitlines()
    assert line.startswith(f"error: your own feed ({entries} entries) {MISSING}"), line
    assert f"which holds {held}: writing now would sign #{held + 1} a second time" in line
    assert "'samoorg sync' from a peer or 'samoorg import' of a bundle" in line


@pytest.fixture
def home(tmp_path: Path, cli: CliRunner) -> Path:
    """A home with three own posts, and a bundle of them beside it."""
    place = tmp_path / "home"
    assert cli(place, "init").code == 0
    for text in ("one", "two", "three"):
        _post(cli, place, text)
    assert cli(place, "export", str(tmp_path / "feed.bundle")).code == 0
    return place


def _lose(store: Path, how: str) -> None:
    if how == "deleted":
        for path in store.parent.glob(store.name + "*"):
            path.unlink()
    else:
        store.write_bytes(b"")


@pytest.mark.parametrize("how", ["deleted", "truncated"])
def test_a_lost_store_refuses_to_sign_until_the_feed_is_back(
    home: Path, cli: CliRunner, how: str
) -> None:
    _lose(Home(home).store_file, how)
    _refused(cli, home, 3, 0)
    assert _log(cli, home) == []  # nothing was signed
    assert cli(home, "import", str(home.parent / "feed.bundle")).code == 0
    four = _post(cli, home, "four")
    assert [e["seq"] for e in _log(cli, home)] == [1, 2, 3, 4]
    assert _log(cli, home)[-1]["id"] == four
    assert cli(home, "verify").code == 0


def test_a_lost_wal_refuses_until_synced_up_to_the_record(home: Path, cli: CliRunner) -> None:
    store = Home(home).store_file
    # A reader holds the store open, so the next two posts stay in the -wal
    # file; the main file alone is the store as it is once that file is gone.
    reader = sqlite3.connect(store)
    reader.execute("SELECT COUNT(*) FROM entries").fetchone()
    try:
        _post(cli, home, "four")
        _post(cli, home, "five")
        assert (store.parent / "store.sqlite-wal").stat().st_size > 0
        main_file_only = store.read_bytes()
    finally:
        reader.close()
    full = home.parent / "full.bundle"
    assert cli(home, "export", str(full)).code == 0
    for path in store.parent.glob("store.sqlite*"):
        path.unlink()
    store.write_bytes(main_file_only)
    assert [e["seq"] for e in _log(cli, home)] == [1, 2, 3]
    _refused(cli, home, 5, 3)
    # A bundle that stops short of the record does not lift the refusal.
    assert cli(home, "import", str(home.parent / "feed.bundle")).code == 0
    _refused(cli, home, 5, 3)
    assert cli(home, "import", str(full)).code == 0
    _post(cli, home, "six")
    assert [e["seq"] for e in _log(cli, home)] == [1, 2, 3, 4, 5, 6]


def test_an_append_killed_before_its_commit_is_completed_by_the_next(
    home: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = OwnHeadRecord.write

    def write_then_die(record: OwnHeadRecord, head: object) -> None:
        written(record, head)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # the process dies between the record and the commit

    monkeypatch.setattr(OwnHeadRecord, "write", write_then_die)
    assert cli(home, "idea", "post", "four").code == 130
    monkeypatch.setattr(OwnHeadRecord, "write", written)
    assert [e["seq"] for e in _log(cli, home)] == [1, 2, 3]
    _post(cli, home, "five")
    titles = [e["body"]["title"] for e in _log(cli, home)]  # type: ignore[index]
    assert titles == ["one", "two", "three", "four", "five"]
    assert cli(home, "verify").code == 0


def test_the_record_follows_our_feed_coming_back_from_elsewhere(
    home: Path, cli: CliRunner, tmp_path: Path
) -> None:
    # The key alone is copied to a new home (no record), the feed imported.
    other = tmp_path / "restored"
    other.mkdir(mode=0o700)
    shutil.copy2(Home(home).key_file, Home(other).key_file)
    assert cli(other, "import", str(tmp_path / "feed.bundle")).code == 0
    assert json.loads(Home(other).own_head_file.read_text())["seq"] == 3
    _lose(Home(other).store_file, "deleted")
    _refused(cli, other, 3, 0)


def test_a_store_ahead_of_the_record_is_taken_as_is(home: Path, cli: CliRunner) -> None:
    # Appends through a Store without the record (an older samoorg) leave it behind.
    from samoorg.node.keystore import load_signer

    me = load_signer(Home(home).key_file)
    with Store(Home(home).store_file) as store:
        store.append(me, "note", {"text": "written without the record"})
    _post(cli, home, "five")
    assert json.loads(Home(home).own_head_file.read_text())["seq"] == 5


def test_a_damaged_or_foreign_record(home: Path, cli: CliRunner) -> None:
    record = Home(home).own_head_file
    data = json.loads(record.read_text())
    record.write_text("{")
    done = cli(home, "idea", "post", "x")
    assert done.code == 1
    assert done.err.splitlines() == [f"error: own-head record {record} is damaged: not JSON"]
    # The record of another identity (the key file was replaced) does not apply.
    record.write_text(json.dumps({**data, "public_key": "11" * 32, "seq": 99}))
    _post(cli, home, "four")
    assert json.loads(record.read_text())["seq"] == 4


def test_a_different_entry_at_the_recorded_seq_is_refused(home: Path, cli: CliRunner) -> None:
    record = Home(home).own_head_file
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "id": "22" * 32, "entries": []}))
    done = cli(home, "idea", "post", "x")
    assert done.code == 1
    assert "differs from the one this home signed (entry #3)" in done.err


@pytest.mark.slow
@pytest.mark.network
def test_a_sync_from_a_peer_brings_the_own_feed_back(
    home: Path, cli: CliRunner, tmp_path: Path
) -> None:
    from samoorg.node.peerbook import PeerBook
    from samoorg.node.processes import NodeProcess
    from tests.net_fixtures import make_home

    me = json.loads(cli(home, "whoami", "--json").out)["id"]
    server, _ = make_home(tmp_path / "server")
    with Store(Home(home).store_file) as mine, Store(server.store_file) as theirs:
        (head,) = mine.heads()
        assert not theirs.ingest(mine.feed_raw(head.author, 0, 10)).rejected
    with PeerBook.open(server) as book:
        book.follow([head.author])
    _lose(Home(home).store_file, "deleted")
    _refused(cli, home, 3, 0)
    with NodeProcess(server.path) as node:
        synced = cli(home, "sync", node.addrs[0])
        assert synced.code == 0, synced.err
    _post(cli, home, "four")
    logged = _log(cli, home)
    assert [(e["author"], e["seq"]) for e in logged] == [(me, n) for n in (1, 2, 3, 4)]


@pytest.mark.parametrize("path", ["ingest", "ingest_runs"])
def test_both_ingest_paths_raise_the_record(tmp_path: Path, path: str) -> None:
    from samoorg.protocol.entry import decode_entry
    from tests.feed_fixtures import make_feed, signer

    me = signer("own-head")
    feed = make_feed(me, 6)
    record = OwnHeadRecord(tmp_path / "own-head.json", me.public_key)
    with Store(tmp_path / "store.sqlite", own_head=record) as store:
        if path == "ingest":
            store.ingest([entry.raw for entry in feed[:4]])
        else:
            store.ingest_runs([decode_entry(e.raw, verify_signature=False) for e in feed[:4]])
        recorded = record.read()
        assert recorded is not None
        assert (recorded.seq, recorded.id, recorded.entries) == (4, feed[3].id, ())
        # Someone else's feed does not touch it.
        store.ingest([entry.raw for entry in make_feed(signer("other"), 9)])
        assert record.read() == recorded


def test_recorded_entries_of_another_author_are_not_stored(home: Path, cli: CliRunner) -> None:
    from tests.feed_fixtures import make_feed, signer

    record = Home(home).own_head_file
    data = json.loads(record.read_text())
    first = make_feed(signer("stranger"), 1)[0]  # seq 1: it would extend an empty feed
    record.write_text(
        json.dumps({**data, "seq": 1, "id": first.id.hex(), "entries": [first.raw.hex()]})
    )
    _lose(Home(home).store_file, "deleted")
    _refused(cli, home, 1, 0)
    assert _log(cli, home) == []


@pytest.mark.slow
@pytest.mark.network
def test_writes_through_the_daemon_are_refused_too(home: Path, cli: CliRunner) -> None:
    from samoorg.node.processes import NodeProcess

    _lose(Home(home).store_file, "deleted")
    with NodeProcess(home):  # it starts (an empty store is consistent) so that it can sync
        _refused(cli, home, 3, 0)
        assert cli(home, "import", str(home.parent / "feed.bundle")).code == 0
        _post(cli, home, "four")
    assert [e["seq"] for e in _log(cli, home)] == [1, 2, 3, 4]
