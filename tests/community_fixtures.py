"""Helpers to write community records without a store: authors that sign entries directly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hypothesis import strategies as st

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import DEVICE_ACCEPT, DEVICE_ADD, add_body
from samoorg.crdt.kinds.devices import accept_body as device_accept_body
from samoorg.crdt.kinds.pledges import (
    CLOSING,
    COMMIT,
    FORGIVE,
    FULFIL,
    INITIATIVE,
    INTEND,
    REQUEST,
    REVISE,
    WITHDRAW,
    appeal_close_body,
    close_body,
    commit_body,
    initiative_body,
    intend_body,
    request_body,
    revise_body,
    withdraw_body,
)
from samoorg.crdt.kinds.trust import (
    INVITE,
    REVOKE,
    TRUST_ACCEPT,
    accept_body,
    invite_body,
    revoke_body,
)
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer
from samoorg.protocol.device_code import device_one_time_key, sign_device_acceptance
from samoorg.protocol.entry import Entry, create_entry
from samoorg.protocol.invite_code import one_time_key, sign_acceptance

DAY = 86_400_000
T0 = 1_700_000_000_000


class Author:
    """A feed written in memory: each call signs the next entry."""

    def __init__(self, number: int) -> None:
        self.signer = Signer(bytes([number]) * 32)
        self.key = self.signer.public_key
        self.seq = 0
        self.prev: bytes | None = None
        self.clock = T0

    def write(self, kind: str, body: Mapping[str, dcbor.Value], at: int | None = None) -> Entry:
        """Sign the next entry; ``at`` defaults to one second after the previous one."""
        self.clock = self.clock + 1000 if at is None else at
        self.seq += 1
        entry = create_entry(
            self.signer, seq=self.seq, prev=self.prev, timestamp=self.clock, kind=kind, body=body
        )
        self.prev = entry.id
        return entry

    def invite(
        self, secret: bytes, amount: str = "100", currency: str = "EUR", days: int = 14
    ) -> Entry:
        """A ``trust.invite`` whose one-time key comes from ``secret``."""
        guarantee = Amount.parse(amount, currency)
        return self.write(
            INVITE, invite_body(guarantee, self.clock + days * DAY, one_time_key(secret))
        )

    def accept(
        self, invite: Entry, secret: bytes, amount: str = "100", at: int | None = None
    ) -> Entry:
        """A ``trust.accept`` of ``invite`` proving knowledge of ``secret``."""
        proof = sign_acceptance(secret, invite.id, self.key)
        body = accept_body(invite.id, invite.author, Amount.parse(amount, "EUR"), proof)
        return self.write(TRUST_ACCEPT, body, at)

    def revoke(self, invite: Entry, at: int | None = None) -> Entry:
        """A ``trust.revoke`` of ``invite``."""
        return self.write(REVOKE, revoke_body(invite.id), at)

    def intend(
        self, amount: str, currency: str = "EUR", *, at: int | None = None, **target: bytes
    ) -> Entry:
        """A ``pledge.intend``; ``target`` is ``to=key``, ``request=id`` or ``initiative=id``."""
        ((name, ref),) = target.items()
        return self.write(INTEND, intend_body(Amount.parse(amount, currency), name, ref), at)

    def revise(self, pledge: Entry, minor: int) -> Entry:
        """A ``pledge.revise`` to ``minor`` units."""
        return self.write(REVISE, revise_body(pledge.id, minor))

    def withdraw(self, pledge: Entry) -> Entry:
        """A ``pledge.withdraw``."""
        return self.write(WITHDRAW, withdraw_body(pledge.id))

    def commit(self, pledge: Entry, due: int | None = None, at: int | None = None) -> Entry:
        """A ``pledge.commit``, optionally due at ``due``."""
        return self.write(COMMIT, commit_body(pledge.id, due), at)

    def close(self, pledge: Entry, commit: Entry, *, forgive: bool = False) -> Entry:
        """A ``pledge.fulfil`` (or ``pledge.forgive``) of ``commit``."""
        kind = FORGIVE if forgive else FULFIL
        return self.write(kind, close_body(pledge.id, commit.id))

    def request(self, amount: str, currency: str = "EUR", *, monthly: bool = False) -> Entry:
        """A ``help.request``."""
        return self.write(
            REQUEST, request_body(Amount.parse(amount, currency), "help", monthly=monthly)
        )

    def initiative(self, goal: str, currency: str = "EUR", deadline: int | None = None) -> Entry:
        """An ``initiative.propose``."""
        body = initiative_body("a well", Amount.parse(goal, currency), "", deadline)
        return self.write(INITIATIVE, body)

    def close_appeal(self, appeal: Entry, *, at: int | None = None, note: str = "") -> Entry:
        """A ``help.close`` or ``initiative.close`` naming ``appeal``."""
        return self.write(CLOSING[appeal.kind], appeal_close_body(appeal.kind, appeal.id, note), at)


def join(adder: Author, device: Author, secret: bytes) -> list[Entry]:
    """``adder`` adds ``device`` to its identity (``device`` has written nothing yet): the
    ``device.add`` and the new key's first entry, ``device.accept`` (§8.11)."""
    add = adder.write(DEVICE_ADD, add_body(device_one_time_key(secret)))
    proof = sign_device_acceptance(secret, add.id, device.key)
    device.clock = max(device.clock, add.timestamp)
    return [add, device.write(DEVICE_ACCEPT, device_accept_body(add.id, proof))]


def views_of(*entries: Entry) -> Views:
    """Views over a fresh index holding ``entries``."""
    return Views(EntryIndex(entries))


# -- random multi-author histories (trust and pledges, valid and rule-breaking) ---

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
