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

Theory of operation: decoding input that may be hostile is two steps.
First :func:`scan` reads the bytes once, front to back, looking only at the
heads (string payloads are skipped by length) and refuses, at the first
offending byte, everything outside the data model and every non-canonical
form: tags (so no shared values, string references or bignums), indefinite
lengths, reserved or long heads, simple values other than false/true/null,
non-text or unsorted or repeated map keys, nesting beyond the limit, counts
larger than the bytes left, and trailing bytes. No value is built before that
pass succeeds, and the pass costs time linear in the input and memory linear
in its depth. Then ``cbor2.loads`` (fast, C) builds the value; with no tags
the value it builds is no larger than the input, and the only check left to
it is UTF-8 validity of text strings.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    """Raise :class:`UnencodableValue` unless ``value`` is in the data model.

    For values built locally (the encoder's input); decoded input is checked
    on its bytes by :func:`scan` instead.
    """
    problem = _value_problem(value, 1, max_depth)
    if problem is not None:
        raise UnencodableValue(problem)


def _value_problem(value: object, depth: int, max_depth: int) -> str | None:
    kind = type(value)
    if kind is str or kind is bytes or kind is bool or value is None:
        return None
    if kind is int:
        if INT_MIN <= value <= INT_MAX:  # type: ignore[operator]
            return None
        return f"integer outside [-2**64, 2**64-1]: {value}"
    if kind is dict:
        for key in value:  # type: ignore[attr-defined]
            if type(key) is not str:
                return f"map key must be a text string, found {_describe(key)}"
        items: Iterable[object] = value.values()  # type: ignore[attr-defined]
    elif kind is list:
        items = value  # type: ignore[assignment]
    else:
        return (
            f"unsupported type {_describe(value)} "
            "(allowed: int, bytes, str, list, dict, bool, None)"
        )
    if value and depth >= max_depth:
        return f"nesting deeper than {max_depth} levels"
    for item in items:
        problem = _value_problem(item, depth + 1, max_depth)
        if problem is not None:
            return problem
    return None


_SHORTEST: Final = {24: 24, 25: 1 << 8, 26: 1 << 16, 27: 1 << 32}
"""The smallest argument that may use each long head (additional information 24..27)."""
_MAJOR_NAMES: Final = (
    "unsigned integer",
    "negative integer",
    "byte string",
    "text string",
    "array",
    "map",
    "tag",
    "simple value",
)


def _simple_name(info: int) -> str:
    if info == 23:
        return "undefined"
    if 25 <= info <= 27:
        return "a floating point number"
    if info == 31:
        return "a break code outside an indefinite-length item"
    return "another simple value"


