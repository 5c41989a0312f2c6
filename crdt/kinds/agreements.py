"""Public agreements: texts written together, their versions, and who accepted which.

Theory of operation
-------------------
An agreement is the ``agreement.new`` entry (its id is the agreement's id)
plus every ``agreement.edit`` naming it; each carries one
:class:`~samoorg.crdt.algorithms.text_replica.Change` of the text CRDT. Anyone may edit:
agreements are public and written together.

**Forked authors.** Like every view, this one never receives a forked
author's void entries (from the cut of their fork on,
:mod:`samoorg.crdt.framework.views`). Those characters therefore *disappear* from the
text, and their acceptances from the members. A change
of someone else that depends on one of their changes (it names it in
``deps`` or ``refs``) waits for it forever, on every node, whether or not the
node holds it: nothing else could be computed identically on a node holding
the other branch. Its author can re-edit (``agreement edit`` diffs against the
text as it now stands). An agreement created by a forked author disappears
whole; edits and acceptances of it wait.

**Version.** A version of an agreement is a set of its changes closed under
dependencies, named by its *heads* (the changes no other change in the set
depends on). The text of a version is the CRDT text of that set. Its
**version hash** is ``SHA-256(dcbor(["samoorg/agreement-version/v1",
agreement id, text]))``: it depends only on what the text says, so two
version sets with the same text (say, an edit and its revert) have the same
hash, and an acceptance stays current across them. The *current* version is
the set of all applied changes.

**Acceptance.** ``agreement.accept`` names the heads its author saw and the
version hash of that text. If we hold those heads the hash must match the
text at them, or the acceptance is invalid; if we do not, it is *unverified*
but still compares with the current hash. Each author's latest (highest seq)
valid acceptance counts. Members are those who accepted.

**Determinism.** This is a :class:`~samoorg.crdt.framework.domain.BucketDomain` with one
bucket per agreement. Resolving a bucket sorts its entries canonically
(author, seq) and feeds them to a fresh
:class:`~samoorg.crdt.algorithms.text_replica.Replica`, so the outcome is a function of
the set of entries whatever the order of arrival. An entry that names an
agreement or a change we do not hold (or one that is not an edit of this
agreement) is *pending*, not invalid: it may still become applicable, and
classifying it must not depend on entries of other kinds.

Records and their bytes
-----------------------
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
:class:`~samoorg.crdt.algorithms.text_replica.Change`, or raises
:class:`~samoorg.crdt.framework.errors.RuleViolation` naming the field at fault.
:func:`encode_ops` is the inverse used by the CLI; the body builders are
:func:`new_body`, :func:`edit_body` and :func:`acceptance_body`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, Final

from samoorg.crdt.algorithms.text import CharId, DeleteOp, InsertOp
from samoorg.crdt.algorithms.text_replica import Change, Delete, Insert, Op, Replica
from samoorg.crdt.framework.domain import BucketDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import found
from samoorg.crdt.framework.identity import latest_per_identity
from samoorg.crdt.framework.index import canonical_key
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor
from samoorg.protocol.crypto import digest
from samoorg.protocol.entry import Entry

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

AGREEMENT_NEW: Final = "agreement.new"
AGREEMENT_EDIT: Final = "agreement.edit"
AGREEMENT_ACCEPT: Final = "agreement.accept"
AGREEMENT_KINDS: Final = (AGREEMENT_NEW, AGREEMENT_EDIT, AGREEMENT_ACCEPT)

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
    if entry.kind == AGREEMENT_NEW:
        return entry.id
    return _id(entry.body.get("agreement"), "agreement")


def parse(entry: Entry) -> AgreementRecord:
    """The record an agreement entry carries; raises :class:`RuleViolation` if malformed."""
    body = entry.body
    if entry.kind == AGREEMENT_NEW:
        title = body.get("title")
        if type(title) is not str or not title.strip() or len(title) > MAX_TITLE:
            raise RuleViolation(
                f"expected 'title' as text of 1 to {MAX_TITLE} characters, found {found(title)}"
            )
        return NewAgreement(title, Change.build(entry.id, _ops(body.get("ops"), entry.id, [])))
    if entry.kind == AGREEMENT_EDIT:
        doc = doc_of(entry)
        deps = _ids(body.get("deps"), "deps", MAX_DEPS, ordered=True)
        refs = _ids(body.get("refs"), "refs", MAX_REFS, ordered=False)
        ops = _ops(body.get("ops"), entry.id, refs)
        return AgreementEdit(doc, Change.build(entry.id, ops, (*deps, *refs)))
    if entry.kind == AGREEMENT_ACCEPT:
        version = body.get("version")
        if type(version) is not bytes or len(version) != ID_SIZE:
            raise RuleViolation(f"expected 'version' as a 32-byte hash, found {found(version)}")
        heads = _ids(body.get("heads"), "heads", MAX_DEPS, ordered=True)
        return Acceptance(doc_of(entry), heads, version)
    raise RuleViolation(f"expected an agreement record, found kind {entry.kind}")


def new_body(title: str, ops: list[dcbor.Value]) -> dict[str, dcbor.Value]:
    """The body of an ``agreement.new`` with encoded operations ``ops`` (:func:`encode_ops`)."""
    return {"title": title, "ops": ops}


def edit_body(
    doc: bytes, deps: Sequence[bytes], refs: Sequence[bytes], ops: list[dcbor.Value]
) -> dict[str, dcbor.Value]:
    """The body of an ``agreement.edit`` of ``doc`` by someone who saw ``deps``."""
    return {"agreement": doc, "deps": [*deps], "refs": [*refs], "ops": ops}


def acceptance_body(doc: bytes, heads: Sequence[bytes], version: bytes) -> dict[str, dcbor.Value]:
    """The body of an ``agreement.accept`` of the version named by ``heads``, hashed ``version``."""
    return {"agreement": doc, "heads": [*heads], "version": version}


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


# -- the state of one agreement ------------------------------------------------

CURRENT = "current"
OUTDATED = "outdated"
UNVERIFIED = "unverified"


@dataclass(frozen=True, slots=True)
class Accepted:
    """One participant's counted acceptance of an agreement."""

    entry: Entry
    heads: tuple[bytes, ...]
    version: bytes
    status: str
    """:data:`CURRENT`, :data:`OUTDATED` (older text) or :data:`UNVERIFIED` (heads unknown)."""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One applied entry, for ``agreement history``."""

    entry: Entry
    inserted_pieces: tuple[str, ...]
    """What it inserted, as the pieces stand now in document order (deleted or not)."""
    deleted_pieces: tuple[str, ...]
    """What it deleted, as pieces in document order."""
    deps: tuple[bytes, ...]

    @property
    def inserted(self) -> int:
        """Characters inserted."""
        return sum(len(piece) for piece in self.inserted_pieces)

    @property
    def deleted(self) -> int:
        """Characters deleted (a character deleted concurrently twice counts for both)."""
        return sum(len(piece) for piece in self.deleted_pieces)


@dataclass(frozen=True, slots=True)
class BlameLine:
    """One line of the current text and the last entry that touched it."""

    number: int
    text: str
    entry: Entry
    authors: tuple[bytes, ...]
    """Everyone whose characters are visible on the line, sorted."""


@dataclass
class _Pieces:
    """Text filed per entry; runs filed at consecutive positions join into one piece."""

    pieces: dict[bytes, list[str]] = field(default_factory=dict)
    last: dict[bytes, int] = field(default_factory=dict)

    def file(self, agent: bytes, position: int, text: str) -> None:
        found = self.pieces.setdefault(agent, [])
        if found and self.last[agent] == position - 1:
            found[-1] += text
        else:
            found.append(text)
        self.last[agent] = position


@dataclass
class Bucket:
    """The entries of one agreement, as they arrived."""

    entries: list[Entry] = field(default_factory=list)


@dataclass
class Agreement:
    """The resolved state of one agreement (a pure function of its bucket)."""

    doc: bytes
    root: Entry | None
    title: str
    replica: Replica
    entries: dict[bytes, Entry]
    invalid: dict[bytes, Reason]
    pending: dict[bytes, Reason]
    accepted: dict[bytes, Accepted]

    @property
    def text(self) -> str:
        """The current text."""
        return self.replica.text()

    @cached_property
    def version(self) -> bytes:
        """The current version hash."""
        return version_hash(self.doc, self.text)

    @property
    def heads(self) -> tuple[bytes, ...]:
        """The current version's heads, sorted."""
        return tuple(sorted(self.replica.heads))

    @property
    def applied(self) -> list[Entry]:
        """The entries whose changes are in the text, in application order."""
        return [self.entries[a] for a in self.replica.applied]

    def text_at(self, heads: Sequence[bytes]) -> str:
        """The text of the version named by ``heads`` (all must be applied)."""
        members = self.replica.closure(heads)
        return self.replica.doc.text_at(members.__contains__)

    def versions(self) -> Iterator[tuple[Entry, bytes]]:
        """``(entry, hash of the version right after it)`` for every applied entry."""
        for agent in self.replica.applied:
            yield self.entries[agent], version_hash(self.doc, self.text_at((agent,)))

    def history(self) -> list[HistoryRow]:
        """Every applied entry with what it inserted and deleted, oldest first.

        One pass over the document: each run is filed under the entry that
        inserted it and under each entry that deleted it; runs adjacent in
        the document join into one piece.
        """
        added = _Pieces()
        removed = _Pieces()
        for position, span in enumerate(self.replica.doc.spans()):
            added.file(span.agent, position, span.text)
            for deleter in span.deleters:
                removed.file(deleter, position, span.text)
        rows = [
            HistoryRow(
                self.entries[agent],
                tuple(added.pieces.get(agent, ())),
                tuple(removed.pieces.get(agent, ())),
                tuple(sorted(change.deps)),
            )
            for agent, change in self.replica.applied.items()
        ]
        rows.sort(key=lambda row: (row.entry.timestamp, *canonical_key(row.entry)))
        return rows

    def blame(self) -> list[BlameLine]:
        """Each line of the current text with the latest entry that inserted or deleted on it.

        "Latest" is by (timestamp, author, seq). A line's characters include
        its final newline; deleted characters count for the line they sit in
        (the line of the next visible character).
        """

        def order(agent: bytes) -> tuple[int, bytes, int]:
            entry = self.entries[agent]
            return entry.timestamp, entry.author, entry.seq

        lines: list[BlameLine] = []
        parts: list[str] = []
        touched: set[bytes] = set()
        authors: set[bytes] = set()

        def close() -> None:
            last = max(touched, key=order)
            who = tuple(sorted(authors))
            lines.append(BlameLine(len(lines) + 1, "".join(parts), self.entries[last], who))
            parts.clear()
            touched.clear()
            authors.clear()

        for span in self.replica.doc.spans():
            if span.deleters:
                touched.update(span.deleters)
                continue
            author = self.entries[span.agent].author
            rest = span.text
            while rest:
                cut = rest.find("\n")
                piece = rest if cut < 0 else rest[: cut + 1]
                parts.append(piece)
                touched.add(span.agent)
                authors.add(author)
                rest = rest[len(piece) :]
                if cut >= 0:
                    close()
        if parts:
            close()
        return lines

    def state(self) -> dcbor.Value:
        """The canonical state hashed into the view digest."""
        spans: list[dcbor.Value] = [
            [s.agent, s.clock, s.text, [*sorted(s.deleters)]] for s in self.replica.doc.spans()
        ]
        accepted: list[dcbor.Value] = [
            [author, a.entry.id, a.version, a.status] for author, a in sorted(self.accepted.items())
        ]
        return [
            self.doc,
            self.title,
            [*self.heads],
            spans,
            accepted,
            digested(self.invalid),
            digested(self.pending),
        ]


