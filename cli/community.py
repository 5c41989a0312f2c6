"""Plumbing shared by the community-record commands (trust, pledges, and others).

* :func:`load_views` gives the :class:`~samoorg.crdt.framework.views.Views` of the local
  store (from the checkpoint, ``node/checkpoint.py``) once per command.
* :func:`record` signs a new record only if the views accept it, through the
  one write path (:mod:`samoorg.node.writer`): refused with the view's own
  reason, inside the store's write transaction. The CLI and a peer therefore
  apply exactly the same rules, and the CLI's error line is the reason that
  ``samoorg log --invalid`` would show.
* :func:`resolve_member` and :func:`member_label` turn peer ids into keys and
  back; unique prefixes or suffixes of known authors are accepted.
  :func:`flagged_label` adds ``FORKED`` for a participant a fork proof flags
  (every view ignores their entries, but others' records may still name them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.errors import MalformedInput
from samoorg.node.errors import Ambiguous, NotFound
from samoorg.protocol.ids import BadIdentifier, parse_peer_id, peer_id

if TYPE_CHECKING:
    from samoorg.cli.context import Session
    from samoorg.crdt.framework.views import Views
    from samoorg.node.writer import Writer
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

_MIN_PARTIAL = 6


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
    """The stored entry whose id starts with ``prefix``, which must be of one of ``kinds``."""
    entry = state.store().resolve(hex_prefix(prefix))
    if kinds and entry.kind not in kinds:
        wanted = " or ".join(kinds)
        raise NotFound(f"expected the id of a {wanted} entry, found an entry of kind {entry.kind}")
    return entry


def resolve_member(state: Session, text: str) -> bytes:
    """A participant key from a full peer id, or a unique prefix/suffix of a known author."""
    cleaned = text.strip().lstrip("…")
    try:
        return parse_peer_id(cleaned)
    except BadIdentifier:
        pass
    if len(cleaned) < _MIN_PARTIAL:
        raise MalformedInput(
            f"expected a participant id (12D3KooW…) or at least {_MIN_PARTIAL} of its "
            f"characters, found {text!r}"
        )
    known = {h.author for h in state.store().heads()} | {state.public_key()}
    matches = [
        key for key in known if peer_id(key).startswith(cleaned) or peer_id(key).endswith(cleaned)
    ]
    if not matches:
        raise NotFound(f"no known participant id starts or ends with {cleaned!r}")
    if len(matches) > 1:
        raise Ambiguous(f"{cleaned!r} matches several participants; give more characters")
    return matches[0]


def member_label(key: bytes, me: bytes | None = None, *, width: int = 12) -> str:
    """A short, searchable label: the peer id's last ``width`` characters (or ``you``)."""
    if me is not None and key == me:
        return "you"
    return "…" + peer_id(key)[-width:]


def flagged_label(views: Views, key: bytes, me: bytes | None = None, *, width: int = 12) -> str:
    """:func:`member_label`, followed by ``FORKED`` if a fork proof flags the participant."""
    label = member_label(key, me, width=width)
    return f"{label} FORKED" if views.is_forked(key) else label


def peer_label(text: str | None, me: bytes | None = None) -> str:
    """:func:`member_label` of a peer id string (empty for ``None``)."""
    return "" if text is None else member_label(parse_peer_id(text), me)


def money(amount: Amount | None) -> str:
    """``"100.00 EUR"`` (empty for ``None``)."""
    return "" if amount is None else f"{amount.format()} {amount.currency}"


def totals_text(totals: Mapping[str, str]) -> str:
    """``{"EUR": "100.00", "USD": "5.00"}`` -> ``"100.00 EUR, 5.00 USD"``."""
    return ", ".join(f"{value} {code}" for code, value in totals.items())
