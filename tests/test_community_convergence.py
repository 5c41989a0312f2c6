"""Convergence of the trust and pledge views under any delivery order.

Random multi-author histories mix valid and rule-breaking records. Every
causally valid delivery order (each feed in order, every referenced entry
before the entries naming it), with duplicates and with queries between
deliveries (incremental updates), must give the same digests and the same
void entries as a rebuild from the full set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.index import EntryIndex
from samoorg.crdt.views import Views
from samoorg.protocol.entry import Entry
from tests.community_fixtures import DAY, Author

AUTHORS = 4
ACTIONS = ("invite", "accept", "revoke", "request", "initiative", "intend", "revise")
ACTIONS += ("withdraw", "commit", "close", "accept", "commit", "close", "intend", "end")
ACTIONS += ("intend", "end")  # closings meet the intentions and commitments they release


@dataclass
class History:
    """Entries in creation order and, for each, the ids it must follow."""

    entries: list[Entry] = field(default_factory=list)
    deps: dict[bytes, set[bytes]] = field(default_factory=dict)

    def add(self, entry: Entry, *refs: Entry) -> Entry:
        self.entries.append(entry)
        self.deps[entry.id] = {r.id for r in refs}
        if entry.prev is not None:
            self.deps[entry.id].add(entry.prev)
        return entry


@st.composite
def histories(draw: st.DrawFn) -> History:
    authors = [Author(n + 1) for n in range(AUTHORS)]
    history = History()
    invites: list[tuple[Entry, bytes]] = []
    appeals: list[Entry] = []
    pledges: list[Entry] = []
    commits: list[tuple[Entry, Entry]] = []
    invites.append((history.add(authors[0].invite(b"\xff" * 16)), b"\xff" * 16))
    by_key = {a.key: a for a in authors}
    beneficiary: dict[bytes, bytes] = {}
    for _ in range(draw(st.integers(1, 28))):
        who = authors[draw(st.integers(0, AUTHORS - 1))]
        action = draw(st.sampled_from(ACTIONS))
        # Mostly the one author the rules allow, sometimes anyone (a violation).
        rightful = draw(st.integers(0, 3)) > 0
        who.clock += draw(st.sampled_from([1, 1000, DAY, 3 * DAY]))
        if action == "invite":
            secret = bytes([len(invites)]) * 16
            invites.append((history.add(who.invite(secret, days=2)), secret))
        elif action == "accept" and invites:
            invite, secret = draw(st.sampled_from(invites))
            if not rightful:
                secret = b"\xee" * 16
            history.add(who.accept(invite, secret, at=max(who.clock, invite.timestamp)), invite)
        elif action == "revoke" and invites:
            invite = draw(st.sampled_from(invites))[0]
            who = by_key[invite.author] if rightful else who
            history.add(who.revoke(invite, at=max(who.clock, invite.timestamp)), invite)
        elif action == "request":
            appeals.append(history.add(who.request(draw(st.sampled_from(["10", "50"])))))
        elif action == "initiative":
            appeals.append(history.add(who.initiative("80", deadline=who.clock + 2 * DAY)))
        elif action == "intend":
            amount = draw(st.sampled_from(["10", "40"]))
            currency = draw(st.sampled_from(["EUR", "EUR", "USD"]))
            if appeals and draw(st.booleans()):
                appeal = draw(st.sampled_from(appeals))
                kind = "request" if appeal.kind == "help.request" else "initiative"
                at = max(who.clock, appeal.timestamp)
                target = {kind: appeal.id}
                pledges.append(history.add(who.intend(amount, currency, at=at, **target), appeal))
                beneficiary[pledges[-1].id] = appeal.author
            else:
                to = authors[draw(st.integers(0, AUTHORS - 1))].key
                pledges.append(history.add(who.intend(amount, currency, to=to)))
                beneficiary[pledges[-1].id] = to
        elif action in ("revise", "withdraw", "commit") and pledges:
            pledge = draw(st.sampled_from(pledges))
            who = by_key[pledge.author] if rightful else who
            if action == "revise":
                entry = who.revise(pledge, draw(st.sampled_from([500, 9000])))
            elif action == "withdraw":
                entry = who.withdraw(pledge)
            else:
                entry = who.commit(pledge, due=who.clock + DAY)
                commits.append((pledge, entry))
            history.add(entry, pledge)
        elif action == "end" and appeals:
            # Closing a request or initiative: by its author, sometimes by anyone, maybe twice.
            appeal = draw(st.sampled_from(appeals))
            who = by_key[appeal.author] if rightful else who
            history.add(who.close_appeal(appeal, at=max(who.clock, appeal.timestamp)), appeal)
        elif action == "close" and commits:
            pledge, commit = draw(st.sampled_from(commits))
            who = by_key[beneficiary[pledge.id]] if rightful else who
            entry = who.close(pledge, commit, forgive=draw(st.booleans()))
            history.add(entry, pledge, commit)
    return history


def causal_order(history: History, rng: random.Random, duplicates: int) -> list[Entry]:
    """A random topological order of the history, with some entries delivered again."""
    by_id = {e.id: e for e in history.entries}
    waiting = {k: set(v) for k, v in history.deps.items()}
    ready = [e for e in history.entries if not waiting[e.id]]
    order: list[Entry] = []
    delivered: set[bytes] = set()
    while ready:
        entry = ready.pop(rng.randrange(len(ready)))
        order.append(entry)
        delivered.add(entry.id)
        for other_id, deps in waiting.items():
            if entry.id in deps:
                deps.discard(entry.id)
                if not deps and other_id not in delivered:
                    ready.append(by_id[other_id])
    assert len(order) == len(history.entries)
    for _ in range(duplicates):
        order.insert(rng.randrange(len(order) + 1), rng.choice(order))
    return order


def rebuild(entries: list[Entry], forked: set[bytes]) -> Views:
    return Views(EntryIndex(entries, forked=forked))


def incremental(order: list[Entry], rng: random.Random, forked: set[bytes]) -> Views:
    index = EntryIndex()
    views = Views(index)
    fork_at = rng.randrange(len(order) + 1)
    for position, entry in enumerate(order):
        if position == fork_at:
            for author in forked:
                index.add_forked(author)
        index.add(entry)
        if rng.random() < 0.3:
            views.digests()  # query between deliveries: forces an incremental update
            views.trust.pool(entry.author)
            views.pledges.debts()
    if fork_at == len(order):
        for author in forked:
            index.add_forked(author)
    return views


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False), st.booleans())
def test_every_causal_order_converges(history: History, rng: random.Random, fork: bool) -> None:
    forked = {history.entries[0].author} if fork else set()
    full = rebuild(history.entries, forked)
    expected, expected_invalid = full.digests(), full.invalid()
    for _ in range(3):
        order = causal_order(history, rng, duplicates=rng.randrange(4))
        views = incremental(order, rng, forked)
        assert views.digests() == expected
        assert views.invalid() == expected_invalid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False))
def test_even_non_causal_orders_converge(history: History, rng: random.Random) -> None:
    # Stronger than required: partial replication can deliver a reference
    # before its target; the views wait and then agree.
    expected = rebuild(history.entries, set()).digests()
    order = list(history.entries)
    rng.shuffle(order)
    assert incremental(order, rng, set()).digests() == expected
