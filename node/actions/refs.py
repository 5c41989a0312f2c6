"""References typed by people or sent by clients: entry ids, prefixes, participant ids.

One place for every caller (the CLI offline, the API, the web pages), so a
reference means the same everywhere and is refused the same way:

* :func:`hex_prefix`: at least 4 hex digits, or
  :class:`~samoorg.crdt.framework.errors.MalformedInput` (bad usage, exit 2, API 422);
* :func:`resolve_entry`: the one held entry whose id starts so (a whole id is a
  dictionary look-up in the views' index; a prefix scans the store's ids), of
  the expected kinds, or :class:`~samoorg.node.errors.NotFound` /
  :class:`~samoorg.node.errors.Ambiguous`;
* :func:`resolve_member`: a peer id, or a unique prefix or suffix of a known
  author's (at least :data:`MIN_PARTIAL` characters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.errors import MalformedInput
from samoorg.node.errors import Ambiguous, NotFound
from samoorg.protocol.ids import BadIdentifier, parse_peer_id, peer_id

if TYPE_CHECKING:
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.store import Store
    from samoorg.protocol.entry import Entry

MIN_PARTIAL: Final = 6
MAX_REF: Final = 128
"""Longer references are refused before any look-up."""


def hex_prefix(text: str, what: str = "an entry id") -> str:
    """``text`` as a lowercase id prefix of 4 to 64 hex digits, or a usage error."""
    wanted = text.strip().lower()
    if not 4 <= len(wanted) <= 64 or any(c not in "0123456789abcdef" for c in wanted):
        raise MalformedInput(f"expected {what} (at least 4 hex digits), found {text[:70]!r}")
    return wanted


def resolve_entry(store: Store, live: StoreViews | None, ref: str, *kinds: str) -> Entry:
    """The stored entry whose id starts with ``ref``, which must be of one of ``kinds``."""
    prefix = hex_prefix(ref)
    entry = live.views.index.get(bytes.fromhex(prefix)) if live and len(prefix) == 64 else None
    if entry is None:
        entry = store.resolve(prefix)
    if kinds and entry.kind not in kinds:
        wanted = " or ".join(kinds)
        raise NotFound(f"expected the id of a {wanted} entry, found an entry of kind {entry.kind}")
    return entry


def resolve_member(store: Store, me: bytes, text: str) -> bytes:
    """A participant key from a full peer id, or a unique prefix/suffix of a known author."""
    cleaned = text.strip().lstrip("…")
    if len(cleaned) > MAX_REF:
        raise MalformedInput(f"expected a participant id, found {len(cleaned)} characters")
    try:
        return parse_peer_id(cleaned)
    except BadIdentifier:
        pass
    if len(cleaned) < MIN_PARTIAL:
        raise MalformedInput(
            f"expected a participant id (12D3KooW…) or at least {MIN_PARTIAL} of its "
            f"characters, found {text!r}"
        )
    known = {h.author for h in store.heads()} | {me}
    matches = [
        key for key in known if peer_id(key).startswith(cleaned) or peer_id(key).endswith(cleaned)
    ]
    if not matches:
        raise NotFound(f"no known participant id starts or ends with {cleaned!r}")
    if len(matches) > 1:
        raise Ambiguous(f"{cleaned!r} matches several participants; give more characters")
    return matches[0]
