"""Checkpointed views: start from a saved state and apply only the entries stored after it.

Usage::

    live = open_views(store)        # checkpoint + the entries after it, or a rebuild
    live.views.trust.pool(me)
    live.catch_up()                 # entries stored since (by any process)
    save_checkpoint(live)           # atomically, beside the store

Theory of operation. A :class:`StoreViews` is a :class:`~samoorg.crdt.framework.views.Views`
plus the highest store rowid it has applied (``entries.rowid`` grows with
arrival, so :meth:`Store.entries(since=rowid) <samoorg.node.store.Store.entries>`
yields exactly what is new). A checkpoint is that state serialized with
pickle, between a header that says what it covers and a trailer:

* the format version (:data:`FORMAT`) and a fingerprint of the code that made
  it (the sources of ``samoorg.crdt``, ``samoorg.protocol`` and this module,
  and the Python version): another version is never unpickled;
* the store's identity (:meth:`Store.store_id <samoorg.node.store.Store.store_id>`,
  random per store): a checkpoint of another store, or of a store replaced by
  a new file, is never applied;
* the rowid covered, the id of the entry at that rowid and the number of rows
  up to it: if the store is behind or rows were deleted, it no longer matches;
* the forked authors it was built with: a fork proof stored since changes the
  forked-author policy of every view, so the checkpoint is not used (rebuilt
  from the entries instead);
* a trailer with the length and SHA-256 of the payload, checked (streaming,
  so the payload is never held in memory as bytes) before unpickling: a
  truncated or damaged file is rejected.

Any mismatch raises :class:`~samoorg.node.errors.CheckpointRejected` inside
:func:`open_views`, which then rebuilds the views from every stored entry; so
the result always equals a rebuild (``tests/test_checkpoint.py`` compares
digests). :func:`save_checkpoint` writes a temporary file (0600), fsyncs it
and renames it over the old one, so a kill at any moment leaves the old or the
new checkpoint, each complete.

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

import copyreg
import dataclasses
import hashlib
import json
import logging
import os
import pickle
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.node.errors import CheckpointRejected, KeyFileError, StoreError
from samoorg.node.keystore import check_private_file
from samoorg.node.store import Store
from samoorg.protocol.entry import Entry

log = logging.getLogger("samoorg.node")

FORMAT: Final = 1
MAGIC: Final = b"samoorg-views\n"
_PREFIX: Final = struct.Struct(">14sII")  # magic, format, header length
_TRAILER: Final = struct.Struct(">Q32s")  # payload length, SHA-256 of the payload
MAX_HEADER: Final = 1 << 24
SAVE_AFTER: Final = 5_000
"""Offline commands save a checkpoint when they applied at least this many entries."""
_ALLOWED_BUILTINS: Final = frozenset(
    {
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "list"),
        ("builtins", "dict"),
        ("builtins", "tuple"),
        ("builtins", "bytearray"),
        ("builtins", "object"),
        ("collections", "defaultdict"),
        ("collections", "deque"),
        ("collections", "OrderedDict"),
        ("copyreg", "_reconstructor"),
    }
)


Listener = Callable[[list[Entry]], None]


@dataclass
class StoreViews:
    """Views over a store, with the store rowid of every entry they hold."""

    store: Store
    views: Views
    rowids: list[int] = field(default_factory=list)
    """The store rowid of each entry of ``views.index.log`` (ascending, same positions)."""
    unsaved: int = 0
    """Entries applied since the state was loaded or saved (to decide when to save)."""
    listeners: list[Listener] = field(default_factory=list)
    """Called by :meth:`catch_up` with every batch of newly stored entries."""

    @property
    def rowid(self) -> int:
        """The highest store rowid applied (0: none)."""
        return self.rowids[-1] if self.rowids else 0

    def catch_up(self) -> list[Entry]:
        """Apply the entries and fork proofs stored since; return (and announce) the entries."""
        index, rowids = self.views.index, self.rowids
        new: list[Entry] = []
        with paused_gc():
            for rowid, entry in self.store.entries(since=self.rowid):
                index.add(entry)  # False for our own records, already added by the writer
                rowids.append(rowid)
                new.append(entry)
        for author in self.store.forked_authors():
            index.add_forked(author)
        self.unsaved += len(new)
        if new:
            for listener in list(self.listeners):
                listener(new)
        return new


def checkpoint_path(store: Store) -> Path:
    """Where the checkpoint of ``store`` lives: beside it."""
    return store.path.with_name(store.path.name + ".views")


def open_views(store: Store, path: Path | None = None) -> StoreViews:
    """The views of ``store``: its checkpoint if valid (else a rebuild), then caught up."""
    path = checkpoint_path(store) if path is None else path
    try:
        live = read_checkpoint(store, path)
    except CheckpointRejected as exc:
        log.info("rebuilding the views: %s", exc)
        live = rebuild(store)
    live.catch_up()
    return live


def rebuild(store: Store) -> StoreViews:
    """Views built from every stored entry (every one counts as unsaved)."""
    live = StoreViews(store, Views(EntryIndex(forked=store.forked_authors())))
    live.catch_up()
    return live


def code_fingerprint() -> str:
    """Hex SHA-256 of the code a checkpoint's contents depend on."""
    global _FINGERPRINT  # noqa: PLW0603 - computed once per process
    if _FINGERPRINT is None:
        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256(f"{FORMAT} {sys.version_info[:2]}".encode())
        files = [Path(__file__).resolve()]
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
    (count,) = db.execute("SELECT COUNT(*) FROM entries WHERE rowid <= ?", (rowid,)).fetchone()
    row = db.execute("SELECT id FROM entries WHERE rowid = ?", (rowid,)).fetchone()
    return int(count), bytes(row[0]).hex() if row else ""


