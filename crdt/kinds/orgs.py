"""Organizations: named groups of members with admins (``org.*``).

Theory of operation. An ``org.new`` entry creates an organization (its id is
the entry's id) with a name, a description and typed contacts (as a
profile's, §8.12); its author is the first member and the first admin. Six
kinds then name the org:

    org.edit     an admin replaces name, description and contacts
    org.invite   an admin invites a participant
    org.join     a participant accepts (or asks first: the invite may come later)
    org.leave    a member (or an invitee, or one who asked) ends it
    org.remove   an admin ends someone's membership (or invitation)
    org.admin    an admin makes a member an admin, or takes it back

Membership is **mutual**: a participant is a member while both an invite
(by an admin) and their own join count and neither was ended since. Admins
are members; an org always keeps at least one admin.

Entries by different authors must be ordered the same way on every node, so
every org is a *replay*: its entries are taken in ascending ``(timestamp,
entry id)`` order, and each is judged against the state the earlier ones
left (who is an admin, who invited, who joined). An entry counts only if its
author may write it at that point; otherwise it is void with its reason and
changes nothing. The replay is a pure function of the set of held entries of
the org, so any order and duplication of delivery gives the same org.
The last counting ``org.edit`` (by that order) gives the current name,
description and contacts (last write wins by ``(timestamp, entry id)``).

Participants are identities (§8.11.1): the replay folds every author and
every named member through the views' ``identity`` (one place, :func:`replay`),
and an org's queries take identities.

Listings on behalf of an org (§8.10's optional ``org`` field) count for the
org only while their author is a member: :meth:`OrgState.counts_for` with the
timestamp of the listing's current version. A listing naming an org its
author is not a member of stays a valid listing, shown without the org.

Rules and reason codes: ``docs/protocol.md`` §8.14.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import found, read_id, read_text
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.crdt.kinds.profiles import Contact, plain, read_contacts
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.listings import Listing
    from samoorg.protocol.entry import Entry

ORG_NEW: Final = "org.new"
ORG_EDIT: Final = "org.edit"
ORG_INVITE: Final = "org.invite"
ORG_JOIN: Final = "org.join"
ORG_LEAVE: Final = "org.leave"
ORG_REMOVE: Final = "org.remove"
ORG_ADMIN: Final = "org.admin"
ORG_KINDS: Final = (ORG_NEW, ORG_EDIT, ORG_INVITE, ORG_JOIN, ORG_LEAVE, ORG_REMOVE, ORG_ADMIN)
MAX_ORG_NAME: Final = 64
MAX_ORG_DESCRIPTION: Final = 2000


@dataclass(frozen=True, slots=True)
class OrgFields:
    """What ``org.new`` and ``org.edit`` describe."""

    name: str
    description: str = ""
    contacts: tuple[Contact, ...] = ()

    def body(self) -> dict[str, dcbor.Value]:
        """The body fields (absent where empty), checked by :func:`parse_org_fields`."""
        body: dict[str, dcbor.Value] = {"name": self.name}
        if self.description:
            body["description"] = self.description
        if self.contacts:
            body["contacts"] = [[c.type, c.value] for c in self.contacts]
        parse_org_fields(body)
        return body


def parse_org_fields(body: Mapping[str, dcbor.Value]) -> OrgFields:
    """The fields of an ``org.new`` / ``org.edit`` body; raises :class:`RuleViolation`."""
    name = plain(read_text(body, "name", max_chars=MAX_ORG_NAME), "name")
    description = read_text(body, "description", max_chars=MAX_ORG_DESCRIPTION, required=False)
    return OrgFields(name, description, read_contacts(body.get("contacts")))


# -- bodies -------------------------------------------------------------------


def org_fields(
    name: str, description: str = "", contacts: Sequence[tuple[str, str]] = ()
) -> OrgFields:
    """Checked :class:`OrgFields`; raises :class:`RuleViolation` naming the broken rule."""
    fields = OrgFields(name, description, tuple(Contact(t, v) for t, v in contacts))
    fields.body()
    return fields


def org_new_body(fields: OrgFields) -> dict[str, dcbor.Value]:
    """The body of an ``org.new`` entry."""
    return fields.body()


def org_edit_body(org: bytes, fields: OrgFields) -> dict[str, dcbor.Value]:
    """The body of an ``org.edit`` entry replacing name, description and contacts."""
    return {"org": org, **fields.body()}


def org_member_body(org: bytes, member: bytes) -> dict[str, dcbor.Value]:
    """The body of an ``org.invite`` or ``org.remove`` entry."""
    return {"org": org, "member": member}


def org_self_body(org: bytes) -> dict[str, dcbor.Value]:
    """The body of an ``org.join`` or ``org.leave`` entry (the author joins or leaves)."""
    return {"org": org}


def org_admin_body(org: bytes, member: bytes, admin: bool) -> dict[str, dcbor.Value]:
    """The body of an ``org.admin`` entry: ``member`` becomes (or stops being) an admin."""
    return {"org": org, "member": member, "admin": admin}


# -- decoders -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgAct:
    """One decoded entry naming an org (every kind but ``org.new``)."""

    org: bytes
    member: bytes | None = None
    """``org.invite``, ``org.remove``, ``org.admin``: whom it is about."""
    admin: bool = False
    """``org.admin``: grant (true) or take back (false)."""
    fields: OrgFields | None = None
    """``org.edit``: the new fields."""


def decode_new(entry: Entry) -> OrgFields:
    """The fields of an ``org.new`` entry; raises :class:`RuleViolation`."""
    return parse_org_fields(entry.body)


def decode_edit(entry: Entry) -> OrgAct:
    """An ``org.edit`` entry; raises :class:`RuleViolation`."""
    return OrgAct(read_id(entry.body, "org"), fields=parse_org_fields(entry.body))


def decode_member_act(entry: Entry) -> OrgAct:
    """An ``org.invite`` or ``org.remove`` entry; raises :class:`RuleViolation`."""
    return OrgAct(read_id(entry.body, "org"), read_id(entry.body, "member"))


def decode_self_act(entry: Entry) -> OrgAct:
    """An ``org.join`` or ``org.leave`` entry; raises :class:`RuleViolation`."""
    return OrgAct(read_id(entry.body, "org"))


def decode_admin(entry: Entry) -> OrgAct:
    """An ``org.admin`` entry; raises :class:`RuleViolation`."""
    value = entry.body.get("admin")
    if type(value) is not bool:
        raise RuleViolation(f"expected 'admin' as true or false, found {found(value)}")
    return OrgAct(read_id(entry.body, "org"), read_id(entry.body, "member"), value)


# -- the replay ---------------------------------------------------------------

NOT_ADMIN: Final = "only an admin of the org can do this"
NO_CHANGE: Final = "it changes nothing"
NOT_MEMBER: Final = "not a member of the org (nor invited, nor asking)"
LAST_ADMIN: Final = "the org would have no admin left"
BEFORE_NEW: Final = "it comes before the org's creation (timestamp, id)"
NOT_AN_ORG: Final = "the named entry is not a valid org.new"


@dataclass(frozen=True, slots=True)
class Org:
    """One org after its replay."""

    id: bytes
    creator: bytes
    created: int
    fields: OrgFields
    version: bytes
    """Id of the entry whose fields are current (the ``org.new`` or the last counting edit)."""
    admins: frozenset[bytes]
    members: frozenset[bytes]
    """Every member, admins included."""
    invited: frozenset[bytes]
    """Invited, not (yet) joined."""
    asking: frozenset[bytes]
    """Joined, not (yet) invited."""
    spans: Mapping[bytes, tuple[tuple[int, int | None], ...]]
    """Member -> ``(from, until)`` timestamps of each membership (``until`` None: ongoing)."""

    def is_member(self, who: bytes) -> bool:
        """Whether ``who`` is a member now."""
        return who in self.members

    def is_admin(self, who: bytes) -> bool:
        """Whether ``who`` is an admin now."""
        return who in self.admins

    def member_at(self, who: bytes, timestamp: int) -> bool:
        """Whether ``who`` was a member at ``timestamp`` (ms)."""
        return any(
            start <= timestamp and (end is None or timestamp < end)
            for start, end in self.spans.get(who, ())
        )


@dataclass
class _Replay:
    """The mutable state while one org's entries are replayed."""

    admins: set[bytes]
    invited: set[bytes]
    joined: set[bytes]
    spans: dict[bytes, list[tuple[int, int | None]]] = field(default_factory=dict)

    def members(self) -> set[bytes]:
        return self.invited & self.joined

    def begin(self, who: bytes, timestamp: int) -> None:
        if who in self.invited and who in self.joined:
            self.spans.setdefault(who, []).append((timestamp, None))

    def end(self, who: bytes, timestamp: int) -> None:
        if who in self.members():
            spans = self.spans[who]
            spans[-1] = (spans[-1][0], timestamp)
        self.admins.discard(who)
        self.invited.discard(who)
        self.joined.discard(who)


