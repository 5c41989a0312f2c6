"""Messages of the web organizer in English and Russian, and the choice of language.

Every string a page shows comes from a catalogue: ``messages/<lang>/<area>.json``
in this package, one file per page (or ``common`` for the layout), whose
keys are read as ``<area>.<key>`` (``trust.invite_create``). A value is a
``str.format`` template (``"{n} members"``) or, for a count, a dict of plural
forms (``one``/``other`` in English; ``one``/``few``/``many`` in Russian),
chosen by the ``n`` argument. A test checks that both languages have the
same keys and that every key a template or a page names exists.

The language is the ``lang`` cookie if it names one of :data:`LANGUAGES`
(set by the switch in the layout, ``GET /lang?to=ru``), else the best match
of the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final

LANGUAGES: Final = ("en", "ru")
DEFAULT: Final = "en"
LANG_COOKIE: Final = "samoorg_lang"
MAX_HEADER: Final = 512

Catalogue = Mapping[str, str | Mapping[str, str]]


@functools.cache
def catalogue(lang: str) -> Catalogue:
    """Every message of ``lang``, keyed ``area.key`` (read once from the package)."""
    found: dict[str, str | Mapping[str, str]] = {}
    folder = resources.files("samoorg.node.web").joinpath("messages", lang)
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".json"):
            continue
        area = item.name.removesuffix(".json")
        for key, value in json.loads(item.read_text(encoding="utf-8")).items():
            found[f"{area}.{key}"] = value
    return found


def plural_form(lang: str, n: int) -> str:
    """The plural category of ``n`` (CLDR's rules for integers)."""
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def translate(lang: str, key: str, /, **args: Any) -> str:
    """The message ``key`` in ``lang`` with ``args`` filled in (a missing key raises)."""
    value = catalogue(lang)[key]
    if not isinstance(value, str):
        n = args.get("n")
        if not isinstance(n, int):
            raise TypeError(f"message {key} has plural forms: expected n=<int>, found {n!r}")
        value = value[plural_form(lang, n)]
    return value.format(**args) if args else value


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language for a request: the cookie's, else the browser's best, else English."""
    if cookie in LANGUAGES:
        return cookie
    best, best_q = DEFAULT, 0.0
    for part in (accept_language or "")[:MAX_HEADER].split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                continue
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best
