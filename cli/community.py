"""Plumbing shared by the community-record commands (trust, pledges, and others).

* :func:`load_views` gives the :class:`~samoorg.crdt.framework.views.Views` of the local
  store (from the checkpoint, ``node/checkpoint.py``) once per command.
* :func:`record` signs a new record only if the views accept it, through the
  one write path (:mod:`samoorg.node.writer`): refused with the view's own
  reason, inside the store's write transaction. The CLI and a peer therefore
  apply exactly the same rules, and the CLI's error line is the reason that
  ``samoorg log --invalid`` would show.
* :func:`resolve_member` and :func:`member_label` turn what a user types into
  keys and keys into the one short label (``node/names.py``): whole ids,
  unique prefixes or suffixes of 6+ characters, petnames and profile names.
  :func:`flagged_label` adds ``FORKED`` for a participant a fork proof flags
  (every view ignores their entries, but others' records may still name them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.errors import MalformedInput

if TYPE_CHECKING:
    from samoorg.cli.context import Session
    from samoorg.crdt.framework.views import Views
    from samoorg.node.names import Names
    from samoorg.node.writer import Writer
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry


def now() -> int:
    """The current time in ms (read through the store module so tests can move it)."""
    from samoorg.node import store

    return store.now_ms()


def load_views(state: Session) -> Views:
    """The views of the store (checkpoint plus newer entries); load once per command."""
    return state.live().views


def record(state: Session, kind: str, body: Mapping[str, dcbor.Value]) -> Entry:
    """Sign and store ``kind``/``body`` through the one write path (``node/writer.py``).

    Raises :class:`RuleViolation` with the view's reason; nothing is stored
    then and the views are as before. Otherwise the views hold the entry.
    """
    return writer(state).write(kind, body)


def writer(state: Session) -> Writer:
    """The session's :class:`~samoorg.node.writer.Writer`."""
    from samoorg.node.writer import Writer

    return Writer(state.store(), state.live(), state.signer())


def hex_prefix(text: str, what: str = "an entry id") -> str:
    """``text`` as a lowercase id prefix of at least 4 hex digits, or a usage error."""
    wanted = text.strip().lower()
    if len(wanted) < 4 or any(c not in "0123456789abcdef" for c in wanted):
        raise MalformedInput(f"expected {what} (at least 4 hex digits), found {text!r}")
    return wanted


def resolve_entry(state: Session, prefix: str, *kinds: str) -> Entry:
    """The stored entry whose id starts with ``prefix``, among entries of ``kinds``.

    An ambiguous prefix is refused naming the candidates (``node/names.py``).
    """
    from samoorg.node.names import resolve_entry as resolve

    return resolve(state.store(), state.local_names, hex_prefix(prefix), kinds)


def resolve_member(state: Session, text: str) -> bytes:
    """A participant key from a full id, a unique id prefix/suffix (6+ characters) or a name."""
    return state.resolve_member(text)


def member_label(names: Names, key: bytes) -> str:
    """The one table label of a participant: ``you``, or ``[name] …x8oPPe``."""
    return names.label(key)


def flagged_label(views: Views, names: Names, key: bytes) -> str:
    """:func:`member_label`, followed by ``FORKED`` if a fork proof flags the participant."""
    label = member_label(names, key)
    return f"{label} FORKED" if views.is_forked(key) else label


def peer_label(names: Names, text: str | None) -> str:
    """:func:`member_label` of a peer id string (empty for ``None``)."""
    return names.label_text(text)


def money(amount: Amount | None) -> str:
    """``"100.00 EUR"`` (empty for ``None``)."""
    return "" if amount is None else f"{amount.format()} {amount.currency}"


def totals_text(totals: Mapping[str, str]) -> str:
    """``{"EUR": "100.00", "USD": "5.00"}`` -> ``"100.00 EUR, 5.00 USD"``."""
    return ", ".join(f"{value} {code}" for code, value in totals.items())
