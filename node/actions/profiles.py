"""Profile action: publish your own profile (``samoorg profile set``, ``POST /profiles``).

A profile record (``crdt/kinds/profiles.py``, docs/protocol.md §8.12)
replaces the previous one entirely, so :func:`profile_set` starts from your
current profile: the fields left out (``None``) keep their values. It answers
:func:`~samoorg.node.api.shapes.profile_json` of the new profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.actions import Actor, Done

MAX_CONTACT_TEXT = 600
"""Longest ``TYPE=VALUE`` text accepted before the record's own rules apply."""


def contact(text: str) -> tuple[str, str]:
    """``email=ana@example.org`` as ``("email", "ana@example.org")``, or a usage error."""
    kind, sep, value = text[:MAX_CONTACT_TEXT].partition("=")
    if not sep:
        raise MalformedInput(
            f"expected a contact as TYPE=VALUE (email=ana@example.org), found {text[:70]!r}"
        )
    return kind.strip(), value.strip()


def profile_set(
    actor: Actor,
    *,
    name: str | None = None,
    about: str | None = None,
    contacts: Sequence[str] | None = None,
    no_contacts: bool = False,
    status: str | None = None,
    message: str | None = None,
) -> Done:
    """Publish our profile; ``contacts`` (``TYPE=VALUE`` texts) replace the current ones."""
    from samoorg.crdt.kinds.profiles import MAX_CONTACTS, PROFILE_KIND, STATUSES, profile_body
    from samoorg.node.api.shapes import profile_json

    current = actor.views.profiles.profile(actor.me)
    if status is not None and status not in STATUSES:
        raise MalformedInput(f"expected status fine, support or urgent, found {status[:20]!r}")
    if contacts is not None and len(contacts) > MAX_CONTACTS:
        raise MalformedInput(f"expected at most {MAX_CONTACTS} contacts, found {len(contacts)}")
    if contacts and no_contacts:
        raise MalformedInput("expected contacts or no_contacts, not both")
    chosen = name if name is not None else (current.name if current else None)
    if chosen is None:
        raise MalformedInput("expected a name: you have no profile yet")
    if contacts:
        pairs = [contact(c) for c in contacts]
    elif no_contacts or current is None:
        pairs = []
    else:
        pairs = [(c.type, c.value) for c in current.contacts]
    try:
        body = profile_body(
            chosen,
            about if about is not None else (current.about if current else ""),
            pairs,
            status if status is not None else (current.status if current else "fine"),
            message if message is not None else (current.message if current else ""),
        )
    except RuleViolation as exc:
        raise MalformedInput(str(exc)) from None
    entry = actor.write(PROFILE_KIND, body)
    return Done(profile_json(actor.views, actor.me), (entry,))
