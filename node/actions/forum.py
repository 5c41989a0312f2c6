"""Forum and rating actions: post an idea, comment on one, rate a participant or an idea.

Each answers :func:`~samoorg.node.api.shapes.created_json` of the new record
with the fields the CLI's ``--json`` adds (``idea``; ``about`` and ``subject``).
An idea the views ignore (malformed, or by a forked author) cannot be
commented on or rated: the refusal names the views' reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.actions import Actor, Done
from samoorg.node.api.shapes import created_json
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry


def idea_post(actor: Actor, *, title: str, body: str = "") -> Done:
    """Post an idea (``title`` one line, ``body`` the idea in full)."""
    from samoorg.crdt.kinds import forum

    entry = actor.write(forum.IDEA_KIND, forum.idea_body(title, body))
    return Done(created_json(entry), (entry,))


def ignored(views: Views, entry: Entry, what: str) -> RuleViolation:
    """The error for a held entry the views ignore (malformed, or by a forked author)."""
    reason = views.invalid().get(entry.id, "the views ignore it")
    return RuleViolation(f"{what} {entry.id.hex()[:12]} is ignored: {reason}")


def held_idea(actor: Actor, ref: str) -> Entry:
    """The idea named by ``ref``, which the views must hold."""
    from samoorg.crdt.kinds import forum

    idea = actor.entry(ref, forum.IDEA_KIND)
    if idea.id not in actor.views.forum.view().ideas:
        raise ignored(actor.views, idea, "idea")
    return idea


def comment(actor: Actor, *, idea: str, text: str) -> Done:
    """Comment on the idea named by ``idea``."""
    from samoorg.crdt.kinds import forum

    held = held_idea(actor, idea)
    entry = actor.write(forum.COMMENT_KIND, forum.comment_body(held.id, text))
    return Done(created_json(entry, idea=held.id.hex()), (entry,))


def rate(actor: Actor, *, subject: str, score: int, comment: str = "") -> Done:
    """Rate a participant (peer id or a unique part) or an idea (id or unique prefix).

    A hex text that names a held entry is an idea; anything else a participant.
    Your latest rating of a subject replaces the earlier ones.
    """
    from samoorg.crdt.kinds import ratings
    from samoorg.node.errors import NotFound

    about, key = ratings.ABOUT_MEMBER, b""
    text = subject.strip()
    if not text.startswith("12D3KooW") and all(c in "0123456789abcdefABCDEF" for c in text):
        try:
            key = actor.store.resolve(text).id
        except NotFound:
            key = b""
        if key:
            about, key = ratings.ABOUT_IDEA, held_idea(actor, text).id
    if not key:
        key = actor.member(text)
    entry = actor.write(ratings.KIND, ratings.rating_body(about, key, score, comment))
    shown = peer_id(key) if about == ratings.ABOUT_MEMBER else key.hex()
    notes: tuple[str, ...] = ()
    if about == ratings.ABOUT_MEMBER and key not in actor.views.trust.members(actor.me):
        notes = ("note: not on your trust list, so this rating carries no weight",)
    return Done(created_json(entry, about=about, subject=shown), (entry,), notes)
