"""Cost of the device layer: the trust and pledge views with two devices per member.

The community of ``bench/community_bench.py`` (``SAMOORG_BENCH_DEVICES_N``
entries, default 100,000: 1,000,000 takes minutes to sign here, so it is not
the default) is built three ways:

* as generated, one device per member (the baseline);
* **folded**: the same community generated with two devices per member
  (``generate(devices=2)``): each member's second device joins first, and then
  every record (invites, acceptances, requests, intentions, commitments,
  fulfilments) is written by one of the two devices drawn at random, and a
  pledge ``to`` a member names either of their devices. The views fold the
  two feeds into one identity (§8.11.1), so this is what views per identity
  cost;
* **idle second devices**: the generated records on each member's first
  device, plus a second device joined to every member and every 50th second
  device revoked (so the revocation cuts apply to every view's filter);
* **recovered**: the idle variant plus a recovery by 2 of 3 guardians for
  every 50th member (§8.13), judged in the devices sweep.

The figure is the time of a full rebuild of the trust and pledge views
(index, views, every object resolved, the trust pool of one member), each as a
ratio to one device per member; the goal is at most 1.2x. Times are CPU
seconds of this process, best of five, the four variants interleaved.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from bench.baseline import report
from bench.community_bench import MEMBERS, generate, load_or_generate
from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import (
    DEVICE_ACCEPT,
    DEVICE_ADD,
    DEVICE_REVOKE,
    accept_body,
    add_body,
    revoke_body,
)
from samoorg.crdt.kinds.recovery import (
    RECOVERY_APPROVE,
    RECOVERY_REQUEST,
    RECOVERY_SET,
    approve_body,
    request_body,
    set_body,
)
from samoorg.protocol.crypto import Signer
from samoorg.protocol.device_code import device_one_time_key, sign_device_acceptance
from samoorg.protocol.entry import Entry, create_entry, decode_entry


def _community(
    entries: list[Entry], total: int
) -> tuple[random.Random, list[Signer], dict[bytes, tuple[int, bytes]]]:
    """The community's seeded random source (past its member keys), the members' signers,
    and ``{author: (head seq, head id)}`` of ``entries``."""
    rng = random.Random(7)  # the community's own seed: the same member keys, in order
    members = min(MEMBERS, max(10, total // 200))
    founders = [Signer(rng.randbytes(32)) for _ in range(members)]
    heads: dict[bytes, tuple[int, bytes]] = {}
    for entry in entries:
        if entry.seq > heads.get(entry.author, (0, b""))[0]:
            heads[entry.author] = (entry.seq, entry.id)
    return rng, founders, heads


def with_second_devices(entries: list[Entry], total: int) -> list[Entry]:
    """``entries`` plus a second device per member (and some revoked), correctly chained."""
    rng, founders, heads = _community(entries, total)
    assert founders[0].public_key in heads, "expected the community's member keys"
    added: list[Entry] = []
    clock = max(e.timestamp for e in entries)
    for number, founder in enumerate(founders):
        seq, prev = heads.get(founder.public_key, (0, None))
        secret = rng.randbytes(16)
        clock += 7
        add = create_entry(
            founder,
            seq=seq + 1,
            prev=prev,
            timestamp=clock,
            kind=DEVICE_ADD,
            body=add_body(device_one_time_key(secret)),
        )
        device = Signer(rng.randbytes(32))
        proof = sign_device_acceptance(secret, add.id, device.public_key)
        accept = create_entry(
            device,
            seq=1,
            prev=None,
            timestamp=clock,
            kind=DEVICE_ACCEPT,
            body=accept_body(add.id, proof),
        )
        added += [add, accept]
        if number % 50 == 0:
            body = revoke_body(device.public_key, 2)
            added.append(
                create_entry(
                    founder,
                    seq=seq + 2,
                    prev=add.id,
                    timestamp=clock + 1,
                    kind=DEVICE_REVOKE,
                    body=body,
                )
            )
    return [*entries, *added]


def with_recoveries(entries: list[Entry], total: int) -> list[Entry]:
    """``entries`` plus, for every 50th member, guardians named and a recovery by 2 of 3.

    The member names three other members as guardians (threshold 2, no wait);
    a new key asks, two guardians approve, so the recovery takes effect and
    cuts the member's devices (the sweep of ``docs/protocol.md`` §8.13).
    """
    rng, founders, heads = _community(entries, total)
    members = len(founders)
    clock = max(e.timestamp for e in entries)
    added: list[Entry] = []

    def append(signer: Signer, kind: str, body: Any) -> Entry:
        nonlocal clock
        clock += 3
        seq, prev = heads.get(signer.public_key, (0, None))
        entry = create_entry(
            signer,
            seq=seq + 1,
            prev=prev,
            timestamp=clock,
            kind=kind,
            body=body,
        )
        heads[signer.public_key] = (entry.seq, entry.id)
        added.append(entry)
        return entry

    for number in range(25, members, 50):
        member = founders[number]
        guardians = [founders[(number + k) % members] for k in (1, 2, 3)]
        append(member, RECOVERY_SET, set_body([g.public_key for g in guardians], 2, 0))
        request = append(
            Signer(rng.randbytes(32)), RECOVERY_REQUEST, request_body(member.public_key)
        )
        for guardian in guardians[:2]:
            append(guardian, RECOVERY_APPROVE, approve_body(request.id, request.author))
    return [*entries, *added]


def _rebuild(entries: list[Entry]) -> float:
    """CPU seconds of one full rebuild: the process's own time, which other processes on a
    shared machine disturb far less than the wall clock."""
    start = time.process_time()
    with paused_gc():
        views = Views(EntryIndex(entries))
        views.trust.invalid()
        views.pledges.invalid()
        views.trust.pool(entries[0].author)
    return time.process_time() - start


def run() -> None:
    """Print the rebuild times with one and with two devices per member, and their ratio."""
    total = int(os.environ.get("SAMOORG_BENCH_DEVICES_N", "100000"))
    raws, _ = load_or_generate(total)
    with paused_gc():
        one = [decode_entry(raw, verify_signature=False) for raw in raws]
    idle = with_second_devices(one, total)
    recovered = with_recoveries(idle, total)
    with paused_gc():  # decoded like the baseline's, so both have the same object layout
        folded = [decode_entry(e.raw, verify_signature=False) for e in generate(total, devices=2)]
    runs: dict[str, list[float]] = {"one": [], "folded": [], "idle": [], "recovered": []}
    variants = (("one", one), ("folded", folded), ("idle", idle), ("recovered", recovered))
    for _ in range(5):  # interleaved, so a change of machine load hits the four alike
        for name, entries in variants:
            runs[name].append(_rebuild(entries))
    times = {name: min(found) for name, found in runs.items()}
    report("trust + pledge rebuild, 1 device per member", times["one"], "s", None, f"{len(one):,}")
    report(
        "trust + pledge rebuild, 2 devices per member, records folded",
        times["folded"],
        "s",
        None,
        f"{len(folded):,}",
    )
    report(
        "trust + pledge rebuild, 2 devices per member, second idle",
        times["idle"],
        "s",
        None,
        f"{len(idle):,}",
    )
    report("folded / 1 device (goal <= 1.2)", times["folded"] / times["one"], "x", None, "")
    report(
        "idle second devices / 1 device (goal <= 1.2)", times["idle"] / times["one"], "x", None, ""
    )
    report(
        "idle second devices and a recovery per 50 members / 1 device",
        times["recovered"] / times["one"],
        "x",
        None,
        f"{len(recovered):,}",
    )
