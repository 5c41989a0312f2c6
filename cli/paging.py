"""Pages of a listing: the same ``--limit``/``--all``/``--cursor`` for every listing command.

Every listing, in the CLI and the API, answers one page: at most ``--limit``
items (default :data:`~samoorg.node.api.pages.DEFAULT_LIMIT`), or every item
with ``--all``, continuing after a previous page with ``--cursor`` (the
``next_cursor`` that page gave). ``--json`` prints the API's page object,
``{"items": [...], "next_cursor": "..." | null}``; a table ends with one
line saying how to ask for the next page, when there is one. The cursors are
those of :mod:`samoorg.node.api.pages`, so a cursor from the API works in the
CLI and the other way round.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import typer

from samoorg.node.api.errors import ApiError
from samoorg.node.api.pages import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    window_of,
)

T = TypeVar("T")

__all__ = ["DEFAULT_LIMIT", "AllFlag", "CursorOption", "LimitOption", "Page", "Paging"]

LimitOption = Annotated[
    int,
    typer.Option("--limit", min=1, max=MAX_LIMIT, help="Show at most N items (one page)."),
]
AllFlag = Annotated[bool, typer.Option("--all", help="Show every item, not one page.")]
CursorOption = Annotated[
    str | None,
    typer.Option("--cursor", help="Continue after a previous page (its next cursor)."),
]


@dataclass(frozen=True, slots=True)
class Paging:
    """What one listing command was asked for."""

    limit: int | None
    """Items on the page; ``None`` for every item (``--all``)."""
    start: int
    """Position of the first item (0, or where the cursor points)."""

    def query(self) -> dict[str, Any]:
        """The API query parameters that ask for the same page."""
        return {"limit": self.limit, "cursor": encode_cursor(self.start) if self.start else None}


@dataclass(frozen=True, slots=True)
class Page:
    """Items of one page and the cursor of the next (``None`` on the last page)."""

    items: list[Any]
    next_cursor: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields of the listing as a whole that some pages carry (``utility``: the algorithm)."""

    def as_json(self) -> dict[str, Any]:
        """The API's page object."""
        return {"items": self.items, "next_cursor": self.next_cursor, **self.extra}


def paging(limit: int = DEFAULT_LIMIT, every: bool = False, cursor: str | None = None) -> Paging:
    """The page a command was asked for; a bad cursor is bad usage."""
    if every and cursor is not None:
        raise typer.BadParameter("give --all or --cursor, not both", param_hint="--cursor")
    start = 0
    if cursor is not None:
        try:
            start = decode_cursor(cursor)
        except ApiError as exc:
            raise typer.BadParameter(str(exc), param_hint="--cursor") from None
    return Paging(None if every else limit, start)


def page_of(items: Iterable[T], asked: Paging) -> tuple[list[T], str | None]:
    """The asked-for slice of ``items`` (consumed only as far as the page needs; a
    sequence is sliced: :func:`~samoorg.node.api.pages.window_of`)."""
    if asked.limit is None:
        return window_of(items, asked.start, None), None
    window = window_of(items, asked.start, asked.start + asked.limit + 1)
    more = len(window) > asked.limit
    return window[: asked.limit], encode_cursor(asked.start + asked.limit) if more else None


def print_next_page(command: Sequence[str], page: Page, shown: str | None = None) -> None:
    """End a table with how to ask for the next page, when there is one.

    ``shown`` says what the page holds (default: ``showing N``, its items).
    """
    if page.next_cursor is not None:
        typer.echo(
            f"({shown or f'showing {len(page.items)}'}; next page: samoorg {' '.join(command)} "
            f"--cursor {page.next_cursor}, or --all)"
        )
