"""Agreement record kinds and the byte-level encoding of text operations.

``docs/protocol.md`` §8.9 is normative. In short (CBOR, deterministic)::

    agreement.new     {"title": tstr, "ops": [op, ...]}
    agreement.edit    {"agreement": id, "deps": [id, ...], "refs": [id, ...], "ops": [op, ...]}
    agreement.accept  {"agreement": id, "heads": [id, ...], "version": bstr .size 32}

    op     = [0, ref / null, ref / null, tstr]    ; insert text between left and right
           / [1, ref, uint]                      ; delete a run of characters
    ref    = [k, offset]   ; k = 0: this entry; k >= 1: the entry refs[k - 1]

The characters an entry inserts are numbered from 0 in operation order and
their ids are ``(this entry's id, number)``: an entry can only *name* other
entries' characters, never create characters under another id. Each
insert is a run (one CBOR text string for a whole paragraph) and each delete
a run of consecutive ids, so an edit costs a few bytes per change, not per
character.

:func:`parse` turns an entry into a record with a ready
:class:`~samoorg.crdt.text_replica.Change`, or raises
:class:`~samoorg.crdt.errors.RuleViolation` naming the field at fault.
:func:`encode_ops` is the inverse used by the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.fields import found
from samoorg.crdt.text import CharId, DeleteOp, InsertOp
from samoorg.crdt.text_replica import Change, Delete, Insert, Op
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import digest
from samoorg.protocol.entry import Entry

NEW: Final = "agreement.new"
EDIT: Final = "agreement.edit"
ACCEPT: Final = "agreement.accept"
AGREEMENT_KINDS: Final = (NEW, EDIT, ACCEPT)

INSERT_TAG: Final = 0
DELETE_TAG: Final = 1
ID_SIZE: Final = 32
MAX_TITLE: Final = 200
MAX_DEPS: Final = 64
"""Heads named by one edit or acceptance (concurrent branches seen at once)."""
MAX_REFS: Final = 4096
MAX_OPS: Final = 16384
MAX_OFFSET: Final = 2**32 - 1
VERSION_DOMAIN: Final = "samoorg/agreement-version/v1"


@dataclass(frozen=True, slots=True)
class NewAgreement:
    """``agreement.new``: a title and the first text (its id is the agreement's id)."""

    title: str
    change: Change


@dataclass(frozen=True, slots=True)
class AgreementEdit:
    """``agreement.edit``: operations on agreement ``doc`` by someone who saw ``deps``."""

    doc: bytes
    change: Change


@dataclass(frozen=True, slots=True)
class Acceptance:
    """``agreement.accept``: the author accepts the text whose version hash is ``version``."""

    doc: bytes
    heads: tuple[bytes, ...]
    version: bytes


AgreementRecord = NewAgreement | AgreementEdit | Acceptance


def version_hash(doc: bytes, text: str) -> bytes:
    """SHA-256 of ``dcbor(["samoorg/agreement-version/v1", agreement id, text])``."""
    return digest(dcbor.encode([VERSION_DOMAIN, doc, text]))


def doc_of(entry: Entry) -> bytes:
    """The agreement an entry belongs to (its own id for ``agreement.new``)."""
    if entry.kind == NEW:
        return entry.id
    return _id(entry.body.get("agreement"), "agreement")


def parse(entry: Entry) -> AgreementRecord:
    """The record an agreement entry carries; raises :class:`RuleViolation` if malformed."""
    body = entry.body
    if entry.kind == NEW:
        title = body.get("title")
        if type(title) is not str or not title.strip() or len(title) > MAX_TITLE:
            raise RuleViolation(
                f"expected 'title' as text of 1 to {MAX_TITLE} characters, found {found(title)}"
            )
        return NewAgreement(title, Change.build(entry.id, _ops(body.get("ops"), entry.id, [])))
    if entry.kind == EDIT:
        doc = doc_of(entry)
        deps = _ids(body.get("deps"), "deps", MAX_DEPS, ordered=True)
        refs = _ids(body.get("refs"), "refs", MAX_REFS, ordered=False)
        ops = _ops(body.get("ops"), entry.id, refs)
        return AgreementEdit(doc, Change.build(entry.id, ops, (*deps, *refs)))
    if entry.kind == ACCEPT:
        version = body.get("version")
        if type(version) is not bytes or len(version) != ID_SIZE:
            raise RuleViolation(f"expected 'version' as a 32-byte hash, found {found(version)}")
        heads = _ids(body.get("heads"), "heads", MAX_DEPS, ordered=True)
        return Acceptance(doc_of(entry), heads, version)
    raise RuleViolation(f"expected an agreement record, found kind {entry.kind}")


def encode_ops(
    ops: Iterable[InsertOp | DeleteOp], own: bytes, alias: Mapping[bytes, bytes]
) -> tuple[list[dcbor.Value], list[bytes]]:
    """Encode local operations made under agent ``own``; return ``(ops, refs)``.

    ``alias`` maps agents of earlier, already signed entries of the same edit
    to their entry ids; every other agent already is an entry id.
    """
    refs: list[bytes] = []
    slots: dict[bytes, int] = {}

    def ref(char: CharId | None) -> dcbor.Value:
        if char is None:
            return None
        agent = char[0]
        if agent == own:
            return [0, char[1]]
        name = alias.get(agent, agent)
        slot = slots.get(name)
        if slot is None:
            refs.append(name)
            slot = slots[name] = len(refs)
        return [slot, char[1]]

    encoded: list[dcbor.Value] = []
    for op in ops:
        if isinstance(op, InsertOp):
            encoded.append([INSERT_TAG, ref(op.left), ref(op.right), op.text])
        else:
            encoded.append([DELETE_TAG, ref((op.agent, op.clock)), op.length])
    return encoded, refs


# -- readers ------------------------------------------------------------------


def _id(value: object, field: str) -> bytes:
    if type(value) is not bytes or len(value) != ID_SIZE:
        raise RuleViolation(f"expected {field!r} as a 32-byte entry id, found {found(value)}")
    return value


def _ids(value: object, field: str, limit: int, *, ordered: bool) -> tuple[bytes, ...]:
    if type(value) is not list or len(value) > limit or (ordered and not value):
        least = 1 if ordered else 0
        raise RuleViolation(
            f"expected {field!r} as a list of {least} to {limit} entry ids, found {found(value)}"
        )
    ids = tuple(_id(item, field) for item in value)
    if ordered and any(a >= b for a, b in pairwise(ids)):
        raise RuleViolation(f"expected {field!r} sorted with no duplicates")
    if len(set(ids)) != len(ids):
        raise RuleViolation(f"expected {field!r} without duplicates")
    return ids


def _uint(value: object, what: str, least: int = 0) -> int:
    if type(value) is not int or not least <= value <= MAX_OFFSET:
        raise RuleViolation(f"expected {what} as an integer >= {least}, found {found(value)}")
    return value


def _ref(value: object, own: bytes, refs: list[bytes] | tuple[bytes, ...]) -> CharId:
    if type(value) is not list or len(value) != 2:
        raise RuleViolation(f"expected a character reference [k, offset], found {found(value)}")
    slot = _uint(value[0], "a reference's entry slot")
    offset = _uint(value[1], "a reference's offset")
    if slot == 0:
        return own, offset
    if slot > len(refs):
        raise RuleViolation(f"reference to entry slot {slot}, but 'refs' has {len(refs)}")
    return refs[slot - 1], offset


def _ops(value: object, own: bytes, refs: list[bytes] | tuple[bytes, ...]) -> list[Op]:
    if type(value) is not list or not value or len(value) > MAX_OPS:
        raise RuleViolation(
            f"expected 'ops' as a list of 1 to {MAX_OPS} operations, found {found(value)}"
        )
    ops: list[Op] = []
    for item in value:
        if type(item) is not list or not item:
            raise RuleViolation(f"expected an operation array, found {found(item)}")
        tag = item[0]
        if tag == INSERT_TAG and type(tag) is int and len(item) == 4:
            _, left, right, text = item
            if type(text) is not str or not text:
                raise RuleViolation(f"expected inserted text, found {found(text)}")
            ops.append(
                Insert(
                    None if left is None else _ref(left, own, refs),
                    None if right is None else _ref(right, own, refs),
                    text,
                )
            )
        elif tag == DELETE_TAG and type(tag) is int and len(item) == 3:
            ops.append(Delete(_ref(item[1], own, refs), _uint(item[2], "a deletion length", 1)))
        else:
            raise RuleViolation(
                "expected an operation [0, left, right, text] or [1, ref, length], "
                f"found {found(item)}"
            )
    return ops
