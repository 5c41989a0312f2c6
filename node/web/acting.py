"""What the list and form pages share: a page with a refusal, a form's post, paging, a time.

* :func:`show` renders a page with the refusal of a form next to its field
  (and what was typed), or without one; :func:`submit` is the whole ``POST``
  of a form: read it, run its action (:func:`~samoorg.node.web.forms.act`,
  on the daemon's store: nothing is stored on a refusal), then go to the
  result or show the refusal.
* :func:`window` cuts one page out of a remembered list (``?start=``), so a
  page of a listing with 100k rows costs the page.
* :func:`future_time` reads a date field (``2026-12-31``, ``2026-12-31T18:00``
  or ``30d``) the way the CLI reads ``--due`` and ``--deadline``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar

from samoorg.node.web.forms import Refusal, act, done, read_form
from samoorg.node.web.render import page

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.node.actions import Actor, Done
    from samoorg.node.web.forms import Form

T = TypeVar("T")
PAGE: Final = 25
"""Rows per page of a listing."""
MAX_START: Final = 10**9


def show(
    request: Request,
    template: str,
    values: Mapping[str, Any],
    *,
    active: str,
    refusal: Refusal | None = None,
    field: str = "",
    typed: Mapping[str, str] | None = None,
) -> Response:
    """``template`` with ``values``; a refusal's line goes next to ``field`` (its status too)."""
    errors = {field: refusal.message} if refusal is not None else {}
    return page(
        request,
        template,
        {**values, "errors": errors, "typed": dict(typed or {})},
        status=refusal.status if refusal is not None else 200,
        active=active,
    )


Shown = Callable[["Request", "Form", Refusal], "Response"]
"""Renders a form's page again with its refusal."""


async def submit(
    request: Request,
    action: Callable[[Actor, Form], Done],
    then: Callable[[Done, Form], str],
    refused: Shown,
) -> Response:
    """A form's ``POST``: read it (CSRF checked), run ``action`` as this node, then go to
    ``then(done, form)`` (303), or show the refusal with ``refused`` (nothing stored)."""
    form = await read_form(request)
    result = act(request, lambda actor: action(actor, form))
    if isinstance(result, Refusal):
        return refused(request, form, result)
    return done(then(result, form))


def field_of(message: str, fields: Mapping[str, tuple[str, ...]]) -> str:
    """The form field a refusal is about: the first whose words the reason names, else the
    first field."""
    text = message.lower()
    for name, words in fields.items():
        if any(word in text for word in words):
            return name
    return next(iter(fields))


@dataclass(frozen=True, slots=True)
class Window:
    """One page of a longer list: its rows and where the previous and next pages start."""

    rows: Sequence[object]
    start: int
    total: int
    previous: int | None
    next: int | None


def start_param(request: Request) -> int:
    """The ``start`` query parameter: a row number, 0 when absent or not a number."""
    text = request.query_params.get("start", "0")
    if not text.isdigit() or len(text) > 10:
        return 0
    return min(int(text), MAX_START)


def window(items: Sequence[T], start: int, size: int = PAGE) -> tuple[list[T], Window]:
    """``items[start:start + size]`` and the page's :class:`Window`."""
    begin = min(start, max(len(items) - 1, 0))
    begin -= begin % size
    rows = list(items[begin : begin + size])
    return rows, Window(
        rows,
        begin,
        len(items),
        max(begin - size, 0) if begin > 0 else None,
        begin + size if begin + size < len(items) else None,
    )


def future_time(text: str, now: int, what: str) -> int:
    """A moment after ``now`` from a date, date-time or duration field (the CLI's rules)."""
    from samoorg.cli.when import parse_future

    return parse_future(text, now, what)