def scan(data: bytes, max_depth: int) -> None:
    """Raise unless ``data`` is exactly one item of the data model in its deterministic encoding.

    One pass, front to back, over the heads only (string payloads are
    skipped), so time is linear in ``len(data)`` and memory in the nesting
    depth. Raises at the first violation, in byte order.
    """
    n = len(data)
    pos = 0
    # The open containers: for each, the items still to read and, for a map,
    # the previous key's encoding (b"" before the first key; arrays hold None).
    stack: list[tuple[int, bytes | None]] = []
    remaining = 1  # items left at the current level; the top level holds one
    prev_key: bytes | None = None  # None: the current level is not a map
    while True:
        if not remaining:
            if not stack:
                break
            remaining, prev_key = stack.pop()
            continue
        if pos >= n:
            raise MalformedCBOR(f"expected another data item at byte {pos}, found the end")
        start = pos
        initial = data[pos]
        major = initial >> 5
        info = initial & 31
        pos += 1
        remaining -= 1
        if major == 7:
            if info < 20 or info > 22:
                raise MalformedCBOR(
                    f"expected false, true or null at byte {start}, found {_simple_name(info)}"
                )
            if prev_key is not None and remaining & 1:
                raise MalformedCBOR(f"map key must be a text string, found {_simple_name(info)}")
            continue
        if info < 24:
            argument = info
        elif info < 28:
            size = 1 << (info - 24)
            if pos + size > n:
                raise MalformedCBOR(
                    f"expected a {size}-byte head argument at byte {pos}, found the end"
                )
            argument = int.from_bytes(data[pos : pos + size], "big")
            pos += size
            if argument < _SHORTEST[info]:
                raise MalformedCBOR(
                    f"expected the shortest head at byte {start}, "
                    f"found {argument} in {size + 1} bytes"
                )
        elif info == 31:
            raise MalformedCBOR(f"expected a definite length at byte {start}, found indefinite")
        else:
            raise MalformedCBOR(
                f"expected a valid head at byte {start}, found reserved 0x{initial:02x}"
            )
        if major == 6:
            raise MalformedCBOR(f"expected no tags, found tag {argument} at byte {start}")
        if prev_key is not None and remaining & 1:
            # A key: a text string strictly after the previous key's encoding.
            if major != 3:
                raise MalformedCBOR(f"map key must be a text string, found {_MAJOR_NAMES[major]}")
            end = pos + argument
            if end > n:
                raise MalformedCBOR(
                    f"expected {argument} bytes of text at byte {pos}, found {n - pos}"
                )
            key = data[start:end]
            if key <= prev_key:
                raise MalformedCBOR(
                    f"map key at byte {start} out of deterministic order "
                    "(keys sort by UTF-8 length, then bytewise, without repeats)"
                )
            prev_key = key
            pos = end
            continue
        if major <= 1:
            continue
        if major <= 3:
            pos += argument
            if pos > n:
                raise MalformedCBOR(
                    f"expected {argument} bytes of {_MAJOR_NAMES[major]} at byte {pos - argument}, "
                    f"found {n - pos + argument}"
                )
            continue
        # An array (4) or a map (5): its items follow, each at least one byte.
        count = argument if major == 4 else 2 * argument
        if count:
            if count > n - pos:
                raise MalformedCBOR(
                    f"expected {count} items at byte {pos}, found only {n - pos} bytes left"
                )
            if len(stack) + 2 > max_depth:
                raise TooLarge(f"expected CBOR nesting of at most {max_depth} levels, found deeper")
            stack.append((remaining, prev_key))
            remaining = count
            prev_key = b"" if major == 5 else None
    if pos != n:
        raise MalformedCBOR(f"expected one data item, found {n - pos} trailing bytes")


def encode(value: Value) -> bytes:
    """Encode ``value`` deterministically.

    Raises :class:`UnencodableValue` if it is outside the data model.
    """
    check_value(value)
    try:
        return bytes(cbor2.dumps(value, canonical=True))
    except UnicodeEncodeError as exc:  # a str with lone surrogates has no UTF-8 form
        raise UnencodableValue(f"text string is not valid Unicode: {exc.reason}") from None


def decode(data: bytes, *, max_size: int, max_depth: int = MAX_DEPTH) -> Value:
    """Decode one deterministic CBOR item that fills ``data`` exactly.

    Raises :class:`TooLarge` if ``len(data) > max_size`` or the nesting exceeds
    ``max_depth``, and :class:`MalformedCBOR` for anything else that is not the
    unique deterministic encoding of a value in the data model.
    """
    if len(data) > max_size:
        raise TooLarge(f"expected at most {max_size} bytes of CBOR, found {len(data)}")
    if not data:
        raise MalformedCBOR("expected a CBOR item, found 0 bytes")
    if type(data) is not bytes:
        data = bytes(data)
    scan(data, max_depth)
    try:
        value: Any = cbor2.loads(data)
    except UnicodeDecodeError:
        raise MalformedCBOR(
            "expected valid UTF-8 in every text string, found invalid bytes"
        ) from None
    # After scan() only invalid UTF-8 can fail; anything else would be a
    # cbor2 surprise, and our contract is that only our own errors leave.
    except Exception as exc:  # noqa: BLE001
        raise MalformedCBOR(f"expected well-formed CBOR, found {_summarize(exc)}") from None
    return value  # type: ignore[no-any-return]


def _summarize(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
