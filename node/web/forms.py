"""Forms: read a posted form, check its CSRF token, run an action, show a refusal.

Theory of operation. Every form of a page is a plain HTML ``<form
method="post">`` with the hidden ``csrf`` field of the session (the
``form_start`` macro of ``templates/_forms.html`` writes it). A handler

1. reads the form with :func:`read_form` (``application/x-www-form-urlencoded``,
   bounded; a missing or wrong CSRF token is refused as ``forbidden_origin``
   before anything else, the guard has already checked ``Origin``);
2. runs the action (each helper returns the result or a :class:`Refusal`):
   :func:`perform` calls one action of
   :data:`~samoorg.node.actions.table.ACTIONS` by name with the JSON body the
   API takes (the form's fields, typed as the API's), and :func:`act` calls
   an action function of :mod:`samoorg.node.actions` with typed arguments
   (``act(request, trust.invite_revoke, invite=...)``); both run on the
   daemon's store and views (the one write path, ``node/writer.py``, checks
   the record inside the store's transaction) and tell the daemon to announce
   what was stored. :func:`attempt` wraps any other step that may refuse (a
   parse of one field, ``Amount.parse``). A refusal of the error taxonomy
   comes back as a :class:`Refusal`, whose ``message`` is the line the CLI
   prints for the same refusal; nothing was stored;
3. on a refusal, renders the page again with ``errors={field: message}``
   (and the values typed, ``form.values``) and the refusal's HTTP status; the
   ``field`` macro shows the message next to its field. On success it answers
   :func:`done`: a redirect (303) to a page that shows the result, so that a
   reload does not post twice. What the result page should show once (an
   invite's code, the action's notes) goes in the session's ``flash``
   (:meth:`~samoorg.node.web.sessions.Session.flash_once`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse

from samoorg.node.api.errors import ApiError, error_name, one_line
from samoorg.node.web.site import context

if TYPE_CHECKING:
    from samoorg.node.actions import Actor, Done

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


def attempt(action: Callable[[], T]) -> T | Refusal:
    """Run ``action``; a refusal of the taxonomy is returned, anything else raises."""
    try:
        return action()
    except Exception as exc:
        found = error_name(exc)
        if found is None:
            raise
        name, status = found
        return Refusal(name, status, one_line(str(exc)))


def actor(request: Request) -> Actor:
    """The daemon's participant acting on its store and current views (as the API's)."""
    ctx = context(request)
    ctx.live.refresh()  # entries another process stored just before (its ids may be named)
    return ctx.actor()


def act(request: Request, action: Callable[..., Done], **args: Any) -> Done | Refusal:
    """Call an action function of :mod:`samoorg.node.actions` with typed ``args``."""
    who = actor(request)
    return _stored(request, attempt(lambda: action(who, **args)))


def perform(
    request: Request, name: str, body: Mapping[str, Any], ident: str | None = None
) -> Done | Refusal:
    """Run the action ``name`` of the API's table on ``body`` (the API's JSON fields)."""
    from samoorg.node.actions.table import action

    chosen = action(name)
    who = actor(request)
    return _stored(request, attempt(lambda: chosen.call(who, body, ident)))


def _stored(request: Request, result: Done | Refusal) -> Done | Refusal:
    """Tell the daemon to announce what an action stored (nothing on a refusal)."""
    if not isinstance(result, Refusal):
        context(request).stored()
    return result


def done(path: str) -> RedirectResponse:
    """After a successful post: see the result at ``path`` (303, so a reload only reads)."""
    return RedirectResponse(path, status_code=303)
