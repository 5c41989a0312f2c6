"""Agreement actions: publish a text, edit it, accept its current version.

A text is recorded as the operations of the text CRDT (``crdt/text.py``);
a large one takes several entries, signed and checked in one store
transaction (:meth:`~samoorg.node.writer.Writer.write_chain`): all of them,
or none if a view refuses any. An edit records the difference between the
current text and the wanted one, not the whole text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.actions import Actor, Done
from samoorg.node.api.shapes import held_agreement

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.agreement_edits import Step
    from samoorg.crdt.kinds.agreements import Agreement
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

SHORT = 12


def find(actor: Actor, ref: str) -> Agreement:
    """The agreement named by ``ref`` (its id or a unique prefix)."""
    from samoorg.crdt.kinds.agreements import AGREEMENT_NEW as NEW

    return held_agreement(actor.views, actor.entry(ref, NEW))


def _chain(actor: Actor, steps: Callable[[Sequence[Entry]], Step | None]) -> list[Entry]:
    from samoorg.crdt.kinds.agreements import AGREEMENT_KINDS

    return actor.writer().write_chain(steps, kinds=AGREEMENT_KINDS)


def written(agreement: Agreement, made: Sequence[Entry]) -> Done:
    """The answer of a new text or an edit: the entries and what they inserted and deleted."""
    history = {row.entry.id: row for row in agreement.history()}
    shape: dict[str, Any] = {
        "agreement": agreement.doc.hex(),
        "title": agreement.title,
        "entries": [e.id.hex() for e in made],
        "inserted": sum(history[e.id].inserted for e in made),
        "deleted": sum(history[e.id].deleted for e in made),
        "version": agreement.version.hex(),
    }
    return Done(shape, tuple(made))


def new(actor: Actor, *, title: str, text: str, source: str = "the text") -> Done:
    """Publish a new agreement ``title`` with ``text`` (``source`` names it in refusals)."""
    from samoorg.crdt.algorithms.agreement_edits import chain_bodies, plan_edit
    from samoorg.crdt.algorithms.text import TextDoc
    from samoorg.crdt.kinds.agreements import AGREEMENT_NEW as NEW
    from samoorg.crdt.kinds.agreements import MAX_TITLE

    if not text.strip():
        raise RuleViolation(f"expected some text in {source}, found none")
    if not title.strip() or len(title) > MAX_TITLE:
        raise RuleViolation(f"expected a title of 1 to {MAX_TITLE} characters")
    groups = plan_edit(TextDoc(), [(0, 0, text)])

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        assert not refs, "a new text names no other entry"
        return NEW, {"title": title, "ops": ops}

    made = _chain(actor, chain_bodies(groups, first, lambda made: made[0].id))
    agreement = actor.views.agreements.get(made[0].id)
    assert agreement is not None
    return written(agreement, made)


def edit(actor: Actor, *, agreement: str, text: str, source: str = "the text") -> Done:
    """Change the agreement's text to ``text`` (the difference is recorded)."""
    from samoorg.crdt.algorithms.agreement_edits import chain_bodies, diff_edits, plan_edit
    from samoorg.crdt.kinds.agreements import AGREEMENT_EDIT as EDIT

    held = find(actor, agreement)
    current = held.text
    if text == current:
        raise RuleViolation(
            f"{source} matches the current text of {held.doc.hex()[:SHORT]}; nothing to record"
        )
    doc = held.doc
    heads: list[dcbor.Value] = [*held.heads]
    groups = plan_edit(held.replica.doc, diff_edits(current, text))

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        return EDIT, {"agreement": doc, "deps": heads, "refs": [*refs], "ops": ops}

    made = _chain(actor, chain_bodies(groups, first, lambda _: doc))
    updated = actor.views.agreements.get(doc)
    assert updated is not None
    return written(updated, made)


def accept(actor: Actor, *, agreement: str) -> Done:
    """Sign our acceptance of the agreement's current version (its hash)."""
    from samoorg.crdt.kinds.agreements import AGREEMENT_ACCEPT as ACCEPT

    held = find(actor, agreement)
    doc, version = held.doc, held.version
    mine = held.accepted.get(actor.me)
    if mine is not None and mine.version == version:
        raise RuleViolation(
            f'you already accepted the current version {version.hex()[:SHORT]} of "{held.title}"'
        )
    heads: list[dcbor.Value] = [*held.heads]
    body: dict[str, dcbor.Value] = {"agreement": doc, "heads": heads, "version": version}
    (entry,) = _chain(actor, lambda made: None if made else (ACCEPT, body))
    shape = {"agreement": doc.hex(), "version": version.hex(), "entry": entry.id.hex()}
    return Done({**shape, "title": held.title}, (entry,))
