"""Devices (docs/protocol.md §8.11): links, revocation, and convergence with 1-3 devices each.

A person's devices are joined by a ``device.add`` / ``device.accept`` pair;
a ``device.revoke`` by another device voids the revoked key's entries from a
seq on, in every view. The property: identities of 1-3 devices writing
ideas, ratings, invites and revocations, delivered in any order with queries
in between, give the same state as a rebuild.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.exclusion import REVOKED_REASON
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import (
    DEVICE_REVOKE,
    DevicesState,
    revoke_body,
)
from samoorg.protocol.entry import Entry
from tests.community_fixtures import DAY, Author, join
from tests.social_fixtures import post_idea, rate_member


def test_two_devices_are_one_identity() -> None:
    laptop, phone = Author(1), Author(2)
    views = Views(EntryIndex(join(laptop, phone, b"\x01" * 16)))
    state = views.domain(DevicesState).view()
    assert state.identity(phone.key) == laptop.key
    assert state.devices(laptop.key) == [laptop.key, phone.key]
    assert state.invalid == {}


def test_revocation_stops_a_stolen_device() -> None:
    laptop, phone, friend = Author(1), Author(2), Author(3)
    entries = join(laptop, phone, b"\x01" * 16)
    before = post_idea(phone, "mine, before the theft")
    stolen = [post_idea(phone, "the thief's"), rate_member(phone, friend, 0)]
    phone.clock += DAY
    laptop.clock = phone.clock
    revoke = laptop.write(DEVICE_REVOKE, revoke_body(phone.key, stolen[0].seq))
    phone.clock = laptop.clock + DAY
    # The thief tries to add a device of his own and to revoke the laptop: too late.
    thief, secret = Author(4), b"\x02" * 16
    late = [*join(phone, thief, secret), phone.write(DEVICE_REVOKE, revoke_body(laptop.key, 1))]
    views = Views(EntryIndex([*entries, before, *stolen, revoke, *late]))
    invalid = views.invalid()
    assert views.revoked() == {phone.key: stolen[0].seq}
    assert all(invalid[e.id] == REVOKED_REASON for e in stolen)
    assert before.id not in invalid
    assert {invalid[e.id].code.value for e in late} == {"revoked-device"}
    state = views.domain(DevicesState).view()
    assert state.identity(thief.key) == thief.key  # not a device of the person
    assert list(views.forum.view().ideas) == [before.id]
    assert views.ratings.view().members == {}


HOLDERS = 3


@st.composite
def histories(draw: st.DrawFn) -> list[Entry]:
    """People with 1-3 devices each, writing ideas, ratings and revocations."""
    people = [[Author(10 * p + d + 1) for d in range(draw(st.integers(1, 3)))] for p in range(3)]
    entries: list[Entry] = []
    for number, devices in enumerate(people):
        for index, device in enumerate(devices[1:]):
            parent = devices[draw(st.integers(0, index))]
            entries += join(parent, device, bytes([number * 4 + index + 1]) * 16)
    everyone = [d for devices in people for d in devices]
    for _ in range(draw(st.integers(1, 12))):
        who = draw(st.sampled_from(everyone))
        who.clock += draw(st.sampled_from([1, 1000, DAY]))
        action = draw(st.sampled_from(["idea", "rate", "revoke"]))
        if action == "idea":
            entries.append(post_idea(who, "an idea"))
        elif action == "rate":
            other = draw(st.sampled_from([d for d in everyone if d is not who]))
            entries.append(rate_member(who, other, draw(st.integers(0, 5))))
        else:
            target = draw(st.sampled_from(everyone))
            start = draw(st.integers(1, 6))
            entries.append(who.write(DEVICE_REVOKE, revoke_body(target.key, start)))
    return entries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_any_delivery_order_gives_the_rebuilt_state(
    entries: list[Entry], data: st.DataObject
) -> None:
    full = Views(EntryIndex(entries))
    expected = (full.digests(), full.invalid(), full.revoked())
    order = data.draw(st.permutations(entries), label="delivery order")
    queries = data.draw(st.sets(st.integers(0, len(order))), label="queries after")
    index = EntryIndex()
    views = Views(index)
    for position, entry in enumerate(order):
        index.add(entry)
        if position in queries:
            views.digests()
            views.ratings.view()
    assert (views.digests(), views.invalid(), views.revoked()) == expected
