"""Rendering pages: one Jinja2 environment, the layout's values, and the filters.

Templates live in ``templates/`` of this package and extend ``base.html``
(the layout: navigation, language switch, live updates). Autoescaping is on
for every template, so text written by other members (an idea's title, a
note) is shown as text, never as markup; nothing is marked safe except the
SVG and QR pictures the node draws itself. Undefined names raise.

Every page gets ``t`` (the message catalogue of the request's language,
:mod:`samoorg.node.web.i18n`), ``lang``, ``nav`` (the entries of
:data:`samoorg.node.web.site.NAV`, the current one marked), ``csrf`` (the
session's form token), ``path`` and ``names`` (the node's
:class:`~samoorg.node.names.Names`, read at each request: a petname set a
moment ago shows on the next page), which the ``who`` and ``label`` filters
of :mod:`samoorg.node.web.filters` show participants with. Filters show amounts with the project's
money code, in major units with the currency and never as floats:
``{{ totals|money }}`` for the API's ``{"EUR": "100.00"}`` shape and
``{{ minor|amount(currency) }}`` for integers in minor units.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from samoorg.crdt.algorithms.money import Amount
from samoorg.node.names import Names
from samoorg.node.web.filters import FILTERS
from samoorg.node.web.i18n import LANG_COOKIE, choose, translate

if TYPE_CHECKING:
    from starlette.requests import Request

    from samoorg.node.web.sessions import Session

NO_AMOUNT = "—"


def money(totals: Mapping[str, str] | None) -> str:
    """``{"EUR": "100.00", "USD": "5.00"}`` -> ``"100.00 EUR, 5.00 USD"`` (``—`` if empty)."""
    if not totals:
        return NO_AMOUNT
    return ", ".join(f"{totals[code]} {code}" for code in sorted(totals))


def amount(minor: int, currency: str) -> str:
    """Minor units as ``"100.00 EUR"`` (:class:`~samoorg.crdt.algorithms.money.Amount`)."""
    return str(Amount(currency, minor))


def when(text: str | None) -> str:
    """An RFC 3339 time of the API (``2026-12-02T05:40:00.000Z``) as ``2026-12-02 05:40 UTC``."""
    if not text:
        return ""
    return f"{text[:10]} {text[11:16]} UTC"


@functools.cache
def environment() -> Environment:
    """The package's templates, autoescaped, strict about undefined names."""
    env = Environment(
        loader=PackageLoader("samoorg.node.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, amount=amount, when=when, **FILTERS)
    return env


def request_lang(request: Request) -> str:
    """The language of a request (cookie, then Accept-Language)."""
    return choose(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def page(
    request: Request,
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    active: str | None = None,
) -> HTMLResponse:
    """Render ``template`` with the layout's values and ``values``."""
    from samoorg.node.api.routes import names_of
    from samoorg.node.web.site import NAV

    lang = request_lang(request)
    session: Session | None = getattr(request.state, "session", None)
    ctx = getattr(request.app.state, "ctx", None)
    names = names_of(ctx, known=False) if ctx is not None else Names()
    html = (
        environment()
        .get_template(template)
        .render(
            t=functools.partial(translate, lang),
            lang=lang,
            nav=[(entry, entry.name == active) for entry in NAV],
            csrf=session.csrf if session is not None else "",
            path=request.url.path,
            names=names,
            **(values or {}),
        )
    )
    return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


def refusal_page(
    name: str, message: str, cookie_values: Mapping[str, str], accept_language: str | None
) -> bytes:
    """The page of a request the guard refused (no session, foreign origin, ...)."""
    lang = choose(cookie_values.get(LANG_COOKIE), accept_language)
    html = (
        environment()
        .get_template("refused.html")
        .render(t=functools.partial(translate, lang), lang=lang, name=name, message=message)
    )
    return html.encode()
