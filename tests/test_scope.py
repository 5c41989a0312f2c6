"""The replication scope follows invite claims from feeds alone, bounded by hops."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from samoorg.crdt.kinds.trust import CONFIRM
from samoorg.node.checkpoint import open_views
from samoorg.node.home import Home
from samoorg.node.peerbook import PeerBook
from samoorg.node.scope import MAX_CLAIMS, ScopeTracker, confirm_acceptances
from samoorg.node.store import Store
from samoorg.node.writer import Writer
from samoorg.protocol.entry import Entry
from samoorg.protocol.fork import ForkProof
from tests.community_fixtures import Author


def chain(*authors: Author) -> dict[bytes, list[Entry]]:
    """Each author invites the next, who accepts; each inviter then confirms. Feeds by key."""
    feeds: dict[bytes, list[Entry]] = {a.key: [] for a in authors}
    for number, (inviter, invitee) in enumerate(pairwise(authors)):
        secret = bytes([number + 1]) * 16
        invite = inviter.invite(secret)
        feeds[inviter.key].append(invite)
        feeds[invitee.key].append(invitee.accept(invite, secret))
        feeds[inviter.key].append(
            inviter.write(CONFIRM, {"invite": invite.id, "invitee": invitee.key})
        )
    return feeds


@pytest.fixture(name="home")
def home_fixture(tmp_path: Path) -> Iterator[tuple[Store, PeerBook]]:
    home = Home(tmp_path)
    with Store(home.store_file) as store, PeerBook.open(home) as book:
        yield store, book


def test_claims_lead_to_friends_of_friends_and_stop_at_hops(
    home: tuple[Store, PeerBook],
) -> None:
    store, book = home
    a, b, c, d, e = (Author(n) for n in range(1, 6))
    feeds = chain(a, b, c, d, e)
    scope = ScopeTracker(store, book, a.key, hops=3)
    store.ingest(e.raw for e in feeds[a.key] + feeds[b.key])
    # B's acceptance completes A - B; B's confirmation names C: fetch C.
    assert scope.refresh() == {a.key, b.key, c.key}
    store.ingest(e.raw for e in feeds[c.key])
    assert scope.refresh() == {a.key, b.key, c.key, d.key}
    store.ingest(e.raw for e in feeds[d.key] + feeds[e.key])
    assert scope.distances() == {a.key: 0, b.key: 1, c.key: 2, d.key: 3}
    assert scope.refresh() == {a.key, b.key, c.key, d.key}  # E is 4 hops away
    assert ScopeTracker(store, book, a.key, hops=1).refresh() == {a.key, b.key}


def test_our_own_acceptance_puts_the_inviter_in_scope(home: tuple[Store, PeerBook]) -> None:
    store, book = home
    a, b = Author(1), Author(2)
    store.ingest(e.raw for e in chain(a, b)[b.key])
    assert ScopeTracker(store, book, b.key).refresh() == {a.key, b.key}


def test_one_member_adds_a_bounded_number_of_unverified_feeds(
    home: tuple[Store, PeerBook],
) -> None:
    store, book = home
    a, b = Author(1), Author(2)
    feeds = chain(a, b)
    strangers = [Author(10 + n).key for n in range(MAX_CLAIMS + 5)]
    for number, stranger in enumerate(strangers):
        invite = b.invite(bytes([0x80 + number]) * 16)
        feeds[b.key] += [invite, b.write(CONFIRM, {"invite": invite.id, "invitee": stranger})]
    store.ingest(e.raw for e in feeds[a.key] + feeds[b.key])
    scope = ScopeTracker(store, book, a.key)
    assert scope.refresh() == {a.key, b.key, *strangers[:MAX_CLAIMS]}


def test_the_inviter_confirms_each_accepted_invite_once(home: tuple[Store, PeerBook]) -> None:
    store, book = home
    inviter, b = Author(1), Author(2)
    feeds = chain(inviter, b)
    own = [e for e in feeds[inviter.key] if e.kind != CONFIRM]
    store.ingest(e.raw for e in own + feeds[b.key])
    scope = ScopeTracker(store, book, inviter.key)
    scope.refresh()
    writer = Writer(store, open_views(store), inviter.signer)
    written = confirm_acceptances(writer, scope)
    assert [(e.kind, e.body["invitee"]) for e in written] == [(CONFIRM, b.key)]
    assert writer.live.views.index.get(written[0].id) == written[0]
    scope.refresh()
    assert confirm_acceptances(writer, scope) == []


def test_a_forked_author_is_never_in_scope(home: tuple[Store, PeerBook]) -> None:
    store, book = home
    a, b, c = Author(1), Author(2), Author(3)
    feeds = chain(a, b, c)
    store.ingest(e.raw for e in feeds[a.key] + feeds[b.key])
    twins = [Author(3).write("test.note", {"n": n}) for n in range(2)]
    assert store.ingest_fork_proof(ForkProof.of(*twins).to_bytes()) is not None
    assert ScopeTracker(store, book, a.key).refresh() == {a.key, b.key}
