"""Feed validation: does an entry extend its author's feed?

A feed is the chain ``e1 <- e2 <- ...`` where ``e1.seq == 1``,
``e1.prev is None`` and ``e(n+1).prev == id(e(n))``. Given what we hold of a
feed (its head, and the stored entry at a sequence number when we need it),
:func:`check_extends` classifies a verified entry as *next*, *duplicate*, or
raises a :class:`~samoorg.protocol.errors.FeedError`:

* ``WrongSequence``: a gap (seq beyond head + 1) or a first entry not at 1;
* ``BrokenBacklink``: seq is head + 1 but prev is not the head's id. With a
  valid signature this proves a fork, so the error carries a ``ForkProof``;
* ``ForkDetected``: seq is at or below the head and the entry differs from the
  one we hold there; carries a ``ForkProof``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from samoorg.protocol.entry import Entry
from samoorg.protocol.errors import BrokenBacklink, ForkDetected, WrongSequence
from samoorg.protocol.fork import ForkProof
from samoorg.protocol.ids import peer_id


@dataclass(frozen=True, slots=True)
class FeedHead:
    """The latest entry we hold of one author's feed."""

    author: bytes
    seq: int
    id: bytes


class Placement(enum.Enum):
    """Where a verified entry falls relative to the feed we hold."""

    NEXT = "next"
    DUPLICATE = "duplicate"


def check_extends(
    head: FeedHead | None, entry: Entry, held: Callable[[int], Entry | None]
) -> Placement:
    """Classify a verified ``entry`` against the feed whose head is ``head``.

    ``held(seq)`` returns the entry we hold at ``seq`` of the same feed; it is
    called only when a conflict must be checked or proven. Raises a
    ``FeedError`` subclass.
    """
    if head is None:
        if entry.seq != 1:
            raise WrongSequence(
                f"expected seq 1 for a new feed of {peer_id(entry.author)[:16]}…, found {entry.seq}"
            )
        return Placement.NEXT
    if entry.seq == head.seq + 1:
        if entry.prev == head.id:
            return Placement.NEXT
        previous = held(head.seq)
        raise BrokenBacklink(
            f"expected prev {head.id.hex()[:16]}… (id of seq {head.seq}), "
            f"found {entry.prev.hex()[:16] if entry.prev else None}…",
            ForkProof.of(previous, entry) if previous is not None else None,
        )
    if entry.seq > head.seq + 1:
        raise WrongSequence(
            f"expected seq {head.seq + 1} (next after head), found {entry.seq}: a gap"
        )
    ours = held(entry.seq)
    if ours is None:
        raise WrongSequence(
            f"expected seq {head.seq + 1} or an entry we hold, found {entry.seq} unchecked"
        )
    if ours.id == entry.id:
        return Placement.DUPLICATE
    raise ForkDetected(
        f"expected entry {ours.id.hex()[:16]}… at seq {entry.seq}, found another "
        f"({entry.id.hex()[:16]}…): the author forked the feed",
        ForkProof.of(ours, entry),
    )