def resolve_agreement(
    doc: bytes, entries: Sequence[Entry], identity: Callable[[bytes], bytes] = lambda k: k
) -> Agreement:
    """The state of agreement ``doc`` given its entries (any order, no duplicates)."""
    ordered = sorted(entries, key=canonical_key)
    by_id = {e.id: e for e in ordered}
    root = (
        by_id.get(doc) if by_id.get(doc) is not None and by_id[doc].kind == AGREEMENT_NEW else None
    )
    replica = Replica()
    invalid: dict[bytes, Reason] = {}
    pending: dict[bytes, Reason] = {}
    title = ""
    acceptances: list[tuple[Entry, Acceptance]] = []
    edits: list[AgreementEdit] = []
    for entry in ordered:
        try:
            record = parse(entry)
        except RuleViolation as exc:
            invalid[entry.id] = exc.malformed(entry.kind)
            continue
        if isinstance(record, NewAgreement):
            title = record.title
        elif isinstance(record, AgreementEdit):
            edits.append(record)
        else:
            acceptances.append((entry, record))
    if root is None:
        waiting = Reason(
            ReasonCode.WAITING_AGREEMENT, f"waiting for agreement {doc.hex()[:12]}", (doc,)
        )
        pending.update((e.id, waiting) for e in ordered if e.id not in invalid)
        return Agreement(doc, None, "", replica, by_id, invalid, pending, {})
    if root.id in invalid:
        reason = Reason(ReasonCode.INVALID_AGREEMENT, f"agreement {doc.hex()[:12]} is invalid")
        invalid.update((e.id, reason) for e in ordered if e.id not in invalid)
        return Agreement(doc, root, "", replica, by_id, invalid, pending, {})
    root_record = parse(root)
    assert isinstance(root_record, NewAgreement)
    for malformed in sorted(invalid):  # changes that depend on these are void, not waiting
        replica.refuse(malformed, invalid[malformed])
    replica.receive(root_record.change)
    for edit in edits:
        replica.receive(edit.change)
    invalid.update(replica.invalid)
    for agent, missing in replica.missing().items():
        ids = tuple(sorted(missing))
        names = ", ".join(m.hex()[:12] for m in ids)
        pending[agent] = Reason(
            ReasonCode.WAITING_DEPENDENCIES, f"waiting for entries {names}", ids
        )
    agreement = Agreement(doc, root, title, replica, by_id, invalid, pending, {})
    agreement.accepted = _acceptances(agreement, acceptances, identity)
    return agreement


