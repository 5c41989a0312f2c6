"""Plumbing shared by the community-record commands (trust, pledges, and others).

* :func:`load_views` gives the :class:`~samoorg.crdt.framework.views.Views` of the local
  store (from the checkpoint, ``node/checkpoint.py``) once per command.
* every write is an action (:mod:`samoorg.node.actions`), signed only if the
  views accept it, through the one write path (:mod:`samoorg.node.writer`):
  refused with the view's own reason, inside the store's write transaction.
  The CLI and a peer therefore apply exactly the same rules, and the CLI's
  error line is the reason that ``samoorg log --invalid`` would show.
* :func:`act` runs a write action (:mod:`samoorg.node.actions`) through the
  running daemon, or on the store when none runs: the same output either way.
* :func:`resolve_member` and :func:`member_label` turn what a user types into
  keys and keys into the one short label (``node/names.py``): whole ids,
  unique prefixes or suffixes of 6+ characters, petnames and profile names
  (the rules are :mod:`samoorg.node.actions.refs`, shared with the API).
  :func:`flagged_label` adds ``FORKED`` for a participant a fork proof flags
  (every view ignores their entries, but others' records may still name them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from samoorg.crdt.algorithms.money import Amount

if TYPE_CHECKING:
    from samoorg.cli.context import Session
    from samoorg.crdt.framework.views import Views
    from samoorg.node.actions import Actor, Done
    from samoorg.node.names import Names
    from samoorg.protocol.entry import Entry


def now() -> int:
    """The current time in ms (read through the store module so tests can move it)."""
    from samoorg.node import store

    return store.now_ms()


def load_views(state: Session) -> Views:
    """The views of the store (checkpoint plus newer entries); load once per command."""
    return state.live().views


def hex_prefix(text: str, what: str = "an entry id") -> str:
    """``text`` as a lowercase id prefix of at least 4 hex digits, or a usage error."""
    from samoorg.node.actions.refs import hex_prefix as checked

    return checked(text, what)


def resolve_entry(state: Session, prefix: str, *kinds: str) -> Entry:
    """The stored entry whose id starts with ``prefix``, which must be of one of ``kinds``.

    An ambiguous prefix is refused naming the candidates (``node/names.py``).
    """
    from samoorg.node.actions.refs import resolve_entry as resolved

    return resolved(state.store(), None, prefix, *kinds, names=state.local_names)


def actor(state: Session) -> Actor:
    """The :class:`~samoorg.node.actions.Actor` of the session (its key loaded when signing)."""
    from samoorg.node.actions import Actor

    return Actor(
        state.home,
        state.store(),
        state.live(),
        state.public_key(),  # the device; Actor.me is its identity
        state.signer,
        names_of=state.local_names,
    )


def act(state: Session, name: str, body: Mapping[str, Any], ident: str | None = None) -> Done:
    """Run the write action ``name`` (:data:`~samoorg.node.actions.table.ACTIONS`).

    Through the running daemon's API when there is one (the same JSON body),
    else on the store; the answer is the same :class:`~samoorg.node.actions.Done`
    either way (without ``entries`` when the daemon signed them). A body too
    large for the API is written on the store directly: the one write path
    makes both correct.
    """
    from samoorg.node.actions.table import action

    chosen = action(name)
    local = lambda: chosen.call(actor(state), body, ident)  # noqa: E731
    return state.ask(lambda daemon: daemon.act(chosen, body, ident), local)


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


def print_notes(done: Done) -> None:
    """An action's remarks for a person, one line each on stderr."""
    import sys

    for note in done.notes:
        sys.stderr.write(note + "\n")


def totals_text(totals: Mapping[str, str]) -> str:
    """``{"EUR": "100.00", "USD": "5.00"}`` -> ``"100.00 EUR, 5.00 USD"``."""
    return ", ".join(f"{value} {code}" for code, value in totals.items())
