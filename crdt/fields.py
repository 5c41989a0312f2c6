"""Typed reads of entry body fields for the social record kinds.

Each reader returns the field with its Python type or raises
:class:`~samoorg.crdt.errors.RuleViolation` naming the field, what was
expected and what was found. Views turn that into a rejection reason; the CLI
prints it as its one error line.
"""

from __future__ import annotations

from collections.abc import Mapping

from samoorg.crdt.errors import RuleViolation
from samoorg.protocol import dcbor

ID_SIZE = 32
"""Entry ids and author keys are both 32 bytes."""


def _found(value: object) -> str:
    if isinstance(value, bytes):
        return f"a {len(value)}-byte string"
    if isinstance(value, str):
        return f"text of {len(value)} characters"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{type(value).__name__} {value!r}"[:60]


def read_text(
    body: Mapping[str, dcbor.Value], name: str, *, max_chars: int, required: bool = True
) -> str:
    """A text field of 1..``max_chars`` characters (``""`` if optional and absent)."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(f"expected {name!r} as non-empty text, found {_found(value)}")
    if len(value) > max_chars:
        raise RuleViolation(
            f"expected {name!r} of at most {max_chars} characters, found {len(value)}"
        )
    return value


def read_id(body: Mapping[str, dcbor.Value], name: str) -> bytes:
    """A 32-byte id field (an entry id or an author key)."""
    value = body.get(name)
    if not isinstance(value, bytes) or len(value) != ID_SIZE:
        raise RuleViolation(f"expected {name!r} as a {ID_SIZE}-byte id, found {_found(value)}")
    return value


def read_int(body: Mapping[str, dcbor.Value], name: str, low: int, high: int) -> int:
    """An integer field in ``[low, high]``."""
    value = body.get(name)
    if type(value) is not int or not low <= value <= high:
        raise RuleViolation(f"expected {name!r} as an integer {low}..{high}, found {_found(value)}")
    return value


def read_choice(body: Mapping[str, dcbor.Value], name: str, choices: tuple[str, ...]) -> str:
    """A text field that must be one of ``choices``."""
    value = body.get(name)
    if not isinstance(value, str) or value not in choices:
        raise RuleViolation(
            f"expected {name!r} as one of {', '.join(choices)}, found {_found(value)}"
        )
    return value
