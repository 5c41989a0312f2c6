"""Checkpointed views: start from a saved state and apply only the entries stored after it.

Usage::

    live = open_views(store)        # checkpoint + the entries after it, or a rebuild
    live.views.trust.pool(me)       # loads the trust section only
    live.catch_up()                 # entries stored since (by any process)
    save_checkpoint(live)           # atomically, beside the store

Theory of operation. A :class:`StoreViews` is a :class:`~samoorg.crdt.framework.views.Views`
plus the highest store rowid it has applied (``entries.rowid`` grows with
arrival, so :meth:`Store.entries(since=rowid) <samoorg.node.store.Store.entries>`
yields exactly what is new). A checkpoint is that state in **sections**, one
per domain (``domain:trust``, ``domain:pledges`` ...) plus the sorted ids of
the entries covered (with their rowids) and their authors, followed by a
header that says what it covers and a trailer (the header is written after
the sections, whose places and checksums it lists):

* the format version (:data:`FORMAT`) and a fingerprint of the code that made
  it (the sources of ``samoorg.crdt``, ``samoorg.protocol`` and this module,
  and the Python version): another version is never unpickled;
* the store's identity (:meth:`Store.store_id <samoorg.node.store.Store.store_id>`,
  random per store): a checkpoint of another store, or of a store replaced by
  a new file, is never applied;
* the rowid covered, the id of the entry at that rowid and the number of rows
  up to it: if the store is behind or rows were deleted, it no longer matches;
* the forked authors and their cuts it was built with (``forked``,
  :func:`~samoorg.crdt.framework.exclusion.fork_marks`): a fork proof stored
  since changes the forked-author policy of every view, so the checkpoint is
  not used (rebuilt from the entries instead); an entry the checkpoint covers
  at or past its author's cut is void like any other
  (:meth:`EntryIndex.is_void <samoorg.crdt.framework.index.EntryIndex.is_void>`);
* the revoked devices and their cuts, and the identity map (which device
  key belongs to which identity), its sections were built with
  (``revoked``): a domain other than the devices' is restored only if both
  are the same now, else it is rebuilt (views are per identity, §8.11.1);
* per section its place, length, SHA-256, and the rowid its state covers
  (a domain not used by a process is copied unchanged into the next save, so
  its section may cover fewer rows than the checkpoint);
* a trailer with the payload's and the header's lengths and the SHA-256 of
  the header, checked first: a truncated file or a damaged header is rejected.

**Lazily.** Opening a checkpoint reads only its header: the views' index holds
the covered entries without loading them (:class:`~samoorg.crdt.framework.index.HeldBefore`,
answered by the store and the ids section), and a domain is unpickled the first
time it is asked for (:meth:`Checkpoint.restore`), then brought up to the
checkpoint's rowid from the store's entries of its kinds, then to the present
from the entries in memory. So ``samoorg trust pool`` loads the trust section
and nothing else. A section whose checksum, pickle or class does not match is
not used: that domain is built from the store's entries instead (a warning is
logged), so the result always equals a rebuild (``tests/test_checkpoint.py``
compares digests; :func:`check_checkpoint` verifies every section at once).

Any mismatch of the header raises :class:`~samoorg.node.errors.CheckpointRejected`
inside :func:`open_views`, which then rebuilds the views from every stored
entry. :func:`save_checkpoint` writes a temporary file (0600), fsyncs it and
renames it over the old one, so a kill at any moment leaves the old or the
new checkpoint, each complete. Sections are copied from the checkpoint that
was read through a descriptor opened when it was read, so another process
replacing the file meanwhile does not matter.

**Compact.** When pickling, the short strings and the 32-byte keys and ids in
records and entry bodies are shared (one object per distinct value, which
pickle then writes once), so a loaded checkpoint holds one ``"amount"`` key
and one copy of each author's key, not one per entry. The entries a domain
holds are saved without their signed bytes and signature (``raw`` and
``signature`` are restored empty): views read an entry's fields only, and
whoever needs the signed bytes reads them from the store (the index's
:class:`StoreBase`, ``samoorg log``, sync). That is a third of a checkpoint.
A domain whose records carry every field it reads (``reads_bodies = False``)
has its entries saved without their bodies as well
(:data:`~samoorg.node.checkpoint_pickle.NO_BODY`).

Trust boundary. Unpickling runs code chosen by whoever wrote the file, so a
checkpoint is trusted exactly like the key file: it lives in the user's home,
is written 0600 by this module, and is read only if it is owned by the user
and not open to group or others (the key file's check,
:func:`~samoorg.node.keystore.check_private_file`). Nothing received from a peer is
ever unpickled: peers send entries, which are decoded, never pickled. As a
second line, the unpickler only resolves classes of ``samoorg`` and a few
builtin containers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import pickle
import struct
import sys
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.domain import Domain
from samoorg.crdt.framework.exclusion import device_marks, fork_marks
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import BULK, DOMAINS, UNREVOKED, Views
from samoorg.node.checkpoint_pickle import decode_rows, read_domain, write_domain
from samoorg.node.errors import CheckpointRejected, KeyFileError, StoreError
from samoorg.node.keystore import check_private_file
from samoorg.node.lazy_rows import SortedIds
from samoorg.node.store import Store
from samoorg.protocol.entry import Entry

log = logging.getLogger("samoorg.node")

FORMAT: Final = 6
MAGIC: Final = b"samoorg-views\n"
_PREFIX: Final = struct.Struct(">14sI")  # magic, format
_TRAILER: Final = struct.Struct(">QI32s")  # payload length, header length, SHA-256 of the header
MAX_HEADER: Final = 1 << 24
ID_SIZE: Final = 32
IDS: Final = "ids"
"""Section: the covered entries' ids, sorted, 32 bytes each."""
ID_ROWS: Final = "id-rows"
"""Section: the rowid of each id of :data:`IDS` (signed 64-bit, native order)."""
AUTHORS: Final = "authors"
"""Section: the covered entries' authors, sorted, 32 bytes each."""
SAVE_AFTER: Final = 5_000
"""Offline commands save a checkpoint when they applied at least this many entries."""
_CHUNK: Final = 1 << 20


