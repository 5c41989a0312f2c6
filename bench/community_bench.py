"""View rebuild rate of the trust and pledge views over a large generated community.

The community (default 1,000,000 signed entries by 5,000 members: invites
and acceptances, help requests, initiatives, intentions, revisions,
withdrawals, commitments, fulfilments, a sprinkling of rule violations) is
signed once and cached under the system temp dir, because signing a million
entries takes about a minute on one core. Later runs only decode the cache.

Figures, each as a ratio to raw Ed25519 verification measured in this run:

* full rebuild: ``Views(EntryIndex(entries))`` with every object resolved,
  from decoded entries (includes checking each acceptance proof), and then the
  state digests of every view;
* incremental: the last 10% added in batches of 1,000, views brought up to
  date after each batch (then checked equal to the rebuild by digest); the
  first half with the cyclic GC scanning everything loaded, the second after
  ``gc.freeze()`` (what ``samoorg node run`` does once loaded), so the two
  rates show what freezing buys;
* digests: computing every view's state digest, which walks the whole state;
* queries: trust pool over the whole list, netting over the whole ledger.

``SAMOORG_BENCH_COMMUNITY_N`` sets another size (e.g. 200000 for a quick run).
"""

from __future__ import annotations

import gc
import os
import random
import struct
import tempfile
import time
from pathlib import Path
from typing import TypeVar

