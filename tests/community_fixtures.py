"""Helpers to write community records without a store: authors that sign entries directly."""

from __future__ import annotations

from collections.abc import Mapping

from samoorg.crdt.index import EntryIndex
from samoorg.crdt.money import Amount
from samoorg.crdt.records import (
    ACCEPT,
    COMMIT,
    FORGIVE,
    FULFIL,
    INITIATIVE,
    INITIATIVE_CLOSE,
    INTEND,
    INVITE,
    REQUEST,
    REQUEST_CLOSE,
    REVISE,
    REVOKE,
    WITHDRAW,
    amount_fields,
)
from samoorg.crdt.views import Views
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer
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
        body = {
            **amount_fields(Amount.parse(amount, currency)),
            "expires": self.clock + days * DAY,
            "key": one_time_key(secret),
        }
        return self.write(INVITE, body)

    def accept(
        self, invite: Entry, secret: bytes, amount: str = "100", at: int | None = None
    ) -> Entry:
        """A ``trust.accept`` of ``invite`` proving knowledge of ``secret``."""
        body = {
            "invite": invite.id,
            "inviter": invite.author,
            **amount_fields(Amount.parse(amount, "EUR")),
            "proof": sign_acceptance(secret, invite.id, self.key),
        }
        return self.write(ACCEPT, body, at)

    def revoke(self, invite: Entry, at: int | None = None) -> Entry:
        """A ``trust.revoke`` of ``invite``."""
        return self.write(REVOKE, {"invite": invite.id}, at)

    def intend(
        self, amount: str, currency: str = "EUR", *, at: int | None = None, **target: bytes
    ) -> Entry:
        """A ``pledge.intend``; ``target`` is ``to=key``, ``request=id`` or ``initiative=id``."""
        return self.write(INTEND, {**amount_fields(Amount.parse(amount, currency)), **target}, at)

    def revise(self, pledge: Entry, minor: int) -> Entry:
        """A ``pledge.revise`` to ``minor`` units."""
        return self.write(REVISE, {"pledge": pledge.id, "amount": minor})

    def withdraw(self, pledge: Entry) -> Entry:
        """A ``pledge.withdraw``."""
        return self.write(WITHDRAW, {"pledge": pledge.id})

    def commit(self, pledge: Entry, due: int | None = None, at: int | None = None) -> Entry:
        """A ``pledge.commit``, optionally due at ``due``."""
        body: dict[str, dcbor.Value] = {"pledge": pledge.id}
        if due is not None:
            body["due"] = due
        return self.write(COMMIT, body, at)

    def close(self, pledge: Entry, commit: Entry, *, forgive: bool = False) -> Entry:
        """A ``pledge.fulfil`` (or ``pledge.forgive``) of ``commit``."""
        kind = FORGIVE if forgive else FULFIL
        return self.write(kind, {"pledge": pledge.id, "commitment": commit.id})

    def request(self, amount: str, currency: str = "EUR", *, monthly: bool = False) -> Entry:
        """A ``help.request``."""
        body = {
            **amount_fields(Amount.parse(amount, currency)),
            "reason": "help",
            "monthly": monthly,
        }
        return self.write(REQUEST, body)

    def initiative(self, goal: str, currency: str = "EUR", deadline: int | None = None) -> Entry:
        """An ``initiative.propose``."""
        body: dict[str, dcbor.Value] = {
            **amount_fields(Amount.parse(goal, currency), "goal"),
            "title": "a well",
        }
        if deadline is not None:
            body["deadline"] = deadline
        return self.write(INITIATIVE, body)

    def close_appeal(self, appeal: Entry, *, at: int | None = None, note: str = "") -> Entry:
        """A ``help.close`` or ``initiative.close`` naming ``appeal``."""
        if appeal.kind == INITIATIVE:
            kind, body = INITIATIVE_CLOSE, {"initiative": appeal.id}
        else:
            kind, body = REQUEST_CLOSE, {"request": appeal.id}
        return self.write(kind, {**body, "note": note} if note else body, at)


def views_of(*entries: Entry) -> Views:
    """Views over a fresh index holding ``entries``."""
    return Views(EntryIndex(entries))
