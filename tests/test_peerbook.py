"""The peer book: merging addresses, source strength, failures, follows, two processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from samoorg.node.peerbook import MAX_ADDRS, PeerBook

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
