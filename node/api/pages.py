"""Pagination and query parameters of the API's listings.

Every listing answers ``{"items": [...], "next_cursor": "<opaque>" | null}``:
at most ``limit`` items (default :data:`DEFAULT_LIMIT`, at most
:data:`MAX_LIMIT`), and a cursor to pass as ``cursor=`` for the next page
(``null`` on the last one). A cursor is opaque to clients: today the
base64url text of ``p<position>`` in the listing's order, which for
``/log`` is a position in the store's arrival order (stable), and for the
views' listings an offset in their sorted order (an entry arriving between
two pages may shift items by one).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Final, TypeVar

from samoorg.node.api.errors import ApiError

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 500
_TRUE: Final = frozenset({"1", "true", "yes"})
_FALSE: Final = frozenset({"0", "false", "no"})


def encode_cursor(position: int) -> str:
    """The opaque cursor for ``position``."""
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    """The position a cursor names; ``bad_cursor`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except ValueError:
        raw = ""
    if len(text) > 32 or not raw.startswith("p") or not raw[1:].isdigit():
        raise ApiError("bad_cursor", f"expected a cursor from a next_cursor, found {text[:40]!r}")
    return int(raw[1:])


@dataclass(frozen=True, slots=True)
class PageRequest:
    """``limit`` and the cursor's position (``None``: the first page)."""

    limit: int
    position: int | None


def page_request(query: Mapping[str, str]) -> PageRequest:
    """Read ``limit`` and ``cursor`` from the query string."""
    limit = int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = query.get("cursor")
    return PageRequest(limit, None if cursor is None else decode_cursor(cursor))


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within ``low..high``; ``invalid_parameter`` otherwise."""
    text = query.get(name)
    if text is None:
        return default
    # ASCII digits only ("٣".isdigit() is true), and few (int() refuses 4300+ digits).
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or not low <= int(text) <= high:
        raise ApiError(
            "invalid_parameter", f"expected {name} an integer {low}..{high}, found {text[:40]!r}"
        )
    return int(text)


def optional_int(query: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    """Like :func:`int_param`, ``None`` when absent."""
    return None if name not in query else int_param(query, name, low, low, high)


def bool_param(query: Mapping[str, str], name: str) -> bool:
    """``true``/``false`` (or ``1``/``0``); absent is false."""
    text = query.get(name)
    if text is None:
        return False
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ApiError("invalid_parameter", f"expected {name} true or false, found {text[:40]!r}")


def choice_param(query: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first is the default)."""
    text = query.get(name, choices[0])
    if text not in choices:
        raise ApiError(
            "invalid_parameter", f"expected {name} one of {', '.join(choices)}, found {text[:40]!r}"
        )
    return text


T = TypeVar("T")


def window_of(items: Iterable[T], start: int, stop: int | None) -> list[T]:
    """``items[start:stop]``: sliced if ``items`` is a sequence (a lazy one reads only the
    window), else consumed up to ``stop``."""
    if isinstance(items, Sequence):
        return list(items[start:stop])
    return list(islice(items, start, stop))


def page_of(items_total: int, request: PageRequest) -> tuple[int, int, str | None]:
    """``(start, stop, next_cursor)`` of an offset page in a listing of ``items_total``."""
    start = request.position or 0
    stop = min(items_total, start + request.limit)
    return start, stop, encode_cursor(stop) if stop < items_total else None