Listener = Callable[[list[Entry]], None]


def section_name(cls: type[Domain]) -> str:
    """The checkpoint section holding ``cls``'s state."""
    return f"domain:{cls.name}"


@dataclass
class StoreViews:
    """Views over a store, with the store rowid of every entry they hold in memory."""

    store: Store
    views: Views
    rowids: list[int] = field(default_factory=list)
    """The store rowid of each entry of ``views.index.log`` (ascending, same positions)."""
    unsaved: int = 0
    """Entries applied since the state was loaded or saved (to decide when to save)."""
    listeners: list[Listener] = field(default_factory=list)
    """Called by :meth:`catch_up` with every batch of newly stored entries."""
    checkpoint: Checkpoint | None = None
    """The checkpoint the state started from (its entries are the index's base)."""

    @property
    def rowid(self) -> int:
        """The highest store rowid applied (0: none)."""
        if self.rowids:
            return self.rowids[-1]
        return 0 if self.checkpoint is None else self.checkpoint.rowid

    def catch_up(self, limit: int | None = None) -> list[Entry]:
        """Apply the entries and fork proofs stored since; return (and announce) the entries.

        With ``limit``, only the first ``limit`` entries stored since: fewer
        returned means none is left (:func:`~samoorg.node.daemon_views.catch_up_in_steps`).
        """
        index, rowids = self.views.index, self.rowids
        new: list[Entry] = []
        with paused_gc():
            for rowid, entry in self.store.entries(since=self.rowid, limit=limit):
                index.add(entry)  # False for our own records, already added by the writer
                rowids.append(rowid)
                new.append(entry)
        for author, cut in self.store.fork_cuts().items():
            index.add_forked(author, cut)
        self.unsaved += len(new)
        if new:
            for listener in list(self.listeners):
                listener(new)
        return new


