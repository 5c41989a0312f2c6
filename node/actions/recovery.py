"""Recovery actions: name guardians, ask for one's identity back, approve, veto (§8.13).

``samoorg recovery set|request|approve|veto`` and ``POST /recovery...`` call
these. The records' rules are the views' (``crdt/kinds/recovery.py``): a
record the sweep would void is refused with its reason. What the views cannot
check is checked here: guardians come from the trust list, and a request is
asked from a key that has written nothing yet. :func:`show` is the answer of
``samoorg recovery show``: the set in force, the requests for our identity and
those we guard, each with its status at ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.actions import Actor, Done

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.recovery import RecoveryView, RequestOutcome
    from samoorg.protocol.entry import Entry


def _recovery(views: Views) -> RecoveryView:
    from samoorg.crdt.kinds.recovery import RecoveryState

    return views.domain(RecoveryState).view()


def _identity(views: Views, key: bytes) -> bytes:
    from samoorg.crdt.kinds.devices import DevicesState

    return views.domain(DevicesState).view().identity(key)


def request_json(outcome: RequestOutcome, now: int) -> dict[str, Any]:
    """One request: who asks for which identity, the approvals so far, when it takes effect."""
    from samoorg.node.api.times import instant
    from samoorg.protocol.ids import peer_id

    return {
        "id": outcome.entry.id.hex(),
        "key": peer_id(outcome.key),
        "identity": peer_id(outcome.identity),
        "status": outcome.status_at(now),
        "asked_at": instant(outcome.entry.timestamp),
        "approvals": [peer_id(a.author) for a in outcome.approvals],
        "threshold": outcome.rules.threshold,
        "guardians": [peer_id(g) for g in outcome.rules.guardians],
        "effective_at": instant(outcome.effective),
        "veto": None if outcome.veto is None else outcome.veto.id.hex(),
    }


def show(actor: Actor, now: int) -> dict[str, Any]:
    """Our guardians, the requests for our identity and the requests we guard."""
    from samoorg.node.api.times import instant
    from samoorg.protocol.ids import peer_id

    views = actor.views
    identity = _identity(views, actor.me)
    recovery = _recovery(views)
    found = recovery.sets.get(identity)
    guarded = {r.entry.id: r for key in _devices(views, identity) for r in recovery.guarded_by(key)}
    return {
        "identity": peer_id(identity),
        "guardians": [] if found is None else [peer_id(g) for g in found[1].guardians],
        "threshold": None if found is None else found[1].threshold,
        "wait_ms": None if found is None else found[1].wait,
        "set": None if found is None else found[0].id.hex(),
        "set_at": None if found is None else instant(found[0].timestamp),
        "requests": [request_json(r, now) for r in recovery.of_identity(identity)],
        "guarding": [
            request_json(r, now)
            for r in sorted(guarded.values(), key=lambda r: (r.entry.timestamp, r.entry.id))
        ],
    }


def _devices(views: Views, identity: bytes) -> list[bytes]:
    from samoorg.crdt.kinds.devices import DevicesState

    return views.domain(DevicesState).view().devices(identity)


def _written(entry: Entry, **more: Any) -> Done:
    return Done({"id": entry.id.hex(), "kind": entry.kind, **more}, (entry,))


def recovery_set(actor: Actor, *, guardians: Sequence[str], threshold: int, wait: int) -> Done:
    """Name our guardians (from our trust list), the threshold and the wait in ms."""
    from samoorg.crdt.kinds.recovery import MAX_GUARDIANS, MAX_WAIT, RECOVERY_SET, set_body
    from samoorg.protocol.ids import peer_id

    keys = [actor.member(g) for g in guardians]
    if not 1 <= len(keys) <= MAX_GUARDIANS:
        raise MalformedInput(f"expected 1 to {MAX_GUARDIANS} guardians, found {len(keys)}")
    if len(set(keys)) != len(keys):
        raise MalformedInput("expected each guardian once, found one named twice")
    if not 1 <= threshold <= len(keys):
        raise MalformedInput(
            f"expected a threshold of 1 to {len(keys)} (the guardians named), found {threshold}"
        )
    if not 0 <= wait <= MAX_WAIT:
        raise MalformedInput(f"expected a wait of 0 to {MAX_WAIT} ms, found {wait}")
    views = actor.views
    identity = _identity(views, actor.me)
    trusted = views.trust.members(actor.me)
    for key in keys:
        if _identity(views, key) == identity:
            raise RuleViolation(f"{peer_id(key)} is you: name friends as guardians")
        if key not in trusted:
            raise RuleViolation(f"{peer_id(key)} is not on your trust list: guardians come from it")
    entry = actor.write(RECOVERY_SET, set_body(keys, threshold, wait))
    return _written(
        entry, guardians=[peer_id(k) for k in sorted(keys)], threshold=threshold, wait_ms=wait
    )


def recovery_request(actor: Actor, *, identity: str) -> Done:
    """Ask, from a new key, to become a device of ``identity`` (our key's first entry)."""
    from samoorg.crdt.kinds.recovery import RECOVERY_REQUEST, request_body
    from samoorg.protocol.ids import peer_id

    key = actor.member(identity)
    if key == actor.me:
        raise RuleViolation("this key cannot recover itself: ask from a new key in a new home")
    if actor.store.head(actor.me) is not None:
        raise RuleViolation(
            "this key has written entries already: a recovery is asked from a new key "
            "(samoorg --home NEW-HOME recovery request ID)"
        )
    entry = actor.write(RECOVERY_REQUEST, request_body(key))
    notes: tuple[str, ...] = ()
    if entry.id in _recovery(actor.views).waiting:
        notes = (
            f"this home holds no guardians of {peer_id(key)} yet: import a guardian's "
            "bundle or sync, then ask your guardians to run 'samoorg recovery approve "
            f"{entry.id.hex()[:16]}'",
        )
    done = _written(entry, identity=peer_id(key))
    return Done(done.shape, done.entries, notes)


def _request(actor: Actor, ref: str) -> Entry:
    from samoorg.crdt.kinds.recovery import RECOVERY_REQUEST

    return actor.entry(ref, RECOVERY_REQUEST)


def recovery_approve(actor: Actor, *, request: str) -> Done:
    """Approve a request as one of its guardians."""
    from samoorg.crdt.kinds.recovery import RECOVERY_APPROVE, approve_body

    asked = _request(actor, request)
    entry = actor.write(RECOVERY_APPROVE, approve_body(asked.id, asked.author))
    return _answer(actor, entry, asked)


def recovery_veto(actor: Actor, *, request: str) -> Done:
    """Stop a request for our identity (from any active device of it)."""
    from samoorg.crdt.kinds.recovery import RECOVERY_VETO, veto_body

    asked = _request(actor, request)
    entry = actor.write(RECOVERY_VETO, veto_body(asked.id))
    return _answer(actor, entry, asked)


def _answer(actor: Actor, entry: Entry, asked: Entry) -> Done:
    from samoorg.node.actions import now

    outcome = _recovery(actor.views).requests.get(asked.id)
    shown = None if outcome is None else request_json(outcome, now())
    return _written(entry, request=shown)