def _acceptances(
    agreement: Agreement,
    acceptances: Sequence[tuple[Entry, Acceptance]],
    identity: Callable[[bytes], bytes],
) -> dict[bytes, Accepted]:
    """Check each acceptance; keep each identity's latest valid one (§8.11.1)."""
    replica = agreement.replica
    texts: dict[tuple[bytes, ...], bytes] = {}
    valid: list[Accepted] = []
    for entry, record in acceptances:  # canonical order: seq ascends per author
        if all(h in replica.applied for h in record.heads):
            known = texts.get(record.heads)
            if known is None:
                known = texts[record.heads] = version_hash(
                    agreement.doc, agreement.text_at(record.heads)
                )
            if known != record.version:
                agreement.invalid[entry.id] = Reason(
                    ReasonCode.VERSION_MISMATCH,
                    "the version hash does not match the text at the heads it names",
                )
                continue
            status = CURRENT if known == agreement.version else OUTDATED
        else:
            status = CURRENT if record.version == agreement.version else UNVERIFIED
        valid.append(Accepted(entry, record.heads, record.version, status))
    return latest_per_identity(
        valid,
        group=lambda a: identity(a.entry.author),
        device=lambda a: a.entry.author,
        seq=lambda a: a.entry.seq,
        order=lambda a: (a.entry.timestamp, a.entry.id),
    )


