"""Forms: read a posted form, check its CSRF token, run an action, show a refusal.

Theory of operation. Every form of a page is a plain HTML ``<form
method="post">`` with the hidden ``csrf`` field of the session (the
``form_start`` macro of ``templates/_forms.html`` writes it). A handler

1. reads the form with :func:`read_form` (``application/x-www-form-urlencoded``,
   bounded; a missing or wrong CSRF token is refused as ``forbidden_origin``
   before anything else, the guard has already checked ``Origin``);
2. runs the action with :func:`attempt`: one call of a write action of the
   node (the one write path, ``node/writer.py``, checks the record against
   the views inside the store's transaction), or a parse of one field
   (``Amount.parse``). A refusal of the error taxonomy comes back as a
   :class:`Refusal`, whose ``message`` is the line the CLI prints for the
   same refusal; nothing was stored;
3. on a refusal, renders the page again with ``errors={field: message}``
   (and the values typed, ``form.values``) and the refusal's HTTP status; the
   ``field`` macro shows the message next to its field. On success it answers
   :func:`done`: a redirect (303) to a page that shows the result, so that a
   reload does not post twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse

from samoorg.node.api.errors import ApiError, error_name, one_line

MAX_FIELDS: Final = 64
FORM_MEDIA: Final = "application/x-www-form-urlencoded"
CSRF_FIELD: Final = "csrf"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Form:
    """The fields of a posted form (the last value of a repeated name wins)."""

    values: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        """A field's value, stripped of surrounding spaces."""
        return self.values.get(name, default).strip()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an action was refused: the taxonomy's name, its status and the one-line reason."""

    name: str
    status: int
    message: str


async def read_form(request: Request) -> Form:
    """The posted form, after its CSRF token is checked; raises :class:`ApiError`."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM_MEDIA:
        raise ApiError("unsupported_media_type", f"expected a form ({FORM_MEDIA}), found {media!r}")
    raw = await request.body()  # bounded by the guard
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            "invalid_body", f"expected a form of at most {MAX_FIELDS} fields: {exc}"
        ) from None
    values = dict(pairs)
    session = getattr(request.state, "session", None)
    if session is None or not session.csrf_matches(values.pop(CSRF_FIELD, "")):
        raise ApiError(
            "forbidden_origin", "expected the form's token of this session, found another"
        )
    return Form(values)


def attempt(action: Callable[[], T]) -> tuple[T | None, Refusal | None]:
    """Run ``action``; a refusal of the taxonomy is returned, anything else raises."""
    try:
        return action(), None
    except Exception as exc:
        found = error_name(exc)
        if found is None:
            raise
        name, status = found
        return None, Refusal(name, status, one_line(str(exc)))


def done(path: str) -> RedirectResponse:
    """After a successful post: see the result at ``path`` (303, so a reload only reads)."""
    return RedirectResponse(path, status_code=303)
