"""Entries a view ignores, with the reason kept.

A correctly signed entry can still break a community rule (a rating off the
scale, a vote for an option the poll does not have, anything from a forked
author). Views never raise on such an entry: they skip it and record a
:class:`Rejected` so that ``samoorg log --invalid`` can show why.
"""

from __future__ import annotations

from dataclasses import dataclass

from samoorg.protocol.entry import Entry

FORKED_REASON = "author is flagged as forked (a fork proof exists); their entries are excluded"


@dataclass(frozen=True, slots=True, order=True)
class Rejected:
    """One ignored entry and the rule it breaks (ordered by entry id)."""

    entry_id: bytes
    kind: str
    author: bytes
    reason: str

    @classmethod
    def of(cls, entry: Entry, reason: str) -> Rejected:
        """The rejection record of ``entry``."""
        return cls(entry.id, entry.kind, entry.author, reason)
