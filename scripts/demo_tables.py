"""Compact rendering of the CLI's JSON for ``make demo``.

The demo runs every command with ``--json`` and prints what came back through
:class:`Render`: participant ids become the people's names, 64-digit hex ids
their first 8 digits (a prefix the CLI accepts back), amounts ``{"EUR":
"100.00"}`` become ``100.00 EUR``. Nothing is computed here: every value
printed is a value the CLI printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

HEX_ID = re.compile(r"[0-9a-f]{64}")
PEER_ID = re.compile(r"12D3KooW[1-9A-HJ-NP-Za-km-z]{44}")
CURRENCY = re.compile(r"[A-Z]{3}")
SHORT = 8
"""Digits of a hex id the demo prints (and passes back to the CLI)."""
INDENT = "   "

Column = tuple[str, str | Callable[[Mapping[str, Any]], Any]]
"""A table column: its header, and the JSON key (or a function of the row) it shows."""


class Render:
    """Turns CLI JSON values into short, readable text."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def name(self, peer: str, person: str) -> None:
        """Print ``person`` wherever the participant id ``peer`` appears."""
        self.names[peer] = person

    def text(self, value: Any) -> str:
        """One JSON value as compact text."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str):
            return value[:SHORT] if HEX_ID.fullmatch(value) else self.ids(value)
        if isinstance(value, Mapping):
            if value and all(isinstance(k, str) and CURRENCY.fullmatch(k) for k in value):
                return " + ".join(f"{amount} {code}" for code, amount in value.items())
            return " ".join(f"{k}={self.text(v)}" for k, v in value.items())
        if isinstance(value, list | tuple):
            return ", ".join(self.text(v) for v in value)
        return str(value)

    def ids(self, text: str) -> str:
        """Text (an address, an error line) with participant ids replaced by names."""
        return PEER_ID.sub(lambda m: self.names.get(m.group(), m.group()), text)

    def fields(self, record: Mapping[str, Any], keys: Sequence[str]) -> str:
        """``key value; key value`` for the chosen keys of one JSON object."""
        return "; ".join(f"{key.replace('_', ' ')} {self.text(record.get(key))}" for key in keys)

    def chain(self, key: str, separator: str = " > ") -> Callable[[Mapping[str, Any]], str]:
        """A column showing the list under ``key`` joined by ``separator``."""

        def show(row: Mapping[str, Any]) -> str:
            return separator.join(self.text(item) for item in row.get(key) or [])

        return show

    def table(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
        """A plain-text table of JSON objects, one row each."""
        cells = [[header for header, _ in columns]]
        for row in rows:
            cells.append(
                [
                    self.text(row.get(how) if isinstance(how, str) else how(row))
                    for _, how in columns
                ]
            )
        widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(INDENT + line.rstrip() for line in lines)
