"""Devices: one person, several keys. ``device.add``, ``device.accept``, ``device.revoke``.

Theory of operation (``docs/protocol.md`` §8.11 is normative). An *identity*
is a set of device keys, each with its own feed, named by the key that
founded it (its first device). A device joins by a record pair: an active
device of the identity signs ``device.add`` with a one-time public key
(:mod:`samoorg.protocol.device_code`); the new key's **first** entry is
``device.accept``, naming the add and proving knowledge of the one-time
secret. Each joined key has exactly one parent link (its seq 1 entry), and
hash links rule out cycles, so the links form a forest whose roots are the
founding keys: ``identity(k)`` is the root above ``k``.

A ``device.revoke`` by another device of the same identity makes the revoked
key's entries from ``from`` on void in every view (like the cut of a fork,
§4.4). Revocations are applied one at a time in ``(timestamp, entry id)``
order; each counts if, at that point, its author is a device of the revoked
key's identity (every link of its chain made before its parent's cut) and
the revoke itself lies before its author's cut. Links made by a device at or
after its cut are void, so a stolen device revoked from seq N can add no
device after N. The result is a pure function of the set of entries (the
order is fixed by the entries' own fields), so every node computes the same.

A single add is used once: of several acceptances naming one add, the
smallest ``(timestamp, entry id)`` wins.

Social recovery (:mod:`samoorg.crdt.kinds.recovery`, §8.13) changes the same
two things, so its records are applied in the same ordered pass, over a
:class:`Forest` of the links and cuts so far: a recovery that takes effect
adds a *recovery link* (``Link.recovered``, which holds whatever its parent's
cut) and cuts the identity's old devices. ``DevicesView.recovery`` is that
pass's verdict on the recovery records, which the recovery domain shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.digest import sorted_ids
from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.fields import ID_SIZE, read_bytes, read_id, read_int
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol.device_code import verify_device_acceptance
from samoorg.protocol.errors import BadSignature

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.recovery import RecoveryView
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

DEVICE_ADD: Final = "device.add"
DEVICE_ACCEPT: Final = "device.accept"
DEVICE_REVOKE: Final = "device.revoke"
DEVICE_KINDS: Final = (DEVICE_ADD, DEVICE_ACCEPT, DEVICE_REVOKE)
PROOF_SIZE: Final = 64
MAX_SEQ: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class DeviceAdd:
    """An active device announces a one-time key for a new device."""

    key: bytes
    """The one-time public key (§8.11), not the new device's key."""


@dataclass(frozen=True, slots=True)
class DeviceAccept:
    """A new device's first entry: it joins the identity of the add's author."""

    add: bytes
    proof: bytes


@dataclass(frozen=True, slots=True)
class DeviceRevoke:
    """Another device of the identity revokes ``key`` from seq ``start`` of its feed on."""

    key: bytes
    start: int


def add_body(one_time_key: bytes) -> dict[str, dcbor.Value]:
    """The body of ``device.add``."""
    return {"key": one_time_key}


def accept_body(add: bytes, proof: bytes) -> dict[str, dcbor.Value]:
    """The body of ``device.accept``."""
    return {"add": add, "proof": proof}


def revoke_body(key: bytes, start: int) -> dict[str, dcbor.Value]:
    """The body of ``device.revoke`` (``from``: the first void seq of ``key``'s feed)."""
    return {"key": key, "from": start}


def parse_add(entry: Entry) -> DeviceAdd:
    """The ``device.add`` record; raises :class:`RuleViolation`."""
    return DeviceAdd(read_id(entry.body, "key"))


def parse_accept(entry: Entry) -> DeviceAccept:
    """The ``device.accept`` record; raises :class:`RuleViolation`."""
    return DeviceAccept(read_id(entry.body, "add"), read_bytes(entry.body, "proof", PROOF_SIZE))


def parse_revoke(entry: Entry) -> DeviceRevoke:
    """The ``device.revoke`` record; raises :class:`RuleViolation`."""
    return DeviceRevoke(read_id(entry.body, "key"), read_int(entry.body, "from", 1, MAX_SEQ))


@dataclass(frozen=True, slots=True)
class Link:
    """A joined device: ``key`` was added by ``parent`` with the add entry ``add``."""

    key: bytes
    parent: bytes
    add: Entry
    accept: Entry
    recovered: bool = False
    """A recovery link (§8.13): ``add`` and ``accept`` are the ``recovery.request``, and the
    link holds whatever the parent's cut (the guardians made it, not the parent)."""