@dataclass(frozen=True)
class Section:
    """Where one section lies in the payload, its checksum, and the rowid its state covers."""

    at: int
    size: int
    sha256: str
    rowid: int

    def as_json(self) -> dict[str, Any]:
        """The header's form."""
        return dataclasses.asdict(self)


class Checkpoint:
    """A checkpoint file whose header matched the store, read section by section."""

    def __init__(self, store: Store, fd: int, header: dict[str, Any], payload_at: int) -> None:
        self.store = store
        self._fd = fd
        weakref.finalize(self, os.close, fd)
        self.rowid: int = header["rowid"]
        self.count: int = header["count"]
        self.version: int = header["version"]
        self.cuts: list[str] = header["forked"]
        """The fork cuts its sections were built with (:func:`fork_marks`)."""
        self.revoked: list[str] = header["revoked"]
        """The revoked devices' cuts and the identity map its sections were built with
        (:func:`device_marks`)."""
        self.kinds: frozenset[str] = frozenset(header["kinds"])
        self.sections = {
            name: Section(payload_at + v["at"], v["size"], v["sha256"], v["rowid"])
            for name, v in header["sections"].items()
        }
        self._ids: tuple[SortedIds, array[int]] | None = None
        self.freeze = False
        """Whether to :func:`gc.freeze` what each section loads (see :func:`open_views`)."""
        self._authors: set[bytes] | None = None
        self._preloaded: dict[type[Domain], Domain | CheckpointRejected] = {}
        """Sections unpickled ahead of their first use (:meth:`preload`)."""

    def preload(self, cls: type[Domain]) -> None:
        """Unpickle ``cls``'s section now, for :meth:`restore` to take later.

        Safe in a worker thread (``trio.to_thread``) while the owning thread
        uses the views: it reads only this file and builds new objects; the
        store is read, and the state attached, by :meth:`restore` in the
        owning thread. A failure is kept for :meth:`restore` to report.
        """
        if cls in self._preloaded or section_name(cls) not in self.sections:
            return
        try:
            self._preloaded[cls] = self._unpickle(cls)
        except CheckpointRejected as exc:
            self._preloaded[cls] = exc

    def forget(self, cls: type[Domain]) -> None:
        """Drop what :meth:`preload` unpickled for ``cls`` (it was loaded otherwise)."""
        self._preloaded.pop(cls, None)

    def chunks(self, name: str) -> Iterable[bytes]:
        """The bytes of section ``name``, verified against its checksum as they are read.

        Raises :class:`CheckpointRejected` (after the last chunk, at the latest)
        if the section is missing, short or damaged.
        """
        section = self.sections.get(name)
        if section is None:
            raise CheckpointRejected(f"the checkpoint has no section {name}")
        digest = hashlib.sha256()
        at, left = section.at, section.size
        while left:
            chunk = os.pread(self._fd, min(left, _CHUNK), at)
            if not chunk:
                raise CheckpointRejected(f"checkpoint section {name} is truncated")
            digest.update(chunk)
            at += len(chunk)
            left -= len(chunk)
            yield chunk
        if digest.hexdigest() != section.sha256:
            raise CheckpointRejected(f"checkpoint section {name} does not match its checksum")

    def read(self, name: str) -> bytes:
        """The whole verified section ``name``."""
        return b"".join(self.chunks(name))

    def verify(self, name: str) -> None:
        """Raise :class:`CheckpointRejected` unless section ``name`` matches its checksum."""
        for _ in self.chunks(name):
            pass

    def load_domain(self, views: Views, cls: type[Domain]) -> Domain:
        """``cls``'s saved state as of its section's rowid, attached to ``views``."""
        found = self._preloaded.pop(cls, None)
        domain = self._unpickle(cls) if found is None else found
        if isinstance(domain, CheckpointRejected):
            raise domain
        domain.views = views
        return domain

    def _unpickle(self, cls: type[Domain]) -> Domain:
        """``cls``'s saved state as of its section's rowid, not yet attached to views."""
        name = section_name(cls)
        self.verify(name)  # before unpickling anything
        section = self.sections[name]
        return read_domain(cls, self._fd, section.at, section.size, freeze=self.freeze)

    def restore(self, views: Views, cls: type[Domain]) -> tuple[Domain, int] | None:
        """``cls``'s state covering the checkpoint's rows, or None (then it is rebuilt).

        The :data:`~samoorg.crdt.framework.views.Restorer` of the views read from this
        checkpoint: the saved state plus the store's entries of its kinds
        between its section's rowid and the checkpoint's.
        """
        if (
            section_name(cls) not in self.sections
            or fork_marks(views.index.cuts) != self.cuts
            # The devices domain computes the revocations and identities, never reads them.
            or (cls not in UNREVOKED and _device_marks(views) != self.revoked)
        ):
            self._preloaded.pop(cls, None)
            return None
        try:
            domain = self.load_domain(views, cls)
        except CheckpointRejected as exc:
            log.warning("rebuilding the %s view: %s", cls.name, exc)
            return None
        since = self.sections[section_name(cls)].rowid
        if since < self.rowid:
            void = views.void(cls)
            later = [
                e
                for _, e in self.store.entries(kinds=cls.kinds, since=since, until=self.rowid)
                if void is None or not void(e)
            ]
            if later:
                with paused_gc():
                    domain.apply(later)
                    if len(later) >= BULK:
                        domain.invalid()
        return domain, self.count

    def ids(self) -> tuple[SortedIds, array[int]]:
        """The covered entries' sorted ids and their rowids."""
        if self._ids is None:
            ids = SortedIds(self.read(IDS))
            rows = array("q")
            rows.frombytes(self.read(ID_ROWS))
            if len(ids) != self.count or len(rows) != self.count:
                raise CheckpointRejected(f"expected {self.count} ids in the checkpoint")
            self._ids = ids, rows
        return self._ids

    def authors(self) -> set[bytes]:
        """The covered entries' authors."""
        if self._authors is None:
            data = self.read(AUTHORS)
            self._authors = {data[n : n + ID_SIZE] for n in range(0, len(data), ID_SIZE)}
        return self._authors


