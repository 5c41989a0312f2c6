"""Deterministic CBOR (RFC 8949 §4.2.1) restricted to the Samoorg data model.

The data model is deliberately small, so that every value has exactly one
encoding and a second implementation needs no CBOR library features beyond
the basics:

=========  ==========================================================
CBOR       Python
=========  ==========================================================
uint/nint  ``int`` in ``[-2**64, 2**64 - 1]`` (major types 0 and 1)
bstr       ``bytes`` (definite length)
tstr       ``str`` (definite length, valid UTF-8)
array      ``list`` (definite length)
map        ``dict`` with ``str`` keys, sorted, no duplicates
simple     ``False``, ``True``, ``None`` (0xf4, 0xf5, 0xf6)
=========  ==========================================================

No tags, no floats, no ``undefined``, no indefinite lengths. Integers and
lengths use the shortest head. Map keys are sorted by their encoded bytes,
which for text keys is "shorter first, then bytewise".

Theory of operation: decoding is ``cbor2.loads`` (fast, C) followed by a walk
that enforces the data model and the depth limit, and a re-encode that must
reproduce the input byte for byte. The re-encode check rejects every
non-canonical form at once: long heads, unsorted or duplicate keys, indefinite
lengths, trailing bytes, and tags that cbor2 would silently fold into a value.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import cbor2

from samoorg.protocol.errors import LocalProtocolError, RemoteProtocolError, TooLarge

Value: TypeAlias = bool | int | bytes | str | list["Value"] | dict[str, "Value"] | None

MAX_DEPTH: Final = 16
"""Maximum nesting of arrays and maps; the top-level value has depth 1."""

INT_MIN: Final = -(2**64)
INT_MAX: Final = 2**64 - 1


class MalformedCBOR(RemoteProtocolError):
    """Bytes are not deterministic CBOR within the Samoorg data model."""


class UnencodableValue(LocalProtocolError):
    """A Python value lies outside the Samoorg data model."""


def _describe(value: object) -> str:
    return type(value).__name__


def check_value(value: object, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`UnencodableValue` unless ``value`` is in the data model."""
    problem = _first_problem(value, 1, max_depth)
    if problem is not None:
        raise UnencodableValue(problem)


def _first_problem(value: object, depth: int, max_depth: int) -> str | None:
    # Returns a description of the first violation, or None. Iterative over
    # siblings, recursive over depth, and depth is capped, so cyclic values
    # (which cbor2 can build from tags 28/29) terminate.
    if depth > max_depth:
        return f"nesting deeper than {max_depth} levels"
    kind = type(value)
    if kind is bool or value is None or kind is bytes or kind is str:
        return None
    if kind is int:
        if INT_MIN <= value <= INT_MAX:  # type: ignore[operator]
            return None
        return f"integer outside [-2**64, 2**64-1]: {value}"
    if kind is list:
        for item in value:  # type: ignore[attr-defined]
            problem = _first_problem(item, depth + 1, max_depth)
            if problem is not None:
                return problem
        return None
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                return f"map key must be a text string, found {_describe(key)}"
            problem = _first_problem(item, depth + 1, max_depth)
            if problem is not None:
                return problem
        return None
    return f"unsupported type {_describe(value)} (allowed: int, bytes, str, list, dict, bool, None)"


def encode(value: Value) -> bytes:
    """Encode ``value`` deterministically.

    Raises :class:`UnencodableValue` if it is outside the data model.
    """
    check_value(value)
    return bytes(cbor2.dumps(value, canonical=True))


def decode(data: bytes, *, max_size: int, max_depth: int = MAX_DEPTH) -> Value:
    """Decode one deterministic CBOR item that fills ``data`` exactly.

    Raises :class:`TooLarge` if ``len(data) > max_size`` and
    :class:`MalformedCBOR` for anything else that is not the unique
    deterministic encoding of a value in the data model.
    """
    if len(data) > max_size:
        raise TooLarge(f"expected at most {max_size} bytes of CBOR, found {len(data)}")
    if not data:
        raise MalformedCBOR("expected a CBOR item, found 0 bytes")
    try:
        value: Any = cbor2.loads(data)
    # cbor2 runs semantic-tag handlers (dates, decimals, regexes, MIME, ...)
    # that raise assorted exception types on hostile input. Our contract is
    # that only our own errors leave a decoder, so everything is mapped here.
    except Exception as exc:  # noqa: BLE001
        raise MalformedCBOR(f"expected well-formed CBOR, found {_summarize(exc)}") from None
    problem = _first_problem(value, 1, max_depth)
    if problem is not None:
        if problem.startswith("nesting"):
            raise TooLarge(f"expected CBOR nesting of at most {max_depth}, found deeper")
        raise MalformedCBOR(f"expected the Samoorg CBOR data model, found {problem}")
    if cbor2.dumps(value, canonical=True) != data:
        raise MalformedCBOR(
            "expected deterministic CBOR (shortest heads, sorted unique keys, "
            "definite lengths, no tags, no trailing bytes), found another encoding"
        )
    return value  # type: ignore[no-any-return]


def _summarize(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
