"""The one write path: checks inside the write transaction, refusals leave no trace.

Every caller (CLI commands, the daemon's confirmations, later the API) signs
through :class:`samoorg.node.writer.Writer`; concurrent writers in separate
processes never fork the own feed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds import ratings
from samoorg.crdt.kinds.trust import CONFIRM
from samoorg.node.checkpoint import StoreViews, open_views, rebuild
from samoorg.node.daemon_views import LiveViews
from samoorg.node.home import Home
from samoorg.node.keystore import load_signer
from samoorg.node.peerbook import PeerBook
from samoorg.node.scope import ScopeTracker, confirm_acceptances
from samoorg.node.store import Store
from samoorg.node.writer import Writer
from samoorg.protocol.feed import FeedHead
from samoorg.protocol.ids import peer_id
from tests.community_fixtures import Author
from tests.community_homes import Homes
from tests.conftest import CliRunner

WRONG = "invite was accepted by"


def snapshot(live: StoreViews) -> tuple[int, dict[str, str], dict[bytes, str]]:
    views = live.views
    return len(views.index), views.digests(), views.invalid()


def invited(store: Store) -> tuple[Author, Author, bytes]:
    """The store holds A's invite and B's acceptance; A has not confirmed yet."""
    a, b = Author(1), Author(2)
    invite = a.invite(b"\x01" * 16)
    accept = b.accept(invite, b"\x01" * 16)
    assert not store.ingest([invite.raw, accept.raw]).rejected
    return a, b, invite.id


def test_a_refusal_stores_nothing_and_leaves_the_views_unchanged(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        a, b, invite = invited(store)
        live = open_views(store)
        writer = Writer(store, live, a.signer)
        before, head = snapshot(live), store.head(a.key)
        stranger = Author(3).key
        with pytest.raises(RuleViolation, match=WRONG):
            writer.write(CONFIRM, {"invite": invite, "invitee": stranger})
        assert store.head(a.key) == head
        assert store.stats().entries == before[0]
        assert snapshot(live) == before
        # The views are still sound for the next record, and equal a rebuild.
        entry = writer.write(CONFIRM, {"invite": invite, "invitee": b.key})
        assert store.head(a.key) == FeedHead(a.key, entry.seq, entry.id)
        assert snapshot(live) == snapshot(rebuild(store))
        assert live.views.trust.outcome(invite).confirmed == (entry.id,)  # type: ignore[union-attr]


def test_the_check_sees_entries_stored_after_the_views_were_loaded(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        a, b = Author(1), Author(2)
        invite = a.invite(b"\x01" * 16)
        store.ingest([invite.raw])
        live = open_views(store)  # before the acceptance arrives
        assert live.views.trust.outcome(invite.id).invitee is None  # type: ignore[union-attr]
        store.ingest([b.accept(invite, b"\x01" * 16).raw])  # e.g. the daemon synced it
        writer = Writer(store, live, a.signer)
        with pytest.raises(RuleViolation, match=WRONG):
            writer.write(CONFIRM, {"invite": invite.id, "invitee": Author(3).key})


def test_the_daemon_confirmation_goes_through_the_writer(tmp_path: Path) -> None:
    home = Home(tmp_path)
    with Store(tmp_path / "store.sqlite") as store, PeerBook.open(home) as book:
        a = invited(store)[0]
        scope = ScopeTracker(store, book, a.key)
        scope.refresh()
        live = open_views(store)
        # Our own feed is flagged as forked: the writer (via the store) refuses,
        # the confirmation logs the reason and stores nothing.
        a_again = Author(1)
        store.ingest([a_again.write("note", {"text": "another history"}).raw])
        assert confirm_acceptances(Writer(store, live, a.signer), scope) == []
        head = store.head(a.key)
        assert head is not None
        assert head.seq == 1


def test_the_cli_and_the_writer_refuse_with_the_same_reason(cli: CliRunner, tmp_path: Path) -> None:
    homes = Homes(cli, tmp_path, "alice")
    reason = homes.refused("alice", "rate", homes.ids["alice"], "5")
    signer = load_signer(tmp_path / "alice" / "identity.key", lambda: "")
    with Store(tmp_path / "alice" / "store.sqlite") as store:
        writer = Writer(store, open_views(store), signer)
        body = ratings.rating_body(ratings.ABOUT_MEMBER, signer.public_key, 5, "")
        with pytest.raises(RuleViolation) as refused:
            writer.write(ratings.KIND, body)
        with pytest.raises(RuleViolation) as through_api:  # the API's write path
            LiveViews(store).append(Home(tmp_path / "alice"), signer, ratings.KIND, body)
    assert str(refused.value) == str(through_api.value) == reason
    assert reason == "a member cannot rate themselves"


_WRITER = """
import json, sys
from pathlib import Path
from samoorg.crdt.kinds import forum
from samoorg.node.checkpoint import open_views
from samoorg.node.keystore import load_signer
from samoorg.node.store import Store
from samoorg.node.writer import Writer
home, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
signer = load_signer(home / "identity.key", lambda: "")
with Store(home / "store.sqlite") as store:
    writer = Writer(store, open_views(store), signer)
    print("ready", flush=True)
    sys.stdin.readline()
    made = [writer.write(forum.IDEA_KIND, forum.idea_body(f"{tag} {n}", "")).seq
            for n in range(count)]
print(json.dumps(made))
"""


@pytest.mark.slow
def test_concurrent_writers_in_two_processes_never_fork_the_own_feed(
    cli: CliRunner, tmp_path: Path
) -> None:
    homes = Homes(cli, tmp_path, "alice")
    home = tmp_path / "alice"
    count = 40
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(home), tag, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in ("first", "second")
    ]
    for process in writers:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in writers:  # release both at once
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    seqs: list[int] = []
    for process in writers:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        seqs.extend(json.loads(out))
    assert sorted(seqs) == list(range(1, 2 * count + 1))
    with Store(home / "store.sqlite") as store:
        assert store.verify_all() == []
        (head,) = store.heads()
        assert head.seq == 2 * count
        assert peer_id(head.author) == homes.ids["alice"]
        assert len(rebuild(store).views.forum.view().ideas) == 2 * count