class StoreBase:
    """The entries a checkpoint covers, read from the store when asked.

    An index's :class:`~samoorg.crdt.framework.index.HeldBefore`.
    """

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint
        self.store = checkpoint.store

    @property
    def count(self) -> int:
        """How many entries the checkpoint covers."""
        return self.checkpoint.count

    def get(self, entry_id: bytes) -> Entry | None:
        """The covered entry with this id (a binary search in the ids section)."""
        try:
            ids, rows = self.checkpoint.ids()
        except CheckpointRejected as exc:
            log.warning("looking ids up in the store: %s", exc)
            return self.store.get_by_id(entry_id, until=self.checkpoint.rowid)
        at = bisect_left(ids, entry_id)
        if at < len(ids) and ids[at] == entry_id:
            return self.store.entry_at(rows[at])
        return None

    def of_kinds(self, kinds: Sequence[str]) -> list[Entry]:
        """The covered entries of ``kinds``, in rowid order."""
        if not kinds:
            return []
        return [e for _, e in self.store.entries(kinds=kinds, until=self.checkpoint.rowid)]

    def of_author(self, author: bytes, kinds: Sequence[str] | None) -> list[Entry]:
        """The covered entries by ``author`` (of ``kinds``), in rowid order."""
        if kinds is not None and not kinds:
            return []
        rows = self.store.entries(author=author, kinds=kinds, until=self.checkpoint.rowid)
        return [e for _, e in rows]

    def authors(self) -> set[bytes]:
        """The covered entries' authors."""
        return set(self.checkpoint.authors())

    def kinds(self) -> set[str]:
        """The covered entries' kinds."""
        return set(self.checkpoint.kinds)


def checkpoint_path(store: Store) -> Path:
    """Where the checkpoint of ``store`` lives: beside it."""
    return store.path.with_name(store.path.name + ".views")


