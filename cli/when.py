"""Times on the command line: durations (``14d``) and dates (``2025-07-01``).

Entry timestamps are UTC milliseconds; so are the values returned here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation

_UNITS: Final = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION: Final = re.compile(r"(\d{1,6})([smhdw])")


def parse_duration(text: str) -> int:
    """``"14d"`` -> milliseconds. Units: s, m (minutes), h, d, w."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise MalformedInput(f"expected a duration such as 90m, 12h, 14d or 2w, found {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_when(text: str, now: int) -> int:
    """A date (``2025-07-01``, end of that day UTC), a date-time, or a duration from ``now``."""
    if _DURATION.fullmatch(text.strip().lower()):
        return now + parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MalformedInput(
            f"expected a date such as 2025-07-01, 2025-07-01T18:00 or a duration "
            f"such as 30d, found {text!r}"
        ) from None
    if len(text.strip()) == 10:  # a bare date means the end of that day
        moment = moment.replace(hour=23, minute=59, second=59)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_future(text: str, now: int, what: str) -> int:
    """:func:`parse_when`, refusing a moment that is not after ``now``.

    ``what`` names the moment in the refusal (``"a due date"``, ``"a deadline"``).
    """
    moment = parse_when(text, now)
    if moment <= now:
        from samoorg.cli.output import format_time

        raise RuleViolation(f"expected {what} in the future, found {format_time(moment)} UTC")
    return moment