def _step(
    state: _Replay, entry: Entry, act: OrgAct, identity: Callable[[bytes], bytes]
) -> Reason | None:
    """Apply one entry to ``state``; the reason it is void (then nothing changed), or None."""
    author = identity(entry.author)
    kind = entry.kind
    if kind == ORG_JOIN:
        return _admit(state, author, state.joined, entry.timestamp)
    if kind == ORG_LEAVE:
        return _end(state, author, entry.timestamp)
    if author not in state.admins:
        return Reason(ReasonCode.ORG_NOT_ADMIN, NOT_ADMIN)
    if kind == ORG_EDIT:
        return None
    assert act.member is not None
    member = identity(act.member)
    if kind == ORG_INVITE:
        return _admit(state, member, state.invited, entry.timestamp)
    if kind == ORG_REMOVE:
        return _end(state, member, entry.timestamp)
    # org.admin
    if act.admin:
        if member not in state.members():
            return Reason(ReasonCode.ORG_NOT_MEMBER, NOT_MEMBER)
        if member in state.admins:
            return Reason(ReasonCode.ORG_NO_CHANGE, NO_CHANGE)
        state.admins.add(member)
        return None
    if member not in state.admins:
        return Reason(ReasonCode.ORG_NO_CHANGE, NO_CHANGE)
    if state.admins == {member}:
        return Reason(ReasonCode.ORG_LAST_ADMIN, LAST_ADMIN)
    state.admins.discard(member)
    return None