def open_views(store: Store, path: Path | None = None, *, freeze: bool = False) -> StoreViews:
    """The views of ``store``: its checkpoint if valid (else a rebuild), then caught up.

    ``freeze``: the process keeps what it loads until it exits (a CLI command,
    the daemon), so what a section loads is moved out of the cyclic
    collector's sight (:func:`gc.freeze`, still inside the paused collector):
    otherwise the first collection after loading walks every loaded object,
    and every later one while answering rescans them (a quarter of ``trust
    pool``'s time at 1M entries). Not for tests: frozen cycles are never freed.
    """
    path = checkpoint_path(store) if path is None else path
    try:
        live = read_checkpoint(store, path)
        assert live.checkpoint is not None
        live.checkpoint.freeze = freeze
    except CheckpointRejected as exc:
        log.info("rebuilding the views: %s", exc)
        live = rebuild(store)
    live.catch_up()
    return live


def rebuild(store: Store) -> StoreViews:
    """Views built from every stored entry (every one counts as unsaved)."""
    live = StoreViews(store, Views(EntryIndex(forked=store.fork_cuts())))
    live.catch_up()
    return live


def code_fingerprint() -> str:
    """Hex SHA-256 of the code a checkpoint's contents depend on."""
    global _FINGERPRINT  # noqa: PLW0603 - computed once per process
    if _FINGERPRINT is None:
        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256(f"{FORMAT} {sys.version_info[:2]}".encode())
        here = Path(__file__).resolve()
        files = [here, here.with_name("checkpoint_pickle.py"), here.with_name("lazy_rows.py")]
        for package in ("crdt", "protocol"):
            files.extend(sorted((root / package).rglob("*.py")))
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
        _FINGERPRINT = digest.hexdigest()
    return _FINGERPRINT


_FINGERPRINT: str | None = None


def _covered(store: Store, rowid: int) -> tuple[int, str]:
    """``(rows up to rowid, hex id of the entry at rowid)`` as the store holds them now."""
    db = store._db
    # Counted in the kind index (a tenth of the table's pages), not in the table.
    (count,) = db.execute(
        "SELECT COUNT(*) FROM entries INDEXED BY entries_by_kind WHERE rowid <= ?", (rowid,)
    ).fetchone()
    row = db.execute("SELECT id FROM entries WHERE rowid = ?", (rowid,)).fetchone()
    return int(count), bytes(row[0]).hex() if row else ""


def save_checkpoint(live: StoreViews, path: Path | None = None) -> None:
    """Write ``live``'s state atomically (temporary file, fsync, rename; mode 0600).

    Every domain in use is resolved and saved as it is now; a domain not used
    since the checkpoint was read is copied from it unchanged (its section
    keeps its rowid); any other is built first.
    """
    prepare_save(live, path).write()
    live.unsaved = 0


@dataclass
class PendingSave:
    """A checkpoint ready to be written: what :func:`prepare_save` read from the store.

    :meth:`write` reads neither the store nor the index, only the domains'
    resolved state and the old checkpoint's file, so it can run in a forked
    child (:func:`save_in_child`) while the parent goes on changing the views.
    """

    path: Path
    header: dict[str, Any]
    domains: dict[type[Domain], Domain | None]
    """Each domain's state to pickle, or ``None``: copy its section from ``old``."""
    old: Checkpoint | None
    source: Checkpoint | None
    tail: list[tuple[Entry, int]]

    def write(self) -> None:
        """Write the checkpoint atomically."""
        _write_atomically(self.path, self._write)

    def _write(self, out: BinaryIO) -> None:
        old, count = self.old, self.header["count"]
        out.write(_PREFIX.pack(MAGIC, FORMAT))
        hashing = _HashingWriter(out)
        sections: dict[str, Section] = {}
        for cls, domain in self.domains.items():
            name = section_name(cls)
            start = hashing.size
            if domain is None:
                assert old is not None
                sections[name] = _copy_section(old, name, hashing, start)
                continue
            hashing.start()
            write_domain(domain, hashing)
            sections[name] = Section(start, hashing.size - start, hashing.hexdigest(), count)
        ids, rows = _all_ids(self.source, self.tail)
        authors = _all_authors(self.source, self.tail)
        for name, data in ((IDS, ids), (ID_ROWS, rows.tobytes()), (AUTHORS, authors)):
            start = hashing.size
            hashing.start()
            hashing.write(data)
            sections[name] = Section(start, len(data), hashing.hexdigest(), count)
        header = json.dumps(
            {**self.header, "sections": {name: s.as_json() for name, s in sections.items()}},
            sort_keys=True,
        ).encode()
        out.write(header)
        out.write(_TRAILER.pack(hashing.size, len(header), hashlib.sha256(header).digest()))