@dataclass(frozen=True)
class DevicesView:
    """Who is a device of whom, and which feeds are revoked from which seq."""

    links: dict[bytes, Link]
    """Joined key -> its valid link (keys not here found an identity or stand alone)."""
    cuts: dict[bytes, int]
    """Revoked key -> first void seq of its feed (every view ignores its entries from there)."""
    revoked_by: dict[bytes, Entry]
    """Revoked key -> the revoke entry that set its cut."""
    waiting: tuple[bytes, ...]
    """Acceptances whose add is not held yet, and adds no one accepted yet."""
    invalid: dict[bytes, Reason] = field(default_factory=dict)
    recovery: RecoveryView | None = None
    """Recovery sets and requests as the same sweep judged them (§8.13; the recovery domain's)."""

    def identity(self, key: bytes) -> bytes:
        """The founding key of ``key``'s identity (``key`` itself if it joined none)."""
        seen = 0
        while key in self.links and seen <= len(self.links):
            key = self.links[key].parent
            seen += 1
        return key

    def devices(self, identity: bytes) -> list[bytes]:
        """Every device key of ``identity`` (the founder first, then by key)."""
        found = sorted(k for k in self.links if self.identity(k) == identity)
        return [identity, *found]

    def canonical(self) -> dcbor.Value:
        """The sorted, encodable state the digest hashes (§8.7, §8.11)."""
        return {
            "links": [[k, link.parent, link.add.id] for k, link in sorted(self.links.items())],
            "cuts": [[k, c, self.revoked_by[k].id] for k, c in sorted(self.cuts.items())],
            "waiting": sorted_ids(self.waiting),
            "invalid": digested(self.invalid),
        }


def _order(entry: Entry) -> tuple[int, bytes]:
    return entry.timestamp, entry.id


class DevicesState(ResolvedDomain[DevicesView]):
    """The device forest and revocation cuts (see the module docstring)."""

    name = "devices"
    decoders = MappingProxyType(
        {DEVICE_ADD: parse_add, DEVICE_ACCEPT: parse_accept, DEVICE_REVOKE: parse_revoke}
    )

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._adds: dict[bytes, tuple[Entry, DeviceAdd]] = {}
        self._accepts: list[tuple[Entry, DeviceAccept]] = []
        self._revokes: list[tuple[Entry, DeviceRevoke]] = []

    def _file(self, entry: Entry, record: object) -> None:
        if isinstance(record, DeviceAdd):
            self._adds[entry.id] = (entry, record)
        elif isinstance(record, DeviceAccept):
            self._accepts.append((entry, record))
        elif isinstance(record, DeviceRevoke):
            self._revokes.append((entry, record))

    def _resolve_view(self) -> DevicesView:
        from samoorg.crdt.kinds.recovery import RecoveryState, RecoverySweep  # it imports us

        invalid = dict(self._malformed)
        waiting: list[bytes] = []
        candidates: dict[bytes, list[tuple[Entry, Entry]]] = {}
        for entry, accept in self._accepts:
            found = self._adds.get(accept.add)
            if entry.seq != 1:
                invalid[entry.id] = Reason(
                    ReasonCode.ACCEPT_NOT_FIRST, "a device accepts only as its first entry"
                )
            elif found is None:
                named = self.views.index.get(accept.add)
                if named is not None and not self.views.index.is_void(named):
                    invalid[entry.id] = Reason(
                        ReasonCode.NOT_A_DEVICE_ADD, "the named entry is not a valid device.add"
                    )
                else:
                    waiting.append(entry.id)
            elif not _proves(found[1].key, found[0].id, entry.author, accept.proof):
                invalid[entry.id] = Reason(
                    ReasonCode.DEVICE_BAD_PROOF,
                    "the proof does not verify under the add's one-time key",
                )
            else:
                candidates.setdefault(accept.add, []).append((found[0], entry))
        links: dict[bytes, Link] = {}
        for pairs in candidates.values():
            pairs.sort(key=lambda pair: _order(pair[1]))
            add, winner = pairs[0]
            links[winner.author] = Link(winner.author, add.author, add, winner)
            for _, other in pairs[1:]:
                invalid[other.id] = Reason(
                    ReasonCode.DEVICE_CODE_USED, "this device code was already used"
                )
        accepted = {link.add.id for link in links.values()}
        waiting.extend(i for i in self._adds if i not in accepted)
        forest = Forest(links)
        recovery = self.views.domain(RecoveryState)
        sweep = RecoverySweep(forest, recovery.filed(), self.views.index)
        revokes: list[tuple[Entry, object]] = list(self._revokes)
        for entry, record in sorted([*revokes, *sweep.events()], key=lambda e: _order(e[0])):
            sweep.complete_before(entry.timestamp)
            if isinstance(record, DeviceRevoke):
                _revoke(forest, entry, record, invalid)
            else:
                sweep.handle(entry, record)
        sweep.complete_before(None)
        cuts = forest.cuts
        final = {k: link for k, link in forest.links.items() if forest.holds(link)}
        for key, link in forest.links.items():
            if key not in final:
                invalid[link.accept.id] = revoked_reason()
        for add, _ in self._adds.values():
            if add.seq >= cuts.get(add.author, MAX_SEQ):
                invalid[add.id] = revoked_reason()
        waiting = [i for i in waiting if i not in invalid]
        return DevicesView(final, cuts, forest.revoked_by, tuple(waiting), invalid, sweep.view())

    def view_cuts(self) -> Mapping[bytes, int]:
        """Revoked key -> first void seq (what every other view ignores)."""
        return self.view().cuts


