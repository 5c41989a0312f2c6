"""Device actions: add a device, accept an add (join), revoke a device (§8.11).

``add`` draws the device code's one-time secret here, in the process that
signs (the record holds only the one-time public key; the secret is only in
the returned code, shown once). ``accept`` is the new key's first entry: it
proves the code's secret and follows the adding device in the home's peer
book. ``revoke`` voids another device's entries from a seq on (default: the
one after what this store holds of it). :func:`devices_shape` is the read of
``samoorg device list --json`` and ``GET /api/v1/devices``.

A home restored from a backup (:mod:`samoorg.node.backup`) writes nothing
until its restore is finished; ``accept`` is the write that finishes it (the
``restoring`` writer), so a join with the original device's code is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.actions import Actor, Done
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views

MAX_CODE = 4096


def add(actor: Actor, *, addrs: Sequence[str] | None = None) -> Done:
    """Record a new device's one-time key; answer the device code (shown once).

    ``addrs`` (multiaddrs where the new device can reach this one) default to
    the running daemon's advertised addresses.
    """
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
        addrs=tuple(advertised_addrs(actor.home) if addrs is None else addrs),
    ).format()
    return Done({"add": entry.id.hex(), "code": code}, (entry,))


def accept(actor: Actor, *, code: str) -> Done:
    """Join the identity of ``code`` as a new device: our first entry accepts its add."""
    from samoorg.crdt.kinds.devices import DEVICE_ACCEPT, accept_body
    from samoorg.node.backup import finish_restore, pending_key
    from samoorg.node.peerbook import PeerBook
    from samoorg.protocol.device_code import parse_device_code, sign_device_acceptance

    if len(code) > MAX_CODE:
        raise MalformedInput(f"expected a device code, found more than {MAX_CODE} characters")
    parsed = parse_device_code(code)
    me = actor.device
    if me in (parsed.device, parsed.identity):
        raise RuleViolation("this device code was made here: use it on the new device")
    restored = pending_key(actor.home, "identity")
    if restored is not None and parsed.identity != restored:
        raise RuleViolation(
            f"this home was restored from a backup of identity {peer_id(restored)}: "
            "join it with a device code of that identity"
        )
    entry = actor.writer(restoring=True).write(
        DEVICE_ACCEPT,
        accept_body(parsed.add, sign_device_acceptance(parsed.secret, parsed.add, me)),
    )
    finish_restore(actor.home)
    actor.home.joined_file.write_text(peer_id(parsed.identity) + "\n", encoding="utf-8")
    with PeerBook.open(actor.home) as book:
        book.follow([parsed.device, parsed.identity])
        if parsed.addrs:
            book.add(parsed.device, parsed.addrs, "invite")
    shape = {
        "accept": entry.id.hex(),
        "identity": peer_id(parsed.identity),
        "device": peer_id(parsed.device),
    }
    return Done(shape, (entry,))


def revoke(actor: Actor, *, device: str, from_seq: int | None = None) -> Done:
    """Revoke another device of our identity from ``from_seq`` (default: after what we hold)."""
    from samoorg.crdt.kinds.devices import DEVICE_REVOKE, MAX_SEQ, DevicesState, revoke_body

    if from_seq is not None and not 1 <= from_seq <= MAX_SEQ:
        raise MalformedInput(f"expected from_seq between 1 and {MAX_SEQ}, found {from_seq}")
    key = actor.device_key(device)
    me = actor.device
    devices = actor.views.domain(DevicesState).view()
    if key == me:
        raise RuleViolation("a device is revoked from another device of yours, not itself")
    if devices.identity(key) != devices.identity(me):
        raise RuleViolation(f"{peer_id(key)} is not a device of your identity")
    if from_seq is None:
        head = actor.store.head(key)
        from_seq = (head.seq if head is not None else 0) + 1
    entry = actor.write(DEVICE_REVOKE, revoke_body(key, from_seq))
    shape = {"revocation": entry.id.hex(), "device": peer_id(key), "from": from_seq}
    return Done(shape, (entry,))


def devices_shape(views: Views, me: bytes) -> dict[str, Any]:
    """The devices of our identity (``me``: this device's key): ``samoorg device list --json``,
    ``GET /devices``."""
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