def prepare_save(live: StoreViews, path: Path | None = None) -> PendingSave:
    """Read what saving ``live`` needs from the store; resolve every domain to be pickled."""
    path = checkpoint_path(live.store) if path is None else path
    views = live.views
    index = views.index
    count, last = _covered(live.store, live.rowid)
    if count != len(index):
        raise CheckpointRejected(
            f"expected {count} entries up to rowid {live.rowid}, found {len(index)} in the views"
        )
    source = live.checkpoint  # the ids, authors and kinds of the entries it covers
    cuts, revoked = fork_marks(index.cuts), _device_marks(views)
    # Its sections may be copied only if they were built with the same fork and
    # revocation cuts.
    same = source is not None and (source.cuts, source.revoked) == (cuts, revoked)
    old = source if same else None
    tail = list(zip(index.log, live.rowids, strict=True))
    kinds = {e.kind for e, _ in tail}
    if source is not None:
        kinds |= source.kinds
    domains: dict[type[Domain], Domain | None] = {}
    for cls in DOMAINS:
        name = section_name(cls)
        if old is not None and not views.is_loaded(cls) and name in old.sections:
            try:
                old.verify(name)
                domains[cls] = None
                continue
            except CheckpointRejected as exc:
                log.warning("saving the %s view anew: %s", cls.name, exc)
        domain = domains[cls] = views.domain(cls)
        with paused_gc():
            domain.invalid()  # resolves everything, so a restored domain has nothing dirty
        domain.worth_saving = False  # saved now (and restored so)
    if old is not None:
        old.ids()  # read now: the child must not need the store to fall back on
    header = {
        "code": code_fingerprint(),
        "store": live.store.store_id().hex(),
        "rowid": live.rowid,
        "count": count,
        "last": last,
        "forked": cuts,
        "revoked": revoked,
        "version": index.version,
        "kinds": sorted(kinds),
    }
    return PendingSave(path, header, domains, old, source, tail)


def save_in_child(live: StoreViews) -> Callable[[], bool] | None:
    """Start saving ``live``'s checkpoint in a forked child; return a wait for its success.

    The child writes the copy-on-write snapshot of the state as it was at the
    fork (:class:`PendingSave`), so the parent's loop keeps serving meanwhile;
    ``wait()`` blocks until the child exits (run it in a worker thread) and
    tells whether it saved; the caller then takes the entries applied before
    this call off :attr:`StoreViews.unsaved`. ``None``: it cannot be prepared
    (logged; the checkpoint is only a cache).
    """
    try:
        pending = prepare_save(live)
    except (OSError, StoreError, CheckpointRejected) as exc:
        log.warning("cannot save the views checkpoint: %s", exc)
        return None
    pid = os.fork()
    if pid == 0:  # the child: write and leave at once (no atexit, no cleanup of the parent's)
        code = 1
        try:
            pending.write()
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported, then the child exits
            log.warning("cannot save the views checkpoint: %s", exc)
        finally:
            os._exit(code)

    def wait() -> bool:
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status) == 0

    return wait


def _copy_section(old: Checkpoint, name: str, out: _HashingWriter, start: int) -> Section:
    """Copy section ``name`` of ``old`` (verified) to ``out``."""
    out.start()
    for chunk in old.chunks(name):
        out.write(chunk)
    return Section(start, out.size - start, out.hexdigest(), old.sections[name].rowid)


