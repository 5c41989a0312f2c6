"""Device actions: add a device to our identity, revoke one (docs/protocol.md §8.11).

``device add`` signs a ``device.add`` with a fresh one-time key and answers
the one-time device code (shown once; the secret is in no record). ``device
revoke`` voids another device's entries from a seq on. ``init
--join-identity`` stays a command of its own: it runs before there is a
daemon. :func:`devices_json` is ``samoorg device list --json`` and
``GET /devices``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from samoorg.node.actions import Action, Done, Field, text
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.node.actions import Actor


def device_add(actor: Actor, *, addrs: Sequence[str] | None = None) -> Done:
    """Record a new device's one-time key; the answer's ``code`` is for the new device."""
    from samoorg.crdt.kinds.devices import DEVICE_ADD, DevicesState, add_body
    from samoorg.node.daemon_state import advertised_addrs
    from samoorg.protocol.device_code import DeviceCode, device_one_time_key
    from samoorg.protocol.invite_code import new_secret

    secret = new_secret()
    entry = actor.write(DEVICE_ADD, add_body(device_one_time_key(secret)))
    identity = actor.views.domain(DevicesState).view().identity(entry.author)
    code = DeviceCode(
        identity=identity,
        device=entry.author,
        add=entry.id,
        secret=secret,
        addrs=tuple(addrs or advertised_addrs(actor.home)),
    ).format()
    return Done({"add": entry.id.hex(), "code": code}, (entry,))


def device_revoke(actor: Actor, *, device: str, from_seq: int | None = None) -> Done:
    """Revoke another device of ours: every view ignores its entries from ``from_seq`` on."""
    from samoorg.crdt.framework.errors import RuleViolation
    from samoorg.crdt.kinds.devices import DEVICE_REVOKE, DevicesState, revoke_body

    if from_seq is not None and not 1 <= from_seq <= 2**53 - 1:
        from samoorg.crdt.framework.errors import MalformedInput

        raise MalformedInput(f"expected from_seq a seq of 1 or more, found {from_seq}")
    key = actor.member(device)
    devices = actor.views.domain(DevicesState).view()
    if key == actor.me:
        raise RuleViolation("a device is revoked from another device of yours, not itself")
    if devices.identity(key) != devices.identity(actor.me):
        raise RuleViolation(f"{peer_id(key)} is not a device of your identity")
    if from_seq is None:
        head = actor.store.head(key)
        from_seq = (head.seq if head is not None else 0) + 1
    entry = actor.write(DEVICE_REVOKE, revoke_body(key, from_seq))
    shape = {"revocation": entry.id.hex(), "device": peer_id(key), "from": from_seq}
    return Done(shape, (entry,))


def devices_json(views: Views, me: bytes) -> dict[str, Any]:
    """The devices of our identity and which are revoked from which entry on."""
    from samoorg.crdt.kinds.devices import DevicesState

    devices = views.domain(DevicesState).view()
    identity = devices.identity(me)
    revoked = views.revoked()
    rows = [
        {
            "id": peer_id(key),
            "founder": key == identity,
            "this": key == me,
            "revoked_from": revoked.get(key),
        }
        for key in devices.devices(identity)
    ]
    return {"identity": peer_id(identity), "devices": rows}


DEVICE_ACTIONS: Final[tuple[Action, ...]] = (
    Action(
        "device.add",
        "post",
        "/devices",
        "Record a new device's one-time key; the answer's code is shown once.",
        (
            Field(
                "addrs",
                list,
                "Multiaddrs where the new device can reach this one (default: the daemon's).",
                schema={"maxItems": 8},
            ),
        ),
        lambda actor, args: device_add(actor, addrs=args.get("addrs")),
        "DeviceAdded",
    ),
    Action(
        "device.revoke",
        "post",
        "/devices/revoke",
        "Revoke another device of yours: every view ignores its entries from from_seq on.",
        (
            Field("id", str, "The device's participant id.", True),
            Field(
                "from_seq",
                int,
                "First entry to void (default: after what we hold).",
                schema={"minimum": 1},
            ),
        ),
        lambda actor, args: device_revoke(
            actor, device=text(args, "id"), from_seq=args.get("from_seq")
        ),
        "DeviceRevoked",
    ),
)
"""The device actions (part of :data:`~samoorg.node.actions.table.ACTIONS`)."""
