"""How commands print: JSON for machines, tables for people, one line for errors.

Times. Every time in JSON output is RFC 3339 UTC with milliseconds
(``2025-07-01T18:00:00.250Z``, :func:`rfc3339`): a command puts a millisecond
timestamp in its row as an :class:`Instant` (:func:`instant`), which stays an
``int`` for sorting and tables (:func:`format_time`) and which :func:`jsonable`
writes in that one format.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from datetime import datetime

    from samoorg.protocol.entry import Entry


class Instant(int):
    """A time in milliseconds since the Unix epoch that JSON output writes as RFC 3339."""

    __slots__ = ()


def instant(ms: int | None) -> Instant | None:
    """``ms`` marked as a time for JSON output (``None`` stays ``None``)."""
    return None if ms is None else Instant(ms)


_MAX_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the last instant RFC 3339 (four-digit years) can write."""


def _utc(ms: int) -> datetime:
    from datetime import UTC, datetime, timedelta

    # Integer arithmetic (no float seconds): exact to the millisecond.
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=max(0, min(ms, _MAX_MS)))


def rfc3339(ms: int) -> str:
    """``ms`` since the epoch as RFC 3339 UTC with milliseconds, ``2025-07-01T18:00:00.250Z``.

    Times outside years 0001-9999 (a peer may sign any integer) are clamped to that range.
    """
    moment = _utc(ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def jsonable(value: Any) -> Any:
    """Convert values for JSON: bytes become lowercase hex, instants RFC 3339 text."""
    if isinstance(value, Instant):
        return rfc3339(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to stdout."""
    import json  # imported here: `whoami` without --json should not pay for it

    sys.stdout.write(json.dumps(jsonable(value), indent=2, ensure_ascii=False, sort_keys=False))
    sys.stdout.write("\n")


def entry_json(entry: Entry) -> dict[str, Any]:
    """The JSON shape of an entry in ``samoorg log --json``."""
    return {
        "id": entry.id.hex(),
        "author": peer_id(entry.author),
        "seq": entry.seq,
        "prev": entry.prev.hex() if entry.prev else None,
        "timestamp": Instant(entry.timestamp),
        "kind": entry.kind,
        "body": jsonable(entry.body),
    }


def format_time(ms: int) -> str:
    """A millisecond timestamp as local-independent UTC text for people (tables, lines)."""
    return f"{_utc(ms):%Y-%m-%d %H:%M:%S}"


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A readable table (rich, imported only when a table is printed)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console(soft_wrap=False, width=max(100, _terminal_width())).print(table)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def fail_line(message: str) -> str:
    """One human line: newlines folded, prefixed with ``error:``."""
    text = " ".join(str(message).split())
    return f"error: {text}"


def count(number: int, singular: str, plural: str | None = None) -> str:
    """``"1 entry"``, ``"2 entries"``: a number with the right form of the noun."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