def _all_ids(old: Checkpoint | None, tail: list[tuple[Entry, int]]) -> tuple[bytes, array[int]]:
    """Sorted ids and rowids of the old checkpoint's entries plus ``tail``'s."""
    added = sorted((e.id, rowid) for e, rowid in tail)
    if old is None:
        rows = array("q", [rowid for _, rowid in added])
        return b"".join(i for i, _ in added), rows
    ids, old_rows = old.ids()
    data = ids.data
    parts: list[bytes] = []
    rows = array("q")
    done = 0
    for entry_id, rowid in added:
        at = bisect_left(ids, entry_id)
        parts += (data[done * ID_SIZE : at * ID_SIZE], entry_id)
        rows.extend(old_rows[done:at])
        rows.append(rowid)
        done = at
    parts.append(data[done * ID_SIZE :])
    rows.extend(old_rows[done:])
    return b"".join(parts), rows


def _all_authors(old: Checkpoint | None, tail: list[tuple[Entry, int]]) -> bytes:
    found = {e.author for e, _ in tail}
    if old is not None:
        found |= old.authors()
    return b"".join(sorted(found))


def save_if_behind(live: StoreViews, threshold: int | None = None) -> bool:
    """Save when at least ``threshold`` (:data:`SAVE_AFTER`) entries were applied since the last
    save, or a domain derived something worth keeping (``Views.worth_saving``: the netting);
    never raise.

    A checkpoint is only a cache: if it cannot be written (a full disk, a
    read-only home), the next start rebuilds, so the failure is logged only.
    """
    behind = live.unsaved >= (SAVE_AFTER if threshold is None else threshold)
    if not behind and not live.views.worth_saving():
        return False
    try:
        save_checkpoint(live)
    except (OSError, StoreError, CheckpointRejected, pickle.PicklingError) as exc:
        log.warning("cannot save the views checkpoint: %s", exc)
        return False
    return True


