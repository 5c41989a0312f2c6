"""Times in answers: RFC 3339 UTC in JSON, plain UTC text for people.

Every time in JSON output (the CLI's ``--json`` and the API alike) is RFC 3339
UTC with milliseconds, ``2025-07-01T18:00:00.250Z`` (:func:`rfc3339`). A shape
builder puts a millisecond timestamp in its answer as an :class:`Instant`
(:func:`instant`), which stays an ``int`` for sorting and which
:func:`~samoorg.node.api.shapes.jsonable` writes in that one format. Tables
and lines for people show :func:`format_time`, which reads either a timestamp
or the RFC 3339 text of an answer, so a command renders the daemon's answer
and its own offline result identically.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final


class Instant(int):
    """A time in milliseconds since the Unix epoch that JSON output writes as RFC 3339."""

    __slots__ = ()


def instant(ms: int | None) -> Instant | None:
    """``ms`` marked as a time for JSON output (``None`` stays ``None``)."""
    return None if ms is None else Instant(ms)


_MAX_MS: Final = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the last instant RFC 3339 (four-digit years) can write."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(ms: int) -> datetime:
    # Integer arithmetic (no float seconds): exact to the millisecond.
    return _EPOCH + timedelta(milliseconds=max(0, min(ms, _MAX_MS)))


def rfc3339(ms: int) -> str:
    """``ms`` since the epoch as RFC 3339 UTC with milliseconds, ``2025-07-01T18:00:00.250Z``.

    Times outside years 0001-9999 (a peer may sign any integer) are clamped to that range.
    """
    moment = _utc(ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def format_time(when: int | str) -> str:
    """A time for people, ``2025-07-01 18:00:00`` (UTC), from milliseconds or RFC 3339 text."""
    if isinstance(when, str):
        return f"{when[:10]} {when[11:19]}"
    return f"{_utc(when):%Y-%m-%d %H:%M:%S}"


def parse_rfc3339(text: str, what: str = "a time") -> int:
    """RFC 3339 text with a zone (``2025-07-01T18:00:00.250Z``) as milliseconds since the epoch.

    Raises :class:`~samoorg.crdt.framework.errors.MalformedInput` for anything else (a
    bare date, no zone), so the API refuses it as the CLI refuses a bad time.
    """
    from samoorg.crdt.framework.errors import MalformedInput

    cleaned = text.strip()
    try:
        moment = datetime.fromisoformat(cleaned) if len(cleaned) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in cleaned.upper():
        raise MalformedInput(
            f"expected {what} in RFC 3339 (2025-07-01T18:00:00Z), found {text[:40]!r}"
        )
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