def save_checkpoint(live: StoreViews, path: Path | None = None) -> None:
    """Write ``live``'s state atomically (temporary file, fsync, rename; mode 0600).

    Resolves every domain first, so the next start has nothing to rebuild.
    """
    path = checkpoint_path(live.store) if path is None else path
    views = live.views
    views.invalid()
    count, last = _covered(live.store, live.rowid)
    if count != len(views.index):
        raise CheckpointRejected(
            f"expected {count} entries up to rowid {live.rowid}, "
            f"found {len(views.index)} in the views"
        )
    header = json.dumps(
        {
            "code": code_fingerprint(),
            "store": live.store.store_id().hex(),
            "rowid": live.rowid,
            "count": count,
            "last": last,
            "forked": sorted(a.hex() for a in views.index.forked),
        },
        sort_keys=True,
    ).encode()

    def write(out: BinaryIO) -> None:
        out.write(_PREFIX.pack(MAGIC, FORMAT, len(header)))
        out.write(header)
        hashing = _HashingWriter(out)
        pickler = pickle.Pickler(hashing, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {**copyreg.dispatch_table, **_frozen_reducers()}
        with paused_gc():
            pickler.dump((views, live.rowids))
        out.write(_TRAILER.pack(hashing.size, hashing.digest.digest()))

    _write_atomically(path, write)
    live.unsaved = 0


def save_if_behind(live: StoreViews, threshold: int | None = None) -> bool:
    """Save when at least ``threshold`` (:data:`SAVE_AFTER`) entries were applied since the last
    save; never raise.

    A checkpoint is only a cache: if it cannot be written (a full disk, a
    read-only home), the next start rebuilds, so the failure is logged only.
    """
    if live.unsaved < (SAVE_AFTER if threshold is None else threshold):
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
    """The state saved in ``path`` if it matches ``store`` exactly.

    Raises :class:`CheckpointRejected` otherwise (see the module docstring).
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
        with path.open("rb") as file:
            header, payload_at, payload_size = _read_envelope(file)
            expected = {
                "code": code_fingerprint(),
                "store": store_id.hex(),
                "forked": sorted(a.hex() for a in store.forked_authors()),
            }
            for key, value in expected.items():
                if header.get(key) != value:
                    raise CheckpointRejected(f"checkpoint {key} differs: expected {value}")
            rowid, count, last = header.get("rowid"), header.get("count"), header.get("last")
            if not (isinstance(rowid, int) and isinstance(count, int) and isinstance(last, str)):
                raise CheckpointRejected("expected rowid, count and last in the checkpoint header")
            if _covered(store, rowid) != (count, last):
                raise CheckpointRejected(f"the store no longer holds the rows up to {rowid}")
            file.seek(payload_at)
            loaded = _load_payload(file, payload_size)
    except OSError as exc:
        raise CheckpointRejected(f"cannot read {path}: {exc.strerror}") from None
    views, rowids = loaded if isinstance(loaded, tuple) and len(loaded) == 2 else (None, None)
    if not (isinstance(views, Views) and isinstance(rowids, list)) or not (
        len(views.index) == len(rowids) == count and (not rowids or rowids[-1] == rowid)
    ):
        raise CheckpointRejected(f"expected views of {count} entries in the checkpoint")
    return StoreViews(store, views, rowids)


def _read_envelope(file: BinaryIO) -> tuple[dict[str, Any], int, int]:
    """The header, and where the payload starts and how long it is; its checksum is verified."""
    prefix = file.read(_PREFIX.size)
    if len(prefix) < _PREFIX.size:
        raise CheckpointRejected(f"expected a checkpoint header, found {len(prefix)} bytes")
    magic, version, size = _PREFIX.unpack(prefix)
    if magic != MAGIC or version != FORMAT:
        raise CheckpointRejected(f"expected checkpoint format {FORMAT}, found {version}")
    total = os.fstat(file.fileno()).st_size
    payload_at = _PREFIX.size + size
    if size > MAX_HEADER or payload_at + _TRAILER.size > total:
        raise CheckpointRejected("checkpoint header is truncated")
    try:
        header = json.loads(file.read(size))
    except ValueError:
        raise CheckpointRejected("checkpoint header is not JSON") from None
    if not isinstance(header, dict):
        raise CheckpointRejected("expected a JSON object as checkpoint header")
    file.seek(total - _TRAILER.size)
    payload_size, checksum = _TRAILER.unpack(file.read(_TRAILER.size))
    if payload_at + payload_size + _TRAILER.size != total:
        raise CheckpointRejected(f"expected {payload_size} payload bytes: the file is truncated")
    digest = hashlib.sha256()
    file.seek(payload_at)
    left = payload_size
    while left:
        chunk = file.read(min(left, 1 << 20))
        if not chunk:
            raise CheckpointRejected("checkpoint payload is truncated")
        digest.update(chunk)
        left -= len(chunk)
    if digest.digest() != checksum:
        raise CheckpointRejected("checkpoint checksum does not match its contents")
    return header, payload_at, payload_size


def _load_payload(file: BinaryIO, size: int) -> object:
    start = file.tell()
    try:
        with paused_gc():
            views = _Unpickler(file).load()
    except Exception as exc:  # noqa: BLE001 - any failure means: rebuild
        raise CheckpointRejected(f"cannot load checkpoint: {type(exc).__name__}: {exc}") from None
    if file.tell() != start + size:
        raise CheckpointRejected("expected the pickled views to fill the checkpoint payload")
    return views


def _frozen_reducers() -> dict[type, Callable[[Any], tuple[Any, ...]]]:
    """Reducers for samoorg's frozen slotted dataclasses (see :func:`_restore`)."""
    found: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("samoorg.") or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name and _frozen_slots(value):
                found[value] = _reduce_frozen
    return found


def _frozen_slots(cls: type) -> bool:
    params = getattr(cls, "__dataclass_params__", None)
    return params is not None and params.frozen and "__slots__" in vars(cls)


def _reduce_frozen(obj: Any) -> tuple[Any, ...]:
    cls = type(obj)
    return _restore, (cls, tuple([getattr(obj, name) for name in _field_names(cls)]))


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        if not (cls.__module__.startswith("samoorg.") and _frozen_slots(cls)):
            raise pickle.UnpicklingError(f"expected a frozen samoorg dataclass, found {cls!r}")
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}
_NEW: Final = object.__new__
_SET: Final = object.__setattr__


def _restore(cls: type, values: tuple[Any, ...]) -> object:
    """A frozen dataclass with ``values`` as its fields, without ``__init__`` (unpickling).

    The default, ``dataclasses._dataclass_setstate``, looks the fields up for
    every object: three times slower, and most of a checkpoint's load time.
    """
    names = _FIELDS.get(cls) or _field_names(cls)
    if len(names) != len(values):
        raise pickle.UnpicklingError(f"expected {len(names)} fields for {cls.__name__}")
    obj: object = _NEW(cls)
    for name, value in zip(names, values):  # noqa: B905 - lengths checked above
        _SET(obj, name, value)
    return obj


class _HashingWriter:
    """A file wrapper that hashes and counts what is written through it."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self._out.write(data)


class _Unpickler(pickle.Unpickler):
    """Resolves only samoorg's classes and a few builtin containers."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, "_restore"):
            return _restore
        if (module.startswith("samoorg.") and "." not in name) or (
            module,
            name,
        ) in _ALLOWED_BUILTINS:
            found = super().find_class(module, name)
            if isinstance(found, type) or module == "copyreg":
                return found
        raise pickle.UnpicklingError(f"checkpoint names {module}.{name}, which is not allowed")
