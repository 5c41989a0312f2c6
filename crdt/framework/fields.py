"""Typed reads of entry body fields for the social record kinds.

Each reader returns the field with its Python type or raises
:class:`~samoorg.crdt.framework.errors.RuleViolation` naming the field, what was
expected and what was found. Views turn that into a rejection reason; the CLI
prints it as its one error line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from samoorg.crdt.algorithms.money import MAX_MINOR, Amount, check_currency
from samoorg.crdt.framework.errors import RuleViolation

if TYPE_CHECKING:  # kept out of start-up: CLI modules import kind names early
    from samoorg.protocol import dcbor

ID_SIZE = 32
"""Entry ids and author keys are both 32 bytes."""
KEY_SIZE = 32
"""An author key (Ed25519 public key)."""
MAX_NOTE = 1000
"""Characters of a free note (an invite's, a closing's)."""


def found(value: object) -> str:
    """How a reason names a field value that is not what was expected."""
    if value is None:
        return "nothing"
    if type(value) is bytes:
        return f"a {len(value)}-byte string"
    if type(value) is str:
        return f"text of {len(value)} characters"
    if type(value) is int:
        return str(value)
    return f"{type(value).__name__} {value!r}"[:60]


def read_text(
    body: Mapping[str, dcbor.Value], name: str, *, max_chars: int, required: bool = True
) -> str:
    """A text field of at most ``max_chars`` characters.

    A required field must hold more than white space; an optional one may be
    absent (read as ``""``) or empty.
    """
    value = body.get(name)
    if value is None and not required:
        return ""
    if type(value) is not str:
        wanted = "non-empty text" if required else "text"
        raise RuleViolation(f"expected {name!r} as {wanted}, found {found(value)}")
    if required and not value.strip():
        raise RuleViolation(f"expected a non-empty {name!r}")
    if len(value) > max_chars:
        raise RuleViolation(
            f"expected {name!r} of at most {max_chars} characters, found {len(value)}"
        )
    return value


def read_bytes(body: Mapping[str, dcbor.Value], name: str, size: int) -> bytes:
    """A byte-string field of exactly ``size`` bytes."""
    value = body.get(name)
    if type(value) is not bytes or len(value) != size:
        raise RuleViolation(f"expected {name!r} as a {size}-byte string, found {found(value)}")
    return value


def read_id(body: Mapping[str, dcbor.Value], name: str) -> bytes:
    """A 32-byte id field (an entry id or an author key)."""
    return read_bytes(body, name, ID_SIZE)


def read_integer(body: Mapping[str, dcbor.Value], name: str) -> int:
    """An integer field of any value in the data model."""
    value = body.get(name)
    if type(value) is not int:
        raise RuleViolation(f"expected {name!r} as an integer, found {found(value)}")
    return value


def read_int(body: Mapping[str, dcbor.Value], name: str, low: int, high: int) -> int:
    """An integer field in ``[low, high]``."""
    value = body.get(name)
    if type(value) is not int or not low <= value <= high:
        raise RuleViolation(f"expected {name!r} as an integer {low}..{high}, found {found(value)}")
    return value


def read_choice(body: Mapping[str, dcbor.Value], name: str, choices: tuple[str, ...]) -> str:
    """A text field that must be one of ``choices``."""
    value = body.get(name)
    if not isinstance(value, str) or value not in choices:
        raise RuleViolation(
            f"expected {name!r} as one of {', '.join(choices)}, found {found(value)}"
        )
    return value


def read_optional_time(body: Mapping[str, dcbor.Value], key: str) -> int | None:
    """An optional time in milliseconds (absent or null: ``None``)."""
    if body.get(key) is None:
        return None
    value = read_integer(body, key)
    if value < 0:
        raise RuleViolation(f"expected {key!r} as a time in milliseconds, found {value}")
    return value


def check_minor(minor: int) -> None:
    """Raise unless ``0 < minor <= MAX_MINOR`` (an amount whose currency is known elsewhere)."""
    if minor <= 0:
        raise RuleViolation(f"expected a positive amount, found {minor} minor units")
    if minor > MAX_MINOR:
        raise RuleViolation(f"amount {minor} exceeds the limit of {MAX_MINOR} minor units")


def read_amount(body: Mapping[str, dcbor.Value], key: str = "amount") -> Amount:
    """A positive amount: minor units in ``key`` and an ISO 4217 code in ``"currency"``."""
    currency = body.get("currency")
    if type(currency) is not str:
        raise RuleViolation(f"expected 'currency' as an ISO 4217 code, found {found(currency)}")
    amount = Amount(check_currency(currency), read_integer(body, key))
    amount.check_positive()
    return amount


def amount_fields(amount: Amount, key: str = "amount") -> dict[str, dcbor.Value]:
    """The body fields of an amount: ``{key: minor units, "currency": code}``."""
    return {key: amount.minor, "currency": amount.currency}
