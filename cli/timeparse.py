"""Dates and durations on the command line, as millisecond UTC timestamps.

Accepted: ``2026-12-01`` (midnight UTC), ``2026-12-01T18:30`` or
``2026-12-01 18:30`` (UTC), and durations from now such as ``90m``, ``12h``,
``14d``, ``2w``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from samoorg.crdt.errors import RuleViolation

_DURATION: Final = re.compile(r"(\d{1,6})([mhdw])")
_UNIT_MS: Final = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def parse_when(text: str, now_ms: int) -> int:
    """A future moment as milliseconds since the epoch; raises :class:`RuleViolation`."""
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if match:
        return now_ms + int(match.group(1)) * _UNIT_MS[match.group(2)]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RuleViolation(
            f"expected a date such as 2026-12-01, 2026-12-01T18:30 (UTC) or a duration "
            f"such as 14d, found {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
