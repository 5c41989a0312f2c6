"""Writing one organization's history (docs/protocol.md §8.14) for tests and vectors."""

from __future__ import annotations

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.orgs import (
    ORG_ADMIN,
    ORG_EDIT,
    ORG_INVITE,
    ORG_JOIN,
    ORG_LEAVE,
    ORG_NEW,
    ORG_REMOVE,
    org_admin_body,
    org_edit_body,
    org_fields,
    org_member_body,
    org_new_body,
    org_self_body,
)
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry
from tests.community_fixtures import T0, Author


class Org:
    """One org being written by several authors, each entry one second after the last."""

    def __init__(self, creator: Author, name: str = "Bakers") -> None:
        self.clock = T0
        self.entries: list[Entry] = []
        self.new = self.write(creator, ORG_NEW, org_new_body(org_fields(name, "We bake.")))

    def write(self, author: Author, kind: str, body: dict[str, dcbor.Value]) -> Entry:
        self.clock += 1000
        entry = author.write(kind, body, at=self.clock)
        self.entries.append(entry)
        return entry

    def invite(self, admin: Author, member: Author) -> Entry:
        return self.write(admin, ORG_INVITE, org_member_body(self.new.id, member.key))

    def join(self, member: Author) -> Entry:
        return self.write(member, ORG_JOIN, org_self_body(self.new.id))

    def leave(self, member: Author) -> Entry:
        return self.write(member, ORG_LEAVE, org_self_body(self.new.id))

    def remove(self, admin: Author, member: Author) -> Entry:
        return self.write(admin, ORG_REMOVE, org_member_body(self.new.id, member.key))

    def admin(self, admin: Author, member: Author, grant: bool = True) -> Entry:
        return self.write(admin, ORG_ADMIN, org_admin_body(self.new.id, member.key, grant))

    def edit(self, admin: Author, name: str) -> Entry:
        return self.write(admin, ORG_EDIT, org_edit_body(self.new.id, org_fields(name)))

    def views(self, *more: Entry) -> Views:
        return Views(EntryIndex([*self.entries, *more]))
