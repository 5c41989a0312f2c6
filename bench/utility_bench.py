"""``utility`` for a generated community: 10,000 members and 100,000 ratings.

Two measurements, each printed in milliseconds and as "equivalent signature
checks" (time x the same-run PyNaCl verify rate):

1. **algorithm input**: :func:`compute_utility` on a member set and a
   ``(rater, ratee) -> weight`` map built directly (no entries).
2. **from entries**: 100,000 real signed ``rating`` entries in an
   :class:`EntryIndex`; times the ratings fold, the cross-entry rules and the
   utility iteration (``Views(index).social(root, members=...)``). The trust
   list is passed in as the 10,000 member keys rather than built from 20,000
   invite entries, so this measures the social views alone.

The rating graph is skewed like real communities: ratees are drawn with
probability rising towards a few popular members (``index = n * u**2``).
Goal: under 2 s for each.
"""

from __future__ import annotations

import random
import time

from bench.baseline import report, verify_rate
from samoorg.crdt.algorithms.utility import compute_utility
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds import ratings
from samoorg.crdt.kinds.social import social_views
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import Entry, create_entry

MEMBERS = 10_000
RATINGS = 100_000
SEED = 20_240_601


def _pairs(rng: random.Random) -> list[tuple[int, int, int]]:
    """``(rater, ratee, score)`` triples with distinct (rater, ratee) pairs."""
    seen: set[tuple[int, int]] = set()
    triples: list[tuple[int, int, int]] = []
    while len(triples) < RATINGS:
        rater = rng.randrange(MEMBERS)
        ratee = int(MEMBERS * rng.random() ** 2)
        if rater == ratee or (rater, ratee) in seen:
            continue
        seen.add((rater, ratee))
        triples.append((rater, ratee, rng.randint(0, 5)))
    return triples


def _entries(keys: list[Signer], triples: list[tuple[int, int, int]]) -> list[Entry]:
    heads: dict[int, tuple[int, bytes | None]] = {}
    entries: list[Entry] = []
    for rater, ratee, score in triples:
        seq, prev = heads.get(rater, (0, None))
        body = ratings.rating_body(ratings.ABOUT_MEMBER, keys[ratee].public_key, score)
        entry = create_entry(
            keys[rater],
            seq=seq + 1,
            prev=prev,
            timestamp=1_700_000_000_000,
            kind=ratings.KIND,
            body=body,
        )
        heads[rater] = (entry.seq, entry.id)
        entries.append(entry)
    return entries


def run() -> None:
    """Measure and print both figures."""
    rate = verify_rate()
    rng = random.Random(SEED)
    signers = [Signer(rng.randbytes(32)) for _ in range(MEMBERS)]
    members = [s.public_key for s in signers]
    triples = _pairs(rng)

    weights = {(members[i], members[j]): score for i, j, score in triples}
    start = time.perf_counter()
    result = compute_utility(members, weights)
    seconds = time.perf_counter() - start
    report(
        "utility 10k members/100k ratings (algorithm input)",
        seconds * 1000,
        "ms",
        note=f"= {seconds * rate:,.0f} signature checks; {result.iterations} iterations, "
        f"{result.edges} edges, converged={result.converged}; goal < 2000 ms",
    )

    entries = _entries(signers, triples)
    index = EntryIndex(entries)
    start = time.perf_counter()
    views = social_views(Views(index), members[0], members=members)
    seconds = time.perf_counter() - start
    assert views.utility.standing == result.standing  # same answer by both routes
    report(
        "utility 10k/100k from signed rating entries",
        seconds * 1000,
        "ms",
        note=f"= {seconds * rate:,.0f} signature checks; fold + rules + iteration; goal < 2000 ms",
    )