class AgreementState(BucketDomain[Bucket, Agreement]):
    """Every agreement held, resolved lazily per agreement."""

    name: ClassVar[str] = "agreements"
    decoders = MappingProxyType(dict.fromkeys(AGREEMENT_KINDS, parse))
    reads_keys = False

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new agreement entries under the agreement they name."""
        for entry in entries:
            try:
                key = doc_of(entry)
            except RuleViolation as exc:
                self._malformed[entry.id] = exc.malformed(entry.kind)
                continue
            self._bucket(key).entries.append(entry)

    def _new_bucket(self) -> Bucket:
        return Bucket()

    def _resolve(self, key: bytes, bucket: Bucket) -> Agreement:
        return resolve_agreement(key, bucket.entries, self.views.identity)

    def get(self, doc: bytes) -> Agreement | None:
        """The agreement with id ``doc`` if its ``agreement.new`` entry is held."""
        self._refresh()
        found = self._outcomes.get(doc)
        return found if found is not None and found.root is not None else None

    def all(self) -> list[Agreement]:
        """Every agreement whose ``agreement.new`` entry is held, oldest first."""
        found = [a for a in self._sorted_outcomes() if a.root is not None]
        return sorted(found, key=_age)

    def pending(self) -> dict[bytes, Reason]:
        """``{entry id: what it waits for}`` across agreements."""
        result: dict[bytes, Reason] = {}
        for outcome in self._sorted_outcomes():
            result.update(outcome.pending)
        return result

    def state(self) -> dcbor.Value:
        """Every agreement's canonical state, plus malformed entries."""
        return [
            [a.state() for a in self._sorted_outcomes()],
            digested(self._malformed),
        ]


