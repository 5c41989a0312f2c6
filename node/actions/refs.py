"""References typed by people or sent by clients: entry ids, prefixes, participants.

One place for every caller (the CLI offline, the API, the web pages), so a
reference means the same everywhere and is refused the same way. The rules
themselves are the one resolver of :mod:`samoorg.node.names`; this module
bounds and checks the text first:

* :func:`hex_prefix`: at least 4 hex digits, or
  :class:`~samoorg.crdt.framework.errors.MalformedInput` (bad usage, exit 2, API 422);
* :func:`resolve_entry`: the one held entry whose id starts so (a whole id is a
  dictionary look-up in the views' index), of the expected kinds, or
  :class:`~samoorg.node.errors.NotFound` / :class:`~samoorg.node.errors.Ambiguous`
  naming the candidates (:func:`samoorg.node.names.resolve_entry`);
* :func:`resolve_member`: a peer id, a petname, a self-chosen (profile) name, or
  a unique prefix or suffix of a known participant's id
  (:meth:`samoorg.node.names.Names.resolve`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.errors import MalformedInput
from samoorg.node.names import MIN_PARTIAL, Names
from samoorg.node.names import resolve_entry as resolve_named_entry

if TYPE_CHECKING:
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.store import Store
    from samoorg.protocol.entry import Entry

__all__ = ["MAX_REF", "MIN_PARTIAL", "hex_prefix", "resolve_entry", "resolve_member"]

MAX_REF: Final = 128
"""Longer references are refused before any look-up."""


def hex_prefix(text: str, what: str = "an entry id") -> str:
    """``text`` as a lowercase id prefix of 4 to 64 hex digits, or a usage error."""
    wanted = text.strip().lower()
    if not 4 <= len(wanted) <= 64 or any(c not in "0123456789abcdef" for c in wanted):
        raise MalformedInput(f"expected {what} (at least 4 hex digits), found {text[:70]!r}")
    return wanted


def resolve_entry(
    store: Store,
    live: StoreViews | None,
    ref: str,
    *kinds: str,
    names: Callable[[], Names] = Names,
) -> Entry:
    """The stored entry whose id starts with ``ref``, which must be of one of ``kinds``.

    ``names()`` names the candidates of an ambiguous prefix.
    """
    prefix = hex_prefix(ref)
    entry = live.views.index.get(bytes.fromhex(prefix)) if live and len(prefix) == 64 else None
    if entry is not None and (not kinds or entry.kind in kinds):
        return entry
    return resolve_named_entry(store, names, prefix, kinds)


def resolve_member(names: Names, text: str, *, device: bool = False) -> bytes:
    """The participant ``text`` names: a peer id, a name, or a unique part of a known id
    (its identity; with ``device`` the key itself)."""
    cleaned = text.strip()
    if len(cleaned) > MAX_REF:
        raise MalformedInput(f"expected a participant id or name, found {len(cleaned)} characters")
    return names.resolve(cleaned, device=device)
