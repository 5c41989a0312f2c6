"""How commands print: JSON for machines, tables for people, one line for errors.

Times. Every time in JSON output is RFC 3339 UTC with milliseconds
(``2025-07-01T18:00:00.250Z``): a command puts a millisecond timestamp in its
row as an :class:`Instant` (:func:`instant`), which :func:`jsonable` writes in
that one format; :mod:`samoorg.node.api.times` has the rules, shared with the
API.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from samoorg.node.api.shapes import entry_json, jsonable
from samoorg.node.api.times import Instant, format_time, instant, rfc3339

if TYPE_CHECKING:
    from samoorg.node.names import Names

__all__ = [
    "Instant",
    "count",
    "entry_json",
    "fail_line",
    "format_time",
    "instant",
    "jsonable",
    "print_json",
    "print_table",
    "rfc3339",
]


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to stdout, the name beside every peer id.

    The names (``node/names.py``: a ``<field>_name`` beside each peer id field)
    are those of the running command's session, read only if ``value`` holds
    a peer id.
    """
    import json  # imported here: `whoami` without --json should not pay for it

    from samoorg.node.names import with_names

    named = with_names(jsonable(value), _session_names)
    sys.stdout.write(json.dumps(named, indent=2, ensure_ascii=False, sort_keys=False))
    sys.stdout.write("\n")


def _session_names() -> Names:
    from typer._click.globals import get_current_context

    from samoorg.cli.context import Session
    from samoorg.node.errors import NodeError
    from samoorg.node.names import Names

    ctx = get_current_context(silent=True)
    obj = None if ctx is None else ctx.find_root().obj
    if not isinstance(obj, Session):
        return Names()
    try:
        return obj.names()
    except NodeError:
        # Names only decorate the answer; an unreadable store fails elsewhere.
        return Names()


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A readable table (rich, imported only when a table is printed).

    A plain table that fits the width, printed to a file or pipe, is laid out
    here (:func:`plain_table`) exactly as rich lays it out, without importing
    rich (a fifth of a listing command's time through the daemon).
    """
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    width = max(100, _terminal_width())
    if title is None and not sys.stdout.isatty():
        plain = plain_table(columns, cells, width)
        if plain is not None:
            sys.stdout.write(plain)
            return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in cells:
        table.add_row(*row)
    # Cells are people's text: printed as they are, never read as markup or emoji codes.
    Console(soft_wrap=False, width=width, markup=False, emoji=False).print(table)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str | None:
    """The text rich prints for this table without styles, or ``None`` if rich would do
    more than pad the cells (a table wider than ``width``, a cell that is not plain
    one-width text): rich then lays it out."""
    if any(len(row) != len(columns) for row in rows):
        return None
    for text in (*columns, *(cell for row in rows for cell in row)):
        if not _plain(text):
            return None
    widths = [max([len(c), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    if sum(widths) + 3 * len(widths) - 1 > width or not widths:
        return None

    def line(cells: Sequence[str], bar: str) -> str:
        return " " + f" {bar} ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " "

    rule = "╇".join("━" * (w + 2) for w in widths)
    lines = [line(columns, "┃"), rule, *(line(row, "│") for row in rows)]
    return "\n".join(lines) + "\n"


_PLAIN_EXTRA = frozenset("…")
"""Characters besides printable ASCII that rich counts as one cell wide."""


def _plain(text: str) -> bool:
    """Whether rich prints ``text`` as it is: printable, one cell per character (markup and
    emoji codes are off: :func:`print_table`)."""
    return all((" " <= c <= "~") or c in _PLAIN_EXTRA for c in text)


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