def _admit(state: _Replay, who: bytes, side: set[bytes], timestamp: int) -> Reason | None:
    """One side of the mutual membership (``invited`` or ``joined``); a member once both."""
    if who in side:
        return Reason(ReasonCode.ORG_NO_CHANGE, NO_CHANGE)
    side.add(who)
    state.begin(who, timestamp)
    return None


def _end(state: _Replay, who: bytes, timestamp: int) -> Reason | None:
    if who not in state.invited and who not in state.joined:
        return Reason(ReasonCode.ORG_NOT_MEMBER, NOT_MEMBER)
    if state.admins == {who}:
        return Reason(ReasonCode.ORG_LAST_ADMIN, LAST_ADMIN)
    state.end(who, timestamp)
    return None


def replay(
    new: Entry,
    fields: OrgFields,
    acts: Sequence[tuple[Entry, OrgAct]],
    identity: Callable[[bytes], bytes],
) -> tuple[Org, dict[bytes, Reason]]:
    """The org ``new`` creates after ``acts`` (any order), and the entries it voids;
    ``identity`` folds a key into its identity (``Views.identity``)."""
    creator = identity(new.author)
    state = _Replay({creator}, {creator}, {creator})
    state.begin(creator, new.timestamp)
    invalid: dict[bytes, Reason] = {}
    current, version = fields, new.id
    start = (new.timestamp, new.id)
    for entry, act in sorted(acts, key=lambda item: (item[0].timestamp, item[0].id)):
        if (entry.timestamp, entry.id) < start:
            invalid[entry.id] = Reason(ReasonCode.ORG_BEFORE_NEW, BEFORE_NEW)
            continue
        reason = _step(state, entry, act, identity)
        if reason is not None:
            invalid[entry.id] = reason
        elif act.fields is not None:
            current, version = act.fields, entry.id
    org = Org(
        new.id,
        creator,
        new.timestamp,
        current,
        version,
        frozenset(state.admins),
        frozenset(state.members()),
        frozenset(state.invited - state.joined),
        frozenset(state.joined - state.invited),
        {k: tuple(v) for k, v in state.spans.items()},
    )
    return org, invalid


# -- the view -----------------------------------------------------------------


@dataclass(frozen=True)
class OrgsView:
    """Every org after its replay, void and waiting entries."""

    orgs: dict[bytes, Org]
    invalid: dict[bytes, Reason]
    waiting: tuple[bytes, ...]
    """Entries naming an org this node does not hold, ascending."""

    def canonical(self) -> dcbor.Value:
        """Per org ``[id, version, admins, members, invited, asking]`` by id; voids; waiting."""
        rows: list[dcbor.Value] = []
        for key in sorted(self.orgs):
            org = self.orgs[key]
            sets = (org.admins, org.members, org.invited, org.asking)
            keys: list[dcbor.Value] = [list[dcbor.Value](sorted(s)) for s in sets]
            rows.append([key, org.version, *keys])
        return [rows, digested(self.invalid), [*self.waiting]]


