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

Theory of operation: decoding is ``cbor2.loads`` (fast, C), then one walk that
enforces the data model, the nesting limit and the key order of every map,
then a plain (non-sorting) re-encode that must reproduce the input byte for
byte. Given sorted keys, the only freedom left in CBOR is in the heads and
framing, so the re-encode check rejects every other non-canonical form at once:
long heads, indefinite lengths, duplicate keys (the decoded map is shorter),
trailing bytes, and tags that cbor2 would silently fold into a value (bignums,
shared values, string references).
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
    """Raise :class:`UnencodableValue` unless ``value`` is in the data model."""
    problem = _first_problem(value, max_depth, ordered_keys=False)
    if problem is not None:
        raise UnencodableValue(problem)


def _nesting(max_depth: int) -> str:
    return f"nesting deeper than {max_depth} levels"


def _first_problem(value: object, max_depth: int, *, ordered_keys: bool) -> str | None:
    """A description of the first violation of the data model, or ``None``.

    ``ordered_keys`` also requires every map's keys in deterministic order (for
    decoded input; an encoder sorts them itself).
    """
    kind = type(value)
    if kind is list or kind is dict:
        return _container_problem(value, 1, max_depth, ordered_keys)  # type: ignore[arg-type]
    return _scalar_problem(value)


def _scalar_problem(value: object) -> str | None:
    kind = type(value)
    if kind is str or kind is bytes or kind is bool or value is None:
        return None
    if kind is int:
        if INT_MIN <= value <= INT_MAX:  # type: ignore[operator]
            return None
        return f"integer outside [-2**64, 2**64-1]: {value}"
    return f"unsupported type {_describe(value)} (allowed: int, bytes, str, list, dict, bool, None)"


def _container_problem(
    value: list[object] | dict[object, object], depth: int, max_depth: int, ordered_keys: bool
) -> str | None:
    # ``value`` sits at nesting level ``depth`` (the top level is 1); its items
    # sit at ``depth + 1``, which must not exceed ``max_depth``. Scalars are
    # checked inline (this is the hot path of every decode). Depth is capped,
    # so cyclic values (which cbor2 builds from tags 28/29) terminate.
    if type(value) is dict:
        problem = _keys_problem(value, ordered_keys)
        if problem is not None:
            return problem
        items: Iterable[object] = value.values()
    else:
        items = value
    if value and depth >= max_depth:
        return _nesting(max_depth)
    for item in items:
        kind = type(item)
        if kind is str or kind is bytes or kind is bool or item is None:
            continue
        if kind is int and INT_MIN <= item <= INT_MAX:  # type: ignore[operator]
            continue
        if kind is list or kind is dict:
            problem = _container_problem(item, depth + 1, max_depth, ordered_keys)  # type: ignore[arg-type]
        else:
            problem = _scalar_problem(item)
        if problem is not None:
            return problem
    return None


def container_is_canonical(value: list[Value] | dict[str, Value], depth: int) -> bool:
    """Whether a *decoded* container at nesting level ``depth`` is in the data model.

    For decoders that check the outer levels of a known layout themselves and
    then the whole input with the re-encode check (see :func:`decode`): every
    item's type, every map's key order, and the nesting limit.
    """
    return _container_problem(value, depth, MAX_DEPTH, True) is None  # type: ignore[arg-type]


def _keys_problem(value: dict[object, object], ordered: bool) -> str | None:
    # Deterministic order is bytewise order of the encoded keys; for text keys
    # that is shorter UTF-8 first, then bytewise. A dict cannot hold duplicates:
    # duplicated input keys are caught by the re-encode check.
    previous_length, previous = -1, b""
    for key in value:
        if type(key) is not str:
            return f"map key must be a text string, found {_describe(key)}"
        if ordered:
            encoded = key.encode()
            length = len(encoded)
            if length < previous_length or (length == previous_length and encoded <= previous):
                return (
                    f"map key {key[:40]!r} out of deterministic order "
                    "(keys sort by UTF-8 length, then bytewise, without repeats)"
                )
            previous_length, previous = length, encoded
    return None


def _is_cyclic(value: object, limit: int, ancestors: tuple[int, ...] = ()) -> bool:
    # Only called after a nesting violation, to name cyclic values (built by
    # shared-value tags) as what they are. Bounded by the nesting limit.
    if type(value) not in (list, dict) or len(ancestors) > limit:
        return False
    if id(value) in ancestors:
        return True
    items: Iterable[object] = value.values() if isinstance(value, dict) else value  # type: ignore[assignment]
    inner = (*ancestors, id(value))
    return any(_is_cyclic(item, limit, inner) for item in items)


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
    try:
        value: Any = cbor2.loads(data)
    # cbor2 runs semantic-tag handlers (dates, decimals, regexes, MIME, ...)
    # that raise assorted exception types on hostile input. Our contract is
    # that only our own errors leave a decoder, so everything is mapped here.
    except Exception as exc:  # noqa: BLE001
        raise MalformedCBOR(f"expected well-formed CBOR, found {_summarize(exc)}") from None
    problem = _first_problem(value, max_depth, ordered_keys=True)
    if problem is not None:
        if problem.startswith("nesting"):
            if _is_cyclic(value, max_depth + 1):
                raise MalformedCBOR("expected no tags, found a shared (cyclic) value")
            raise TooLarge(f"expected CBOR nesting of at most {max_depth} levels, found deeper")
        raise MalformedCBOR(f"expected the Samoorg CBOR data model, found {problem}")
    if cbor2.dumps(value) != data:
        raise MalformedCBOR(
            "expected deterministic CBOR (shortest heads, definite lengths, unique keys, "
            "no tags, no trailing bytes), found another encoding"
        )
    return value  # type: ignore[no-any-return]


def _summarize(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
