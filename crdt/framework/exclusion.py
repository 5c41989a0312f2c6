"""The one reason every view gives for ignoring a forked author's entries.

An author flagged by a verified fork proof signed two histories, and honest
nodes may hold different ones, so every view ignores all of that author's
entries (:class:`~samoorg.crdt.framework.views.Views` enforces it for every domain).
"""

from __future__ import annotations

from typing import Final

from samoorg.crdt.framework.reasons import Reason, ReasonCode

FORKED_REASON: Final = Reason(
    ReasonCode.FORKED_AUTHOR,
    "author is flagged as forked (a fork proof exists); every view ignores their entries",
)