def _age(agreement: Agreement) -> tuple[int, bytes]:
    root = agreement.root
    return (root.timestamp if root is not None else 0), agreement.doc


def find_version(agreement: Agreement, wanted: str) -> tuple[bytes, str, tuple[bytes, ...]]:
    """``(hash, text, heads)`` of the version named by a lowercase hex prefix of a version
    hash or of an entry id (``agreement show --version``); a RuleViolation otherwise."""
    short = agreement.doc.hex()[:12]
    entries = [a for a in agreement.replica.applied if a.hex().startswith(wanted)]
    if len(entries) == 1:
        text = agreement.text_at(entries)
        return version_hash(agreement.doc, text), text, tuple(entries)
    known: dict[bytes, tuple[str, tuple[bytes, ...]] | None] = {
        agreement.version: (agreement.text, agreement.heads)
    }
    for accepted in agreement.accepted.values():
        if all(h in agreement.replica for h in accepted.heads):
            known[accepted.version] = (agreement.text_at(accepted.heads), accepted.heads)
        else:
            known.setdefault(accepted.version, None)
    if not any(v.hex().startswith(wanted) for v in known):
        for entry, digest in agreement.versions():
            known.setdefault(digest, (agreement.text_at((entry.id,)), (entry.id,)))
    matches = [v for v in known if v.hex().startswith(wanted)]
    if len(matches) + len(entries) != 1:
        what = "no version or edit" if not matches and not entries else "several versions or edits"
        raise RuleViolation(f"{what} of {short} match {wanted!r}")
    found = known[matches[0]]
    if found is None:
        raise RuleViolation(
            f"version {wanted} was accepted by someone, but the edits it contains are not here yet"
        )
    return matches[0], found[0], found[1]


# -- samples ------------------------------------------------------------------


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """New agreements; edits inserting text at either end of held agreements, depending
    on held entries of them; acceptances of a held agreement's current version (or of
    some other text)."""
    from hypothesis import strategies as st

    words = st.sampled_from(["a", "rule\n", "we share"])
    insert = st.builds(lambda t: [INSERT_TAG, None, None, t], words)
    new = st.builds(
        lambda t, o: (AGREEMENT_NEW, new_body(t, o)),
        st.just("Rules"),
        st.lists(insert, min_size=1, max_size=2),
    )
    roots = ctx.of_kind(AGREEMENT_NEW)
    if not roots:
        return new

    @st.composite
    def edit(draw: st.DrawFn) -> Sample:
        root = draw(st.sampled_from(roots))
        mine = [e for e in ctx.entries if e.id == root.id or e.body.get("agreement") == root.id]
        deps = sorted(
            set(draw(st.lists(st.sampled_from([e.id for e in mine]), min_size=1, max_size=2)))
        )
        return AGREEMENT_EDIT, edit_body(
            root.id, deps, [], draw(st.lists(insert, min_size=1, max_size=2))
        )

    @st.composite
    def accept(draw: st.DrawFn) -> Sample:
        root = draw(st.sampled_from(roots))
        agreement = resolve_agreement(
            root.id,
            [e for e in ctx.entries if e.id == root.id or e.body.get("agreement") == root.id],
        )
        text = draw(st.sampled_from([agreement.text, "something else"]))
        heads = agreement.heads or (root.id,)
        return AGREEMENT_ACCEPT, acceptance_body(root.id, heads, version_hash(root.id, text))

    return new | edit() | edit() | accept()


FAMILY: Final = Family(AgreementState, samples, spec="8.9")
