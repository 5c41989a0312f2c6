"""Writing agreement entries in memory, the way the CLI does, for view tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from samoorg.crdt.agreement_codec import ACCEPT, EDIT, NEW, version_hash
from samoorg.crdt.agreement_edits import Step, chain_bodies, diff_edits, plan_edit
from samoorg.crdt.agreements import Agreement, resolve_agreement
from samoorg.crdt.text import TextDoc
from samoorg.protocol import dcbor
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
    groups = plan_edit(TextDoc(), [(0, 0, text)])

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        return NEW, {"title": title, "ops": ops}

    return write_all(author, chain_bodies(groups, first, lambda made: made[0].id))


def state_of(doc: bytes, known: Sequence[Entry]) -> Agreement:
    """The agreement as an author holding ``known`` sees it (a fresh replica)."""
    return resolve_agreement(doc, [e for e in known if _belongs(e, doc)])


def _belongs(entry: Entry, doc: bytes) -> bool:
    return entry.id == doc or entry.body.get("agreement") == doc


def edit(author: Author, doc: bytes, known: Sequence[Entry], text: str) -> list[Entry]:
    """``agreement edit``: entries turning the text ``known`` entries give into ``text``."""
    agreement = state_of(doc, known)
    current = agreement.text
    heads: list[dcbor.Value] = [*agreement.heads]
    groups = plan_edit(agreement.replica.doc, diff_edits(current, text))
    if not groups:
        return []

    def first(ops: list[dcbor.Value], refs: list[bytes]) -> Step:
        return EDIT, {"agreement": doc, "deps": heads, "refs": [*refs], "ops": ops}

    return write_all(author, chain_bodies(groups, first, lambda _: doc))


def accept(author: Author, doc: bytes, known: Sequence[Entry]) -> Entry:
    """``agreement accept`` of the version ``known`` entries give."""
    agreement = state_of(doc, known)
    body: Mapping[str, dcbor.Value] = {
        "agreement": doc,
        "heads": [*agreement.heads],
        "version": version_hash(doc, agreement.text),
    }
    return author.write(ACCEPT, body)
