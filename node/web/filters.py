"""Filters of the pages: a participant, an entry id and a progress bar, drawn in Python.

They are called once or twice per row of long tables, where a Jinja macro
call costs about ten times more than a filter. Those returning markup return
:class:`~markupsafe.Markup` with every value escaped.

Participants are shown one way on every page, by the names of the node
(:class:`~samoorg.node.names.Names`, the page's ``names``, read by
:func:`~samoorg.node.web.render.page`): the petname, else ``~`` and the
self-chosen name, with ``!`` when another participant carries the same name,
then the short id (``…`` and its last 8 characters).

* ``{{ ident|who }}``: "you" (bold) for this node's participant, else
  :meth:`Names.label <samoorg.node.names.Names.label>`; a link to the
  participant's profile page with the whole id as its title; nothing for none.
* ``{{ ident|label }}``: the same label as plain text (inside a message).
* ``{{ entry_id|entry }}``: the short form of an entry id (its first 12 hex digits).
* ``{{ percent|progressbar(label) }}``: a bar of ``percent`` (0 to 100) with
  the number on it and ``label`` for assistive technology.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from samoorg.node.names import ENTRY_WIDTH, Names
from samoorg.protocol.ids import BadIdentifier, parse_peer_id

PROFILE_PATH = "/profiles/"
"""Where a participant's profile page is (``/profiles/<peer id>``)."""


def _names(context: Context) -> Names:
    names = context.get("names")
    return names if isinstance(names, Names) else Names()


@pass_context
def who(context: Context, ident: str | None) -> Markup:
    """A participant: "you", or its label, linked to its profile page."""
    if not ident:
        return Markup("")
    try:
        key = parse_peer_id(ident)
    except BadIdentifier:
        return Markup("<code>%s</code>") % ident
    names = _names(context)
    href = PROFILE_PATH + ident
    if key == names.me:
        you: str = context["t"]("common.you")
        return Markup('<a class="who you" href="%s" title="%s"><strong>%s</strong></a>') % (
            href,
            ident,
            you,
        )
    css = "who collides" if names.collides(key) else "who"
    return Markup('<a class="%s" href="%s" title="%s">%s</a>') % (
        css,
        href,
        ident,
        names.label(key, you=False),
    )


@pass_context
def label(context: Context, ident: str | None) -> str:
    """A participant's label as text ("you" for this node's participant)."""
    if not ident:
        return ""
    try:
        key = parse_peer_id(ident)
    except BadIdentifier:
        return ident
    names = _names(context)
    if key == names.me:
        you: str = context["t"]("common.you")
        return you
    return names.label(key, you=False)


def entry(ident: str | None) -> str:
    """An entry id (hex) in its short form: the first :data:`ENTRY_WIDTH` digits."""
    return (ident or "")[:ENTRY_WIDTH]


def progressbar(percent: Any, label: str) -> Markup:
    """A progress bar of ``percent`` (an integer 0 to 100)."""
    value = max(0, min(100, int(percent)))
    return Markup(
        '<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
        'aria-valuenow="%d" aria-label="%s"><div class="bar" style="width: %d%%"></div>'
        "<span>%d %%</span></div>"
    ) % (value, escape(label), value, value)


FILTERS = {"who": who, "label": label, "entry": entry, "progressbar": progressbar}
