"""SQLite errors of the store and the peer book as one-line node errors.

Every method of :class:`~samoorg.node.store.Store` and
:class:`~samoorg.node.peerbook.PeerBook` that touches the database runs under
:func:`guarded` (or iterates under :func:`guarded_rows`), so that a damaged
file (SQLite's ``SQLITE_CORRUPT`` / ``SQLITE_NOTADB``, or a text column that is
not valid UTF-8) ends as a :class:`~samoorg.node.errors.NodeError` saying what
is damaged and how to recover, never as an ``sqlite3`` traceback.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from typing import Concatenate, Final, ParamSpec, Protocol, TypeVar

from samoorg.node.errors import NodeError

P = ParamSpec("P")
R = TypeVar("R")

_DAMAGE_CODES: Final = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
# Raised by Python's sqlite3 module itself (no SQLite error code) when a TEXT
# value does not decode.
_BAD_TEXT: Final = "Could not decode to UTF-8"


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the file's bytes are wrong (rather than busy, full, read-only…)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    return name.startswith(_DAMAGE_CODES) or str(exc).startswith(_BAD_TEXT)


def describe(exc: sqlite3.Error) -> str:
    """A short reason: SQLite's message, without the undecodable text itself."""
    text = str(exc)
    if text.startswith(_BAD_TEXT):
        return "a text column is not valid UTF-8"
    return text.splitlines()[0][:200] if text else type(exc).__name__


class _Database(Protocol):
    """What :func:`guarded` needs of the object whose methods it wraps."""

    def database_error(self, exc: sqlite3.Error) -> NodeError:
        """The node error to raise for ``exc``."""


S = TypeVar("S", bound=_Database)


def guarded(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """``method`` with any ``sqlite3.Error`` replaced by ``self.database_error(exc)``."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self.database_error(exc) from None

    return wrapper


def guarded_rows(owner: _Database, rows: Iterator[R]) -> Iterator[R]:
    """``rows``, with any ``sqlite3.Error`` met while iterating replaced as by :func:`guarded`."""
    try:
        yield from rows
    except sqlite3.Error as exc:
        raise owner.database_error(exc) from None