def revoked_reason() -> Reason:
    """Why a device's entry at or past its cut is void (§8.11)."""
    return Reason(
        ReasonCode.REVOKED_DEVICE, "written by a device at or after the seq it was revoked from"
    )


def _proves(one_time: bytes, add_id: bytes, device: bytes, proof: bytes) -> bool:
    try:
        verify_device_acceptance(one_time, add_id, device, proof)
    except BadSignature:
        return False
    return True


def _revoke(
    forest: Forest, entry: Entry, revoke: DeviceRevoke, invalid: dict[bytes, Reason]
) -> None:
    """Apply one ``device.revoke`` at its place in the order (§8.11 rules 1 to 4)."""
    if revoke.key == entry.author:
        invalid[entry.id] = Reason(
            ReasonCode.SELF_REVOKE, "a device is revoked by another device, not itself"
        )
    elif not forest.active(entry):
        invalid[entry.id] = revoked_reason()
    elif forest.root(entry.author) != forest.root(revoke.key):
        invalid[entry.id] = Reason(
            ReasonCode.OTHER_IDENTITY, "the key is not a device of the author's identity"
        )
    else:
        forest.cut(revoke.key, revoke.start, entry)


class Forest:
    """The links and cuts while revocations and recoveries are applied in order (§8.11, §8.13).

    ``links`` starts with every device link and grows by recovery links;
    ``cuts`` only ever drop. Every question is answered under the cuts so far.
    """

    def __init__(self, links: Mapping[bytes, Link]) -> None:
        self.links: dict[bytes, Link] = dict(links)
        self.cuts: dict[bytes, int] = {}
        self.revoked_by: dict[bytes, Entry] = {}

    def holds(self, link: Link) -> bool:
        """A device link holds if its add lies before its author's cut; a recovery link always."""
        return link.recovered or link.add.seq < self.cuts.get(link.parent, MAX_SEQ)

    def chain_holds(self, key: bytes) -> bool:
        """Whether every link above ``key`` holds."""
        for _ in range(len(self.links) + 1):
            link = self.links.get(key)
            if link is None:
                return True
            if not self.holds(link):
                return False
            key = link.parent
        return False  # pragma: no cover - hash links and rule checks rule out cycles

    def root(self, key: bytes) -> bytes:
        """The founder above ``key``, following only links that hold."""
        for _ in range(len(self.links) + 1):
            link = self.links.get(key)
            if link is None or not self.holds(link):
                return key
            key = link.parent
        return key  # pragma: no cover - hash links and rule checks rule out cycles

    def active(self, entry: Entry) -> bool:
        """Whether ``entry``'s author may act with it: before its cut, every link above holding."""
        return entry.seq < self.cuts.get(entry.author, MAX_SEQ) and self.chain_holds(entry.author)

    def members(self, identity: bytes) -> list[bytes]:
        """``identity`` and every key whose root is it now, ascending after the founder."""
        return [
            identity,
            *sorted(k for k in self.links if k != identity and self.root(k) == identity),
        ]

    def cut(self, key: bytes, start: int, by: Entry) -> None:
        """Lower ``key``'s cut to ``start`` (never raise it); remember the entry that set it."""
        if start < self.cuts.get(key, MAX_SEQ):
            self.cuts[key] = start
            self.revoked_by[key] = by


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Adds, acceptances (as the author's first entry or not) and revocations."""
    from hypothesis import strategies as st

    from samoorg.protocol.device_code import device_one_time_key, sign_device_acceptance

    secrets = [bytes([n]) * 16 for n in range(1, 4)]
    adds = st.sampled_from(secrets).map(lambda s: (DEVICE_ADD, add_body(device_one_time_key(s))))
    made = ctx.of_kind(DEVICE_ADD)
    ids = [e.id for e in made] or [bytes(ID_SIZE)]

    def accept(add_id: bytes, secret: bytes) -> Sample:
        return DEVICE_ACCEPT, accept_body(
            add_id, sign_device_acceptance(secret, add_id, ctx.author)
        )

    accepts = st.builds(accept, st.sampled_from(ids), st.sampled_from(secrets))
    revokes = st.builds(
        lambda k, n: (DEVICE_REVOKE, revoke_body(k, n)),
        st.sampled_from(ctx.keys),
        st.integers(1, 4),
    )
    return adds | accepts | revokes


FAMILY: Final = Family(DevicesState, samples, spec="8.11")