def _write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    _remove_abandoned(path)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _remove_abandoned(path: Path) -> None:
    """Delete temporary files left by saving processes that no longer run."""
    for leftover in path.parent.glob(f"{path.name}.*.tmp"):
        pid = leftover.name[len(path.name) + 1 : -len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except OSError:
            continue  # alive, owned by someone else


def read_checkpoint(store: Store, path: Path) -> StoreViews:
    """The state saved in ``path`` if its header matches ``store`` exactly.

    Raises :class:`CheckpointRejected` otherwise (see the module docstring).
    Sections are read later, when a domain is first asked for.
    """
    if not path.exists():
        raise CheckpointRejected(f"no checkpoint at {path}")
    try:
        check_private_file(path, what="views checkpoint", missing="it is rebuilt")
        status = path.stat()
    except (KeyFileError, OSError) as exc:
        raise CheckpointRejected(str(exc)) from None
    if hasattr(os, "getuid") and status.st_uid != os.getuid():
        raise CheckpointRejected(f"expected {path} to be owned by uid {os.getuid()}")
    try:
        store_id = store.store_id()
    except StoreError as exc:  # e.g. a read-only store without an id yet
        raise CheckpointRejected(f"cannot read the store's id: {exc}") from None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise CheckpointRejected(f"cannot read {path}: {exc.strerror}") from None
    try:
        header, payload_at = _read_envelope(fd)
        expected = {
            "code": code_fingerprint(),
            "store": store_id.hex(),
            "forked": fork_marks(store.fork_cuts()),
        }
        for key, value in expected.items():
            if header.get(key) != value:
                raise CheckpointRejected(f"checkpoint {key} differs: expected {value}")
        _check_header(header)
        rowid, count = header["rowid"], header["count"]
        if _covered(store, rowid) != (count, header["last"]):
            raise CheckpointRejected(f"the store no longer holds the rows up to {rowid}")
        checkpoint = Checkpoint(store, fd, header, payload_at)
    except BaseException:
        os.close(fd)
        raise
    index = EntryIndex(forked=store.fork_cuts(), base=StoreBase(checkpoint))
    index.version = checkpoint.version + 1  # no cache saved in a section is taken as current
    views = Views(index, restorer=checkpoint.restore)
    return StoreViews(store, views, checkpoint=checkpoint)


def check_checkpoint(store: Store, path: Path) -> None:
    """Raise :class:`CheckpointRejected` unless ``path`` and every section in it are sound.

    What :func:`open_views` does lazily, at once: the header, every domain
    section unpickled, the ids and authors.
    """
    live = read_checkpoint(store, path)
    checkpoint = live.checkpoint
    assert checkpoint is not None
    for cls in DOMAINS:
        decode_rows(checkpoint.load_domain(live.views, cls))
    checkpoint.ids()
    checkpoint.verify(AUTHORS)


def _check_header(header: dict[str, Any]) -> None:
    ints = ("rowid", "count", "version")
    if not all(isinstance(header.get(k), int) for k in ints) or not isinstance(
        header.get("last"), str
    ):
        raise CheckpointRejected("expected rowid, count, version and last in the checkpoint header")
    sections = header.get("sections")
    for name in ("kinds", "forked", "revoked"):
        listed = header.get(name)
        if not isinstance(listed, list) or not all(isinstance(k, str) for k in listed):
            raise CheckpointRejected(f"expected a list of {name} in the checkpoint header")
    if not isinstance(sections, dict):
        raise CheckpointRejected("expected the sections in the checkpoint header")
    for name, value in sections.items():
        fields = ("at", "size", "rowid")
        if not (
            isinstance(value, dict)
            and all(isinstance(value.get(k), int) and value[k] >= 0 for k in fields)
            and isinstance(value.get("sha256"), str)
            and value["rowid"] <= header["rowid"]
        ):
            raise CheckpointRejected(f"expected the place and checksum of section {name}")


def _read_envelope(fd: int) -> tuple[dict[str, Any], int]:
    """The header (its checksum verified) and where the payload starts."""
    prefix = os.pread(fd, _PREFIX.size, 0)
    if len(prefix) < _PREFIX.size:
        raise CheckpointRejected(f"expected a checkpoint header, found {len(prefix)} bytes")
    magic, version = _PREFIX.unpack(prefix)
    if magic != MAGIC or version != FORMAT:
        raise CheckpointRejected(f"expected checkpoint format {FORMAT}, found {version}")
    total = os.fstat(fd).st_size
    if total < _PREFIX.size + _TRAILER.size:
        raise CheckpointRejected("checkpoint trailer is truncated")
    trailer = os.pread(fd, _TRAILER.size, total - _TRAILER.size)
    payload_size, size, checksum = _TRAILER.unpack(trailer)
    if size > MAX_HEADER or _PREFIX.size + payload_size + size + _TRAILER.size != total:
        raise CheckpointRejected(f"expected {payload_size} payload bytes: the file is truncated")
    raw = os.pread(fd, size, _PREFIX.size + payload_size)
    if hashlib.sha256(raw).digest() != checksum:
        raise CheckpointRejected("checkpoint header does not match its checksum")
    try:
        header = json.loads(raw)
    except ValueError:
        raise CheckpointRejected("checkpoint header is not JSON") from None
    if not isinstance(header, dict):
        raise CheckpointRejected("expected a JSON object as checkpoint header")
    for value in (header.get("sections") or {}).values():
        at, length = (value.get("at"), value.get("size")) if isinstance(value, dict) else (0, 0)
        if isinstance(at, int) and isinstance(length, int) and at + length > payload_size:
            raise CheckpointRejected("a checkpoint section lies outside the payload")
    return header, _PREFIX.size


class _HashingWriter:
    """A file wrapper that counts what is written through it and hashes each section."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def start(self) -> None:
        """Begin a new section's checksum."""
        self.digest = hashlib.sha256()

    def hexdigest(self) -> str:
        """The checksum of what was written since :meth:`start`."""
        return self.digest.hexdigest()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self._out.write(data)


def _device_marks(views: Views) -> list[str]:
    return device_marks(views.revoked(), views.identities())
