"""The peer book: merging addresses, source strength, failures, follows, two processes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from samoorg.node.errors import PeerBookError
from samoorg.node.peerbook import MAX_ADDRS, PeerBook
from tests.conftest import CliRunner

A = bytes([1]) * 32
B = bytes([2]) * 32


def test_add_merges_addresses_newest_first(tmp_path: Path) -> None:
    with PeerBook(tmp_path / "peers.sqlite") as book:
        book.add(A, ["/ip4/10.0.0.1/tcp/1"], "mdns")
        record = book.add(A, ["/ip4/10.0.0.2/tcp/2", "/ip4/10.0.0.1/tcp/1"], "mdns")
        assert record.addrs == ("/ip4/10.0.0.2/tcp/2", "/ip4/10.0.0.1/tcp/1")
        many = [f"/ip4/10.0.1.{i}/tcp/1" for i in range(20)]
        assert len(book.add(A, many, "mdns").addrs) == MAX_ADDRS


def test_source_only_gets_stronger(tmp_path: Path) -> None:
    with PeerBook(tmp_path / "peers.sqlite") as book:
        assert book.add(A, ["/ip4/10.0.0.1/tcp/1"], "inbound").dialable
        assert not book.add(B, [], "invite").dialable
        assert book.add(A, [], "manual").source == "manual"
        assert book.add(A, [], "inbound").source == "manual"
        assert book.get(A) is not None
        assert book.get(A).dialable  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="unknown peer source"):
            book.add(A, [], "rumour")


def test_failures_reset_by_connection_and_by_new_address(tmp_path: Path) -> None:
    with PeerBook(tmp_path / "peers.sqlite") as book:
        book.add(A, ["/ip4/10.0.0.1/tcp/1"], "manual")
        assert book.record_failure(A, "refused") == 1
        assert book.record_failure(A, "refused") == 2
        book.record_connected(A)
        record = book.get(A)
        assert record is not None
        assert record.failures == 0
        assert record.last_error is None
        book.record_failure(A, "refused")
        assert book.add(A, ["/ip4/10.0.0.1/tcp/1"], "manual").failures == 1
        assert book.add(A, ["/ip4/10.0.0.9/tcp/1"], "manual").failures == 0


def test_sync_counts_accumulate(tmp_path: Path) -> None:
    with PeerBook(tmp_path / "peers.sqlite") as book:
        book.add(B, ["/ip4/10.0.0.1/tcp/1"], "bootstrap")
        book.record_sync(B, 10, 2, 1)
        book.record_sync(B, 5, 0, 0)
        record = book.get(B)
        assert record is not None
        assert (record.received, record.sent, record.rejected) == (15, 2, 1)
        assert record.last_sync is not None
        assert book.remove(B)
        assert not book.remove(B)


def test_follows(tmp_path: Path) -> None:
    with PeerBook(tmp_path / "peers.sqlite") as book:
        assert book.follow([A, B, A]) == 2
        assert book.follows() == {A, B}
        assert book.unfollow(A)
        assert not book.unfollow(A)
        assert book.follows() == {B}


def test_other_connections_see_changes(tmp_path: Path) -> None:
    path = tmp_path / "peers.sqlite"
    with PeerBook(path) as daemon, PeerBook(path) as command:
        version = daemon.external_changes()
        command.add(A, ["/ip4/10.0.0.1/tcp/1"], "manual")
        assert daemon.external_changes() != version
        assert daemon.get(A) is not None
        version = daemon.external_changes()
        daemon.record_connected(A)
        assert daemon.external_changes() == version


def _damaged_book(home: Path) -> Path:
    """The peer book of ``home`` with 400 peers, then 64 bytes flipped in a middle page."""
    path = home / "peers.sqlite"
    with PeerBook(path) as book:
        for n in range(400):
            book.add(n.to_bytes(32, "big"), [f"/ip4/127.0.0.1/tcp/{n + 1}"], "manual")
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_peer_book_is_one_line(tmp_path: Path, cli: CliRunner) -> None:
    home = tmp_path / "home"
    assert cli(home, "init").code == 0
    path = _damaged_book(home)
    result = cli(home, "peers")
    assert result.code == 1
    (line,) = result.err.splitlines()
    assert line.startswith(f"error: peer book {path} is damaged (database disk image is malformed)")
    assert "move it aside" in line


def test_peer_book_text_that_is_not_utf8(tmp_path: Path) -> None:
    with PeerBook(tmp_path / "peers.sqlite") as book:
        book.add(A, ["/ip4/10.0.0.1/tcp/1"], "manual")
    db = sqlite3.connect(tmp_path / "peers.sqlite")
    db.execute("UPDATE peers SET source = CAST(x'ff' AS TEXT)")
    db.commit()
    db.close()
    book = PeerBook(tmp_path / "peers.sqlite")
    with (
        book,
        pytest.raises(PeerBookError, match=r"is damaged \(a text column is not valid UTF-8\)"),
    ):
        book.all()


def test_not_a_peer_book(tmp_path: Path) -> None:
    path = tmp_path / "peers.sqlite"
    path.write_bytes(b"not a database at all" * 200)
    with pytest.raises(PeerBookError, match=r"is damaged \(file is not a database\)"):
        PeerBook(path)


def test_peer_addresses_that_are_not_json(tmp_path: Path) -> None:
    with PeerBook(tmp_path / "peers.sqlite") as book:
        book.add(A, ["/ip4/10.0.0.1/tcp/1"], "manual")
    db = sqlite3.connect(tmp_path / "peers.sqlite")
    db.execute("UPDATE peers SET addrs = '[\"/ip4/'")
    db.commit()
    db.close()
    book = PeerBook(tmp_path / "peers.sqlite")
    with book, pytest.raises(PeerBookError, match="addresses of a peer are not a JSON list"):
        book.get(A)
