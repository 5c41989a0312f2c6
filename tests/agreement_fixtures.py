"""Writing agreement entries in memory, the way the CLI does, for view tests."""

from __future__ import annotations

from collections.abc import Sequence

from samoorg.crdt.algorithms.agreement_edits import create_steps, edit_steps
from samoorg.crdt.kinds.agreements import (
    AGREEMENT_ACCEPT,
    Agreement,
    acceptance_body,
    resolve_agreement,
    version_hash,
)
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author


def write_all(author: Author, build: object) -> list[Entry]:
    """Sign every step of a :func:`chain_bodies` builder with ``author``."""
    made: list[Entry] = []
    assert callable(build)
    while (step := build(made)) is not None:
        kind, body = step
        made.append(author.write(kind, body))
    return made


def create(author: Author, text: str, title: str = "Rules") -> list[Entry]:
    """``agreement new``: the entries publishing ``text`` (its first one is the agreement)."""
    return write_all(author, create_steps(title, text))


def state_of(doc: bytes, known: Sequence[Entry]) -> Agreement:
    """The agreement as an author holding ``known`` sees it (a fresh replica)."""
    return resolve_agreement(doc, [e for e in known if _belongs(e, doc)])


def _belongs(entry: Entry, doc: bytes) -> bool:
    return entry.id == doc or entry.body.get("agreement") == doc


def edit(author: Author, doc: bytes, known: Sequence[Entry], text: str) -> list[Entry]:
    """``agreement edit``: entries turning the text ``known`` entries give into ``text``."""
    steps = edit_steps(state_of(doc, known), text)
    return [] if steps is None else write_all(author, steps)


def accept(author: Author, doc: bytes, known: Sequence[Entry]) -> Entry:
    """``agreement accept`` of the version ``known`` entries give."""
    agreement = state_of(doc, known)
    body = acceptance_body(doc, agreement.heads, version_hash(doc, agreement.text))
    return author.write(AGREEMENT_ACCEPT, body)