from bench.baseline import report, verify_rate
from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.algorithms.netting import suggest_netting
from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import DEVICE_ACCEPT, DEVICE_ADD
from samoorg.crdt.kinds.devices import accept_body as device_accept_body
from samoorg.crdt.kinds.devices import add_body as device_add_body
from samoorg.crdt.kinds.pledges import (
    COMMIT,
    FORGIVE,
    FULFIL,
    INITIATIVE,
    INTEND,
    REQUEST,
    REVISE,
    WITHDRAW,
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
from samoorg.protocol.entry import Entry, create_entry, decode_entry
from samoorg.protocol.invite_code import one_time_key, sign_acceptance

MEMBERS = 5000
DAY = 86_400_000
T0 = 1_700_000_000_000
CACHE_VERSION = 3  # 3: trust.accept names the inviter
T = TypeVar("T")


class _Community:
    """Writes the entries of many members, each feed correctly chained and signed.

    With ``devices`` > 1 every member is an identity of that many device keys
    (the extra ones joined first, §8.11), and each record is written by one of
    them drawn from ``device_rng``, which the community's own ``rng`` never
    sees: the community is the same, its records spread over the devices.
    """

    def __init__(
        self,
        members: int,
        rng: random.Random,
        devices: int = 1,
        device_rng: random.Random | None = None,
    ) -> None:
        self.signers = [Signer(rng.randbytes(32)) for _ in range(members)]
        self.heads: dict[bytes, tuple[int, bytes | None]] = {}
        self.clock = T0
        self.entries: list[Entry] = []
        self.devices = [[s] for s in self.signers]
        self._device_rng = device_rng or random.Random(0)
        for who, founder in enumerate(self.signers):
            for _ in range(devices - 1):
                secret = self._device_rng.randbytes(16)
                device = Signer(self._device_rng.randbytes(32))
                add = self.write(
                    who, DEVICE_ADD, device_add_body(device_one_time_key(secret)), founder
                )
                proof = sign_device_acceptance(secret, add.id, device.public_key)
                self.write(who, DEVICE_ACCEPT, device_accept_body(add.id, proof), device)
                self.devices[who].append(device)

    def pick(self, who: int) -> Signer:
        """The device that writes ``who``'s next record."""
        found = self.devices[who]
        return found[0] if len(found) == 1 else self._device_rng.choice(found)

    def write(
        self, who: int, kind: str, body: dict[str, dcbor.Value], signer: Signer | None = None
    ) -> Entry:
        signer = self.pick(who) if signer is None else signer
        seq, prev = self.heads.get(signer.public_key, (0, None))
        self.clock += 7
        entry = create_entry(
            signer, seq=seq + 1, prev=prev, timestamp=self.clock, kind=kind, body=body
        )
        self.heads[signer.public_key] = (seq + 1, entry.id)
        self.entries.append(entry)
        return entry


def generate(total: int, seed: int = 7, devices: int = 1) -> list[Entry]:
    """A deterministic community of about ``total`` entries (see the module docstring),
    with ``devices`` device keys per member (records spread over them)."""
    rng = random.Random(seed)
    members = min(MEMBERS, max(10, total // 200))
    world = _Community(members, rng, devices, random.Random(seed + 1))
    eur = Amount("EUR", 10000)
    # Trust: a random tree plus extra invites; most accepted, a few revoked.
    invites = int(total * 0.025)
    for n in range(invites):
        invitee = n % (members - 1) + 1
        inviter = rng.randrange(invitee) if n < members - 1 else rng.randrange(members)
        if inviter == invitee:
            inviter = (invitee + 1) % members
        secret = rng.randbytes(16)
        body = invite_body(eur, world.clock + 30 * DAY, one_time_key(secret))
        invite = world.write(inviter, INVITE, body)
        roll = rng.random()
        if roll < 0.88:
            signer = world.pick(invitee)
            proof = sign_acceptance(secret, invite.id, signer.public_key)
            body = accept_body(invite.id, invite.author, eur, proof)
            world.write(invitee, TRUST_ACCEPT, body, signer)
        elif roll < 0.98:
            world.write(inviter, REVOKE, revoke_body(invite.id))
    # Appeals.
    appeals: list[Entry] = []
    for n in range(int(total * 0.02)):
        who = rng.randrange(members)
        if n % 2:
            body = request_body(Amount("EUR", 50000), "help")
            appeals.append(world.write(who, REQUEST, body))
        else:
            body = initiative_body(f"project {n}", Amount("EUR", 200000))
            appeals.append(world.write(who, INITIATIVE, body))
    # Intentions, and what their authors and beneficiaries do with them, interleaved.
    index_of = {s.public_key: n for n, keys in enumerate(world.devices) for s in keys}
    owner = {a.id: index_of[a.author] for a in appeals}
    open_pledges: list[tuple[int, int, Entry]] = []
    open_commits: list[tuple[int, Entry, Entry]] = []
    while len(world.entries) < total:
        roll = rng.random()
        if roll < 0.45 or not open_pledges:
            who = rng.randrange(members)
            pledged = Amount("EUR", rng.randrange(1000, 20000, 100))
            if rng.random() < 0.5:
                to = (who + 1 + rng.randrange(members - 1)) % members
                body = intend_body(pledged, "to", world.pick(to).public_key)  # any device
                beneficiary = to
            else:
                appeal = rng.choice(appeals)
                target = "request" if appeal.kind == REQUEST else "initiative"
                body = intend_body(pledged, target, appeal.id)
                beneficiary = owner[appeal.id]
            open_pledges.append((who, beneficiary, world.write(who, INTEND, body)))
        elif roll < 0.85:
            who, beneficiary, pledge = _take(open_pledges, rng)
            step = rng.random()
            if step < 0.3:
                world.write(who, REVISE, revise_body(pledge.id, rng.randrange(500, 9000)))
                open_pledges.append((who, beneficiary, pledge))
            elif step < 0.4:
                world.write(who, WITHDRAW, withdraw_body(pledge.id))
            else:
                actor = who if rng.random() > 0.01 else (who + 1) % members  # 1% violations
                body = commit_body(pledge.id, world.clock + rng.randrange(DAY, 60 * DAY))
                commit = world.write(actor, COMMIT, body)
                open_commits.append((beneficiary, pledge, commit))
        elif open_commits:
            beneficiary, pledge, commit = _take(open_commits, rng)
            kind = FORGIVE if rng.random() < 0.15 else FULFIL
            world.write(beneficiary, kind, close_body(pledge.id, commit.id))
    return world.entries


def _take(items: list[T], rng: random.Random) -> T:
    """Remove and return a random item (swap with the last: O(1))."""
    position = rng.randrange(len(items))
    items[position], items[-1] = items[-1], items[position]
    return items.pop()


def _cache_path(total: int) -> Path:
    return Path(tempfile.gettempdir()) / f"samoorg-bench-community-v{CACHE_VERSION}-{total}.bin"


def load_or_generate(total: int) -> tuple[list[bytes], bool]:
    """Raw entries from the cache, generating and caching them first if needed."""
    path = _cache_path(total)
    if path.exists():
        data = path.read_bytes()
        raws: list[bytes] = []
        offset = 0
        while offset < len(data):
            (size,) = struct.unpack_from(">I", data, offset)
            raws.append(data[offset + 4 : offset + 4 + size])
            offset += 4 + size
        return raws, True
    raws = [e.raw for e in generate(total)]
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        for raw in raws:
            out.write(struct.pack(">I", len(raw)) + raw)
    partial.replace(path)
    return raws, False


def run() -> None:
    """Print the rebuild, incremental and query figures."""
    total = int(os.environ.get("SAMOORG_BENCH_COMMUNITY_N", "1000000"))
    baseline = verify_rate()
    start = time.perf_counter()
    raws, cached = load_or_generate(total)
    took = time.perf_counter() - start
    print(f"  {len(raws):,} entries {'read from cache' if cached else 'generated'} in {took:.1f}s")
    # As `samoorg` loads a store (cli/community.load_views): with the cyclic GC paused.
    start = time.perf_counter()
    with paused_gc():
        entries = [decode_entry(raw, verify_signature=False) for raw in raws]
    took = time.perf_counter() - start
    report("decode stored entries (no signature check)", len(entries) / took, "entries/s", baseline)

    start = time.perf_counter()
    with paused_gc():
        views = Views(EntryIndex(entries))
        invalid = len(views.invalid())  # every object resolved
    took = time.perf_counter() - start
    note = f"{took:.1f}s for {len(entries):,}"
    report(
        "full rebuild: index + trust + pledge views",
        len(entries) / took,
        "entries/s",
        baseline,
        note,
    )
    start = time.perf_counter()
    digests = views.digests()
    took = time.perf_counter() - start
    report(
        "state digests of every view", len(entries) / took, "entries/s", baseline, f"{took:.2f}s"
    )
    del views

    cut = len(entries) * 9 // 10
    half = cut + (len(entries) - cut) // 2
    with paused_gc():
        index = EntryIndex(entries[:cut])
        views = Views(index)
        views.invalid()
    probe = entries[0].id

    def incremental(batch: list[Entry]) -> float:
        start = time.perf_counter()
        for begin in range(0, len(batch), 1000):
            for entry in batch[begin : begin + 1000]:
                index.add(entry)
            views.trust.outcome(probe)  # brings the trust view up to date
            views.pledges.pledge(probe)  # brings the pledge view up to date
        return len(batch) / (time.perf_counter() - start)

    # The same kind of work twice: the next 5% of entries with the collector
    # scanning everything loaded, the last 5% after gc.freeze(), as
    # `samoorg node run` does once its node has loaded the store.
    unfrozen = incremental(entries[cut:half])
    report("incremental: batches of 1,000, GC not frozen", unfrozen, "entries/s", baseline)
    gc.freeze()
    frozen = incremental(entries[half:])
    note = f"{frozen / unfrozen:.1f}x the unfrozen rate"
    report("incremental: batches of 1,000, after gc.freeze()", frozen, "entries/s", baseline, note)
    assert views.digests() == digests, "incremental update differs from the full rebuild"
    print("  incremental state digests equal the full rebuild's")

    me = entries[0].author
    start = time.perf_counter()
    pool = views.trust.pool(me)
    took = time.perf_counter() - start
    report("trust pool over the whole list", took * 1000, "ms", None, f"{pool.members:,} members")
    debts = views.pledges.debts()
    start = time.perf_counter()
    netting = suggest_netting(debts)
    took = time.perf_counter() - start
    note = f"{len(debts):,} debts, {len(netting.cycles):,} cycles cancelled"
    report("netting over the whole ledger", took * 1000, "ms", None, note)
    print(f"  {invalid:,} entries ignored by the views (rule violations and their consequences)")
    gc.unfreeze()
