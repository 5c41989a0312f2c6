"""The validity rule of entries within a feed (docs/protocol.md §4.1), as pure code.

An entry that passes the checks of §2.6 is *authenticated* when its own
signature verifies, or when a later entry of the same feed whose signature
verifies commits to it through the hash links (each ``prev`` is the id of the
entry one seq below). The store applies this rule on every write path; this
module only decides, it stores nothing.

Two shapes of input occur:

* replication delivers **hash-linked runs** (:func:`linked_runs`), where one
  signature check at the end of a run authenticates the whole run;
* bundles and the fallback path check every signature and then need
  :func:`authenticate` to keep an entry whose own signature failed only when
  an accepted entry at the next seq links to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from samoorg.protocol.entry import Entry
from samoorg.protocol.errors import BadSignature


def linked_runs(entries: Sequence[Entry]) -> Iterator[list[Entry]]:
    """Cut ``entries`` into maximal runs of one author, each seq one more and linked by ``prev``."""
    run: list[Entry] = []
    author, seq, eid = b"", -1, b""
    for entry in entries:
        if entry.seq == seq + 1 and entry.prev == eid and entry.author == author:
            run.append(entry)
        else:
            if run:
                yield run
            run = [entry]
            author = entry.author
        seq, eid = entry.seq, entry.id
    if run:
        yield run


@dataclass(slots=True)
class Authenticated:
    """A batch sorted by (author, seq), split by the validity rule.

    ``valid`` keeps the accepted ``(index, entry)`` pairs in order;
    ``rejected`` the others with their signature error. ``unsigned`` holds the
    ids of entries accepted without a valid signature of their own;
    ``vouchers`` maps ``(author, seq, id)`` of each entry some accepted entry
    commits to (through its ``prev``) to that entry.
    """

    valid: list[tuple[int, Entry]]
    rejected: list[tuple[int, Entry, BadSignature]] = field(default_factory=list)
    unsigned: set[bytes] = field(default_factory=set)
    vouchers: dict[tuple[bytes, int, bytes], Entry] = field(default_factory=dict)


def authenticate(
    batch: list[tuple[int, Entry]], checks: Sequence[BadSignature | None]
) -> Authenticated:
    """Apply the validity rule within one batch sorted by (author, seq).

    ``checks[i]`` is the result of checking ``batch[i]``'s own signature.
    Walking each feed from its highest seq down decides every entry: it is
    accepted if its signature verified or an accepted entry of the same author
    at the next seq links to it.
    """
    result = Authenticated([])
    vouchers = result.vouchers
    for (index, entry), error in zip(reversed(batch), reversed(checks), strict=True):
        key = (entry.author, entry.seq, entry.id)
        if error is not None and key not in vouchers:
            result.rejected.append((index, entry, error))
            continue
        if error is not None:
            result.unsigned.add(entry.id)
        result.valid.append((index, entry))
        if entry.prev is not None:
            vouchers.setdefault((entry.author, entry.seq - 1, entry.prev), entry)
    result.valid.reverse()
    result.rejected.reverse()
    return result
