"""Filters of the list pages: a participant and a progress bar, drawn in Python.

They are called once or twice per row of long tables, where a Jinja macro
call costs about ten times more than a filter. Both return
:class:`~markupsafe.Markup` with every value escaped.

* ``{{ ident|who }}``: "you" (bold) for the page's own ``me``, else the start
  of the id in ``<code>`` with the whole id as its title; nothing for none.
* ``{{ percent|progressbar(label) }}``: a bar of ``percent`` (0 to 100) with
  the number on it and ``label`` for assistive technology.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

ID_CHARS = 16


@pass_context
def who(context: Context, ident: str | None) -> Markup:
    """A participant: "you", or the id cut to :data:`ID_CHARS` characters."""
    if not ident:
        return Markup("")
    if ident == context.get("me"):
        you: str = context["t"]("common.you")
        return Markup("<strong>%s</strong>") % you
    shown = ident if len(ident) <= ID_CHARS else ident[:ID_CHARS] + "…"
    return Markup('<code title="%s">%s</code>') % (ident, shown)


def progressbar(percent: Any, label: str) -> Markup:
    """A progress bar of ``percent`` (an integer 0 to 100)."""
    value = max(0, min(100, int(percent)))
    return Markup(
        '<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
        'aria-valuenow="%d" aria-label="%s"><div class="bar" style="width: %d%%"></div>'
        "<span>%d %%</span></div>"
    ) % (value, escape(label), value, value)


FILTERS = {"who": who, "progressbar": progressbar}