class OrgState(ResolvedDomain[OrgsView]):
    """Organizations, each the replay of its entries (see the module docstring)."""

    name = "orgs"
    decoders = MappingProxyType(
        {
            ORG_NEW: decode_new,
            ORG_EDIT: decode_edit,
            ORG_INVITE: decode_member_act,
            ORG_JOIN: decode_self_act,
            ORG_LEAVE: decode_self_act,
            ORG_REMOVE: decode_member_act,
            ORG_ADMIN: decode_admin,
        }
    )

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._created: dict[bytes, tuple[Entry, OrgFields]] = {}
        self._acts: dict[bytes, list[tuple[Entry, OrgAct]]] = {}

    def _file(self, entry: Entry, record: OrgFields | OrgAct) -> None:
        if isinstance(record, OrgFields):
            self._created[entry.id] = (entry, record)
        else:
            self._acts.setdefault(record.org, []).append((entry, record))

    def _resolve_view(self) -> OrgsView:
        orgs: dict[bytes, Org] = {}
        invalid = dict(self._malformed)
        waiting: list[bytes] = []
        for key, (entry, fields) in self._created.items():
            org, voided = replay(entry, fields, self._acts.get(key, ()), self.views.identity)
            orgs[key] = org
            invalid.update(voided)
        holds = self.views.holds
        for target, acts in self._acts.items():
            if target in orgs:
                continue
            for entry, _ in acts:
                if holds(target):
                    invalid[entry.id] = Reason(ReasonCode.NOT_AN_ORG, NOT_AN_ORG)
                else:
                    waiting.append(entry.id)
        return OrgsView(orgs, invalid, tuple(sorted(waiting)))

    def get(self, org_id: bytes) -> Org | None:
        """One held org after its replay."""
        return self.view().orgs.get(org_id)

    def orgs(self) -> list[Org]:
        """Every org, by name (case-folded), then id."""
        return sorted(self.view().orgs.values(), key=lambda o: (o.fields.name.casefold(), o.id))

    def of_member(self, who: bytes) -> list[Org]:
        """The orgs ``who`` is a member of now, by name."""
        return [o for o in self.orgs() if o.is_member(who)]

    def counts_for(self, org_id: bytes, author: bytes, timestamp: int) -> bool:
        """Whether a record by ``author`` at ``timestamp`` counts for the org (a member then)."""
        org = self.get(org_id)
        return org is not None and org.member_at(author, timestamp)

    def org_of(self, listing: Listing) -> bytes | None:
        """The org ``listing`` counts for: the one it names, if its author was a member then."""
        org = listing.fields.org
        if org is None or not self.counts_for(org, listing.author, listing.updated):
            return None
        return org

    def listings_of(self, org_id: bytes) -> list[Listing]:
        """The listings that count for the org, newest first (not part of the digest)."""
        return [item for item in self.views.listings.listings() if self.org_of(item) == org_id]

    def waiting(self) -> list[bytes]:
        """Entries naming an org this node does not hold, by id."""
        return list(self.view().waiting)


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Orgs, and every act on held orgs (or unknown ids) about the test's keys."""
    from hypothesis import strategies as st

    fields = st.builds(
        org_fields,
        st.sampled_from(["Bakers", "Bike Co-op", "bakers"]),
        st.sampled_from(["", "We bake."]),
        st.sampled_from([(), (("email", "co@op.org"),)]),
    )
    new = fields.map(lambda f: (ORG_NEW, org_new_body(f)))
    targets = st.binary(min_size=32, max_size=32)
    held = [e.id for e in ctx.of_kind(ORG_NEW)]
    if held:
        targets = st.sampled_from(held) | st.sampled_from(held) | targets
    members = st.sampled_from(list(ctx.keys))
    edit = st.builds(lambda o, f: (ORG_EDIT, org_edit_body(o, f)), targets, fields)
    about = st.builds(
        lambda k, o, m: (k, org_member_body(o, m)),
        st.sampled_from([ORG_INVITE, ORG_REMOVE]),
        targets,
        members,
    )
    own = st.builds(
        lambda k, o: (k, org_self_body(o)), st.sampled_from([ORG_JOIN, ORG_LEAVE]), targets
    )
    admin = st.builds(
        lambda o, m, a: (ORG_ADMIN, org_admin_body(o, m, a)), targets, members, st.booleans()
    )
    return new | edit | about | own | admin


FAMILY: Final = Family(OrgState, samples, spec="8.14")
