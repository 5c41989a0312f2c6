"""How a checkpoint section holds one domain's state: pickled, with a bucket domain's rows apart.

Theory of operation. A domain section (``node/checkpoint.py`` owns the file
around it) is, in order::

    rows     a bucket domain's objects, one pickle per key, keys ascending
    parts    the domain's large attributes, one pickle each
    state    pickle of (class, small attributes, atoms, keys, row offsets,
             {part name: (offset, end)})
    footer   8 bytes, big-endian: where ``state`` starts in the section

A :class:`~samoorg.crdt.framework.domain.BucketDomain` keeps one bucket and one
outcome per object (its ``ROWS``); each pair is pickled on its own, so that
loading the section reads only ``state`` and the rows stay encoded until a
query names them (:mod:`samoorg.node.lazy_rows`). Rows share their short strings
and the entries' author keys through **atoms**: a list, saved in ``state``,
that a row names by position (pickle's persistent ids), so a row of a pledge
costs its own ids and numbers, not another copy of its author's key. Saving
again copies every row not decoded since (byte for byte: the new atoms list
starts with the old one) and pickles the others. Any other domain has no rows
(``atoms`` is ``None``) and everything in ``state``.

An attribute whose pickle takes 1 KB or more (the pledges' appeals, debts,
netting, per-member index...) is a **part**: the restored domain holds
``{name: load}`` in ``_parts`` instead, and ``Domain.__getattr__`` loads it
when a query first reads it (``ledger`` reads the debts and the netting, not
the appeals). Saving copies the parts not read since, byte for byte. Parts
are pickled apart, so objects shared between two attributes are saved (and
restored) once per attribute.

Frozen dataclasses are pickled as their fields (:func:`_restore`), sharing
equal short strings and keys; entries lose their signed bytes and signature
(and their bodies, if the domain reads none: :data:`NO_BODY`). The unpickler
resolves only samoorg's classes and a few builtin containers, and a checkpoint
is read only from the user's own private file (see ``node/checkpoint.py``).
"""

from __future__ import annotations

import copyreg
import dataclasses
import gc
import io
import os
import pickle
import struct
import sys
import weakref
from array import array
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any, BinaryIO, Final, Protocol

from samoorg.crdt.framework.bulk import paused_gc
from samoorg.crdt.framework.domain import PARTS, BucketDomain, Domain
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import DOMAINS, Views
from samoorg.node.errors import CheckpointRejected
from samoorg.node.lazy_rows import EncodedRows, LazyRows, SortedIds
from samoorg.protocol.entry import Entry

ID_SIZE: Final = 32
FOOTER: Final = struct.Struct(">Q")
"""A domain section's last 8 bytes: where its state pickle starts."""
_SHORT: Final = 64
"""Strings up to this length are shared (atoms in rows)."""


class Output(Protocol):
    """Where a section is written: bytes in, and how many were written so far."""

    size: int

    def write(self, data: bytes) -> int: ...


def write_domain(domain: Domain, out: Output) -> None:
    """Write the section of a resolved domain (see the module docstring)."""
    start = out.size
    cls = type(domain)
    state = {k: v for k, v in vars(domain).items() if k not in ("views", PARTS)}
    rows = _row_maps(domain)
    atoms: list[object] | None = None
    keys, offsets = b"", b""
    if rows is not None:
        atoms, keys, offsets = _write_rows(*rows, out, start, bodies=cls.reads_bodies)
        for name in BucketDomain.ROWS:
            del state[name]
    elif isinstance(domain, BucketDomain):
        for name in BucketDomain.ROWS:  # a lazy mapping is never pickled as such
            state[name] = dict(state[name].items())
    reducers = _frozen_reducers(_Reducer(bodies=cls.reads_bodies))
    dispatch = {**copyreg.dispatch_table, **_refused(), **reducers}
    with paused_gc():
        parts = _write_parts(domain, state, out, start, dispatch)
    at = out.size - start
    with paused_gc():
        _pickler(out, dispatch).dump((cls, state, atoms, keys, offsets, parts))
    out.write(FOOTER.pack(at))


def _pickler(out: Output | BinaryIO, dispatch: dict[type, Any]) -> pickle.Pickler:
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = dispatch
    return pickler


_INLINE: Final = 1024
"""An attribute whose pickle is shorter stays in the state pickle (it is read at once)."""


def _write_parts(
    domain: Domain, state: dict[str, Any], out: Output, start: int, dispatch: dict[type, Any]
) -> dict[str, Any]:
    """Write each large attribute of ``state`` as a part (taking it out of ``state``), and
    copy the parts still unread; return ``{name: (offset, end)}`` in the section."""
    places: dict[str, Any] = {}
    pending = vars(domain).get(PARTS) or {}
    for name, part in pending.items():
        if name in state or not isinstance(part, _SavedPart):
            continue  # read (or set) since: pickled below
        places[name] = (out.size - start, out.size - start + part.size)
        out.write(part.raw())
    for name in sorted(state):
        buffer = io.BytesIO()
        _pickler(buffer, dispatch).dump(state[name])
        data = buffer.getvalue()
        if len(data) < _INLINE:
            continue
        places[name] = (out.size - start, out.size - start + len(data))
        out.write(data)
        del state[name]
    return places


Rows = tuple[MutableMapping[bytes, Any], MutableMapping[bytes, Any]]


def _row_maps(domain: Domain) -> Rows | None:
    """A bucket domain's buckets and outcomes if they have the same keys (after a refresh)."""
    if not isinstance(domain, BucketDomain):
        return None
    buckets, outcomes = (getattr(domain, name) for name in BucketDomain.ROWS)
    if isinstance(buckets, dict) and isinstance(outcomes, dict):
        same = buckets.keys() == outcomes.keys()
    elif isinstance(buckets, LazyRows) and isinstance(outcomes, LazyRows):
        same = buckets.source is outcomes.source and (
            buckets.decoded.keys() == outcomes.decoded.keys()
        )
    else:
        same = sorted(buckets) == sorted(outcomes)
    return (buckets, outcomes) if same else None


def _write_rows(
    buckets: MutableMapping[bytes, Any],
    outcomes: MutableMapping[bytes, Any],
    out: Output,
    start: int,
    *,
    bodies: bool,
) -> tuple[list[object], bytes, bytes]:
    """Write each key's ``(bucket, outcome)``; return the atoms, the keys and the offsets."""
    source = buckets.source if isinstance(buckets, LazyRows) else None
    atoms: list[object] = []
    copied: dict[bytes, int] = {}
    if isinstance(source, _SavedRows):
        atoms = list(source.atoms)
        copied = {key: at for at, key in source.encoded()}
    pickler = _RowPickler(atoms, bodies=bodies)
    keys = sorted(buckets)
    offsets = array("q")
    # Unchanged rows that follow each other in the old section are copied as one run
    # (one read and one write, not one per row: 419,000 rows took 6 s).
    run = _CopyRun(source) if isinstance(source, _SavedRows) else None
    with paused_gc():
        for key in keys:
            at = copied.get(key)
            if run is not None and at is not None and run.extends(at):
                offsets.append(run.offset(at))
                continue
            if run is not None:
                run.flush(out)
            offsets.append(out.size - start)
            if at is None:
                out.write(pickler.encode((buckets[key], outcomes[key])))
            else:
                assert run is not None
                run.begin(at, out.size - start)
        if run is not None:
            run.flush(out)
    offsets.append(out.size - start)
    return atoms, b"".join(keys), offsets.tobytes()


COPY_RUN: Final = 1 << 22
"""The most bytes of unchanged rows a save reads from the old checkpoint at once."""


class _CopyRun:
    """Consecutive unchanged rows of the old section, copied to the new one together."""

    def __init__(self, rows: _SavedRows) -> None:
        self.rows = rows
        self.first = self.stop = 0  # rows [first, stop) of the old section
        self.at = 0  # where row ``first`` goes in the new section

    def begin(self, row: int, at: int) -> None:
        """Start a run with ``row``, written at ``at`` of the new section."""
        self.first, self.stop, self.at = row, row + 1, at

    def extends(self, row: int) -> bool:
        """Add ``row`` if it is the next old row and the run stays within :data:`COPY_RUN`."""
        places = self.rows.places
        if self.stop == self.first or row != self.stop:
            return False
        if places[row + 1] - places[self.first] > COPY_RUN:
            return False
        self.stop += 1
        return True

    def offset(self, row: int) -> int:
        """Where ``row`` of the run goes in the new section."""
        places = self.rows.places
        return self.at + places[row] - places[self.first]

    def flush(self, out: Output) -> None:
        """Write the run's bytes (if any) and empty it."""
        if self.stop > self.first:
            out.write(self.rows.read_run(self.first, self.stop))
        self.first = self.stop = 0


def read_domain(cls: type[Domain], fd: int, at: int, size: int, *, freeze: bool) -> Domain:
    """The domain saved in the (verified) section of ``size`` bytes at ``at`` of ``fd``,
    not yet attached to views; raises :class:`CheckpointRejected`."""
    if size < FOOTER.size:
        raise CheckpointRejected(f"expected a footer in the section of {cls.name}")
    (state_at,) = FOOTER.unpack(os.pread(fd, FOOTER.size, at + size - FOOTER.size))
    if state_at > size - FOOTER.size:
        raise CheckpointRejected(f"expected the state of {cls.name} inside its section")
    reader = _SectionReader(fd, at + state_at, size - FOOTER.size - state_at)
    with paused_gc():
        loaded = _loaded(_Unpickler(reader), cls.name)
        if freeze:
            gc.freeze()
    if reader.left:
        raise CheckpointRejected(f"expected the pickled {cls.name} to fill its section")
    if not (
        isinstance(loaded, tuple)
        and len(loaded) == 6
        and loaded[0] is cls
        and isinstance(loaded[1], dict)
        and isinstance(loaded[5], dict)
    ):
        raise CheckpointRejected(f"expected the state of {cls.__name__}")
    _, state, atoms, keys, offsets, places = loaded
    file = _SectionFile(fd, at)
    if atoms is not None:
        rows = _rows(cls, file, state_at, atoms, keys, offsets)
        state[BucketDomain.ROWS[0]], state[BucketDomain.ROWS[1]] = rows.buckets, rows.outcomes
    if places:
        state[PARTS] = {
            name: _SavedPart(cls.name, name, file, *_place(cls, name, place, state_at))
            for name, place in places.items()
        }
    domain: Domain = cls.__new__(cls)
    vars(domain).update(state)
    return domain


def _place(cls: type[Domain], name: object, place: object, end: int) -> tuple[int, int]:
    if not (
        isinstance(name, str)
        and isinstance(place, tuple)
        and len(place) == 2
        and all(type(n) is int for n in place)
        and 0 <= place[0] <= place[1] <= end
    ):
        raise CheckpointRejected(f"expected the place of a part of {cls.name}, found {place!r}")
    return place[0], place[1]


def _loaded(unpickler: pickle.Unpickler, what: str) -> Any:
    """``unpickler.load()``; any failure is the checkpoint's (:class:`CheckpointRejected`)."""
    try:
        return unpickler.load()
    except Exception as exc:  # noqa: BLE001 - any failure means: rebuild
        raise CheckpointRejected(f"cannot load {what}: {type(exc).__name__}: {exc}") from None


class _SectionFile:
    """The checkpoint's file, kept open for the rows and parts a section's domain reads later."""

    def __init__(self, fd: int, at: int) -> None:
        self.fd = os.dup(fd)  # the checkpoint's descriptor may close before the last read
        weakref.finalize(self, os.close, self.fd)
        self.at = at

    def read(self, begin: int, end: int, what: str) -> bytes:
        """Bytes ``begin`` to ``end`` of the section (raises if cut short: ``what`` is)."""
        data = os.pread(self.fd, end - begin, self.at + begin)
        if len(data) != end - begin:
            raise CheckpointRejected(f"{what} is truncated")
        return data


class _SavedPart:
    """One attribute of a restored domain, left encoded until read (``Domain.__getattr__``)."""

    def __init__(self, domain: str, name: str, file: _SectionFile, begin: int, end: int) -> None:
        self.domain = domain
        self.name = name
        self.file = file
        self.begin = begin
        self.size = end - begin

    def raw(self) -> bytes:
        """The part's bytes as saved (raises :class:`CheckpointRejected` if cut short)."""
        return self.file.read(self.begin, self.begin + self.size, self._what())

    def __call__(self) -> object:
        """The attribute's value."""
        data = self.raw()
        with paused_gc():
            return _loaded(_Unpickler(io.BytesIO(data)), self._what())

    def _what(self) -> str:
        return f"the {self.name} of {self.domain}"


def _rows(
    cls: type[Domain], file: _SectionFile, end: int, atoms: object, keys: object, offsets: object
) -> _SavedRows:
    if not (
        issubclass(cls, BucketDomain)
        and isinstance(atoms, list)
        and isinstance(keys, bytes)
        and isinstance(offsets, bytes)
        and len(keys) % ID_SIZE == 0
        and len(offsets) % 8 == 0
    ):
        raise CheckpointRejected(f"expected the rows of {cls.name}")
    places = array("q")
    places.frombytes(offsets)
    if len(places) != len(keys) // ID_SIZE + 1 or places[0] != 0 or places[-1] > end:
        raise CheckpointRejected(f"expected {len(keys) // ID_SIZE} rows of {cls.name}")
    return _SavedRows(cls.name, file, SortedIds(keys), places, atoms)


class _SavedRows(EncodedRows):
    """Rows in a checkpoint file: row ``n`` lies at ``places[n]`` of its section."""

    def __init__(
        self,
        name: str,
        file: _SectionFile,
        keys: SortedIds,
        places: array[int],
        atoms: list[object],
    ) -> None:
        super().__init__(keys, self._read, self._decode)
        self.name = name
        self.file = file
        self.places = places
        self.atoms = atoms

    def _read(self, n: int) -> bytes:
        return self.read_run(n, n + 1)

    def read_run(self, first: int, stop: int) -> bytes:
        """The bytes of rows ``first`` to ``stop - 1``, which lie one after the other."""
        return self.file.read(self.places[first], self.places[stop], f"a row of {self.name}")

    def _decode(self, data: bytes) -> tuple[Any, Any]:
        row = _loaded(_RowUnpickler(io.BytesIO(data), self.atoms), f"a row of {self.name}")
        if not (isinstance(row, tuple) and len(row) == 2):
            raise CheckpointRejected(f"expected a bucket and an outcome in a row of {self.name}")
        return row[0], row[1]


def decode_rows(domain: Domain) -> None:
    """Decode every part and every row of a restored domain (raises
    :class:`CheckpointRejected`)."""
    for name in list(vars(domain).get(PARTS) or ()):
        getattr(domain, name)
    if isinstance(domain, BucketDomain):
        outcomes = getattr(domain, BucketDomain.ROWS[1])
        if isinstance(outcomes, LazyRows):
            outcomes.source.take_all()


class _RowPickler(pickle.Pickler):
    """Pickles one row at a time, naming atoms by their position (see the module docstring)."""

    def __init__(self, atoms: list[object], *, bodies: bool) -> None:
        self.buffer = io.BytesIO()
        super().__init__(self.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.atoms = atoms
        self.index: dict[object, int] = {a: n for n, a in enumerate(atoms)}
        reducers = _frozen_reducers(_Reducer(bodies=bodies, atoms=self))
        self.dispatch_table = {**copyreg.dispatch_table, **_refused(), **reducers}

    def atom(self, value: object) -> int:
        """The position of ``value`` in the atoms (added if new)."""
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.atoms)
            self.atoms.append(value)
        return found

    def persistent_id(self, obj: Any) -> int | None:
        kind = type(obj)
        if kind is str:
            return self.atom(obj) if len(obj) <= _SHORT else None
        if kind is bytes and len(obj) == ID_SIZE:
            return self.index.get(obj)
        return None

    def encode(self, row: object) -> bytes:
        """The pickle of one row."""
        buffer = self.buffer
        buffer.seek(0)
        buffer.truncate()
        self.clear_memo()
        self.dump(row)
        return buffer.getvalue()


ALLOWED_BUILTINS: Final = frozenset(
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


class _NoBody(Mapping[str, Any]):
    """The body of an entry saved without it: empty, immutable, pickled by name."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __reduce__(self) -> str:
        return "NO_BODY"


NO_BODY: Final = _NoBody()
"""The body of every entry a checkpoint saved without its body (``Domain.reads_bodies``)."""


def _refused() -> dict[type, Callable[[Any], tuple[Any, ...]]]:
    """Reducers that refuse the views, the index and other domains inside a domain's state."""

    def refuse(obj: object) -> tuple[Any, ...]:
        raise pickle.PicklingError(f"a view's state refers to a {type(obj).__name__}")

    return dict.fromkeys((Views, EntryIndex, *DOMAINS), refuse)


def _frozen_reducers(reducer: _Reducer) -> dict[type, _Reducer]:
    """``reducer`` for each of samoorg's frozen slotted dataclasses (see :func:`_restore`)."""
    found: dict[type, _Reducer] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("samoorg.") or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name and _frozen_slots(value):
                found[value] = reducer
    return found


def _frozen_slots(cls: type) -> bool:
    params = getattr(cls, "__dataclass_params__", None)
    return params is not None and params.frozen and "__slots__" in vars(cls)


class _Reducer:
    """Reduces a frozen dataclass to its fields, sharing equal short strings and keys."""

    def __init__(self, *, bodies: bool, atoms: _RowPickler | None = None) -> None:
        self.shared: dict[object, object] = {}
        """One object per distinct short string or key (the pickler's memo then writes it once)."""
        self.bodies = bodies
        self.atoms = atoms
        """Where an entry's author becomes an atom (a row's pickler), if anywhere."""

    def share(self, value: object) -> object:
        kind = type(value)
        if (kind is str and len(value) <= 64) or (kind is bytes and len(value) == ID_SIZE):  # type: ignore[arg-type]
            return self.shared.setdefault(value, value)
        if kind is dict:
            share = self.share
            return {share(k): share(v) for k, v in value.items()}  # type: ignore[attr-defined]
        return value

    def __call__(self, obj: Any) -> tuple[Any, ...]:
        cls = type(obj)
        share = self.share
        values = [share(getattr(obj, name)) for name in _field_names(cls)]
        if cls is Entry:  # views read the fields, never the signed bytes: the store has them
            values[_ENTRY_RAW] = values[_ENTRY_SIGNATURE] = b""
            if self.atoms is not None:
                self.atoms.atom(obj.author)
            if not self.bodies:
                values[_ENTRY_BODY] = NO_BODY
        # One flat tuple of arguments: the unpickler's memo keeps every argument tuple until
        # the section is loaded, so a nested ``(cls, values)`` would keep two per object.
        return _restore, (cls, *values)


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        if not (cls.__module__.startswith("samoorg.") and _frozen_slots(cls)):
            raise pickle.UnpicklingError(f"expected a frozen samoorg dataclass, found {cls!r}")
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}
_ENTRY_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Entry))
_ENTRY_RAW: Final = _ENTRY_FIELDS.index("raw")
_ENTRY_SIGNATURE: Final = _ENTRY_FIELDS.index("signature")
_ENTRY_BODY: Final = _ENTRY_FIELDS.index("body")
_NEW: Final = object.__new__
_SET: Final = object.__setattr__


def _restore(cls: type, *values: Any) -> object:
    """A frozen dataclass with ``values`` as its fields, without ``__init__`` (unpickling).

    The default, ``dataclasses._dataclass_setstate``, looks the fields up for
    every object: three times slower, and most of a checkpoint's load time.
    """
    make = _MAKERS.get(cls)
    if make is None:
        make = _MAKERS[cls] = _maker(cls, _field_names(cls))
    return make(values)


def _maker(cls: type, names: tuple[str, ...]) -> Callable[[tuple[Any, ...]], object]:
    """``make(values)``: a ``cls`` with ``values`` as its fields (a tuple of exactly as many),
    one unrolled function per class (a loop over the fields costs a third of a load)."""
    local = [f"v{n}" for n in range(len(names))]
    lines = [
        "def make(values, new=new, put=put, cls=cls):",
        f"    ({', '.join([*local, ''])}) = values",
        "    obj = new(cls)",
        *(f"    put(obj, {name!r}, {v})" for name, v in zip(names, local, strict=True)),
        "    return obj",
    ]
    scope: dict[str, Any] = {"new": _NEW, "put": _SET, "cls": cls}
    exec("\n".join(lines), scope)  # noqa: S102 - only local names; field names as literals
    make: Callable[[tuple[Any, ...]], object] = scope["make"]
    return make


_MAKERS: dict[type, Callable[[tuple[Any, ...]], object]] = {}


class _Unpickler(pickle.Unpickler):
    """Resolves only samoorg's classes and a few builtin containers."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            found = _ALLOWED[module, name] = self._allowed(module, name)
        return found

    def _allowed(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, "_restore"):
            return _restore
        if (module, name) == (__name__, "NO_BODY"):
            return NO_BODY
        if (module.startswith("samoorg.") and "." not in name) or (
            module,
            name,
        ) in ALLOWED_BUILTINS:
            found = super().find_class(module, name)
            if isinstance(found, type) or module == "copyreg":
                return found
        raise pickle.UnpicklingError(f"checkpoint names {module}.{name}, which is not allowed")


_ALLOWED: dict[tuple[str, str], Any] = {}
"""What :meth:`_Unpickler.find_class` allowed, by name: each row names its classes again."""


class _RowUnpickler(_Unpickler):
    """Loads one row, resolving its atoms.

    An atom is named by its position: ``persistent_load`` is the atoms' own
    ``__getitem__`` (a row names a million atoms at 1M entries; a Python
    method per name cost a fifth of decoding). A position that is not an int,
    or past the end, raises, and the row is refused (:meth:`_SavedRows._decode`).
    """

    def __init__(self, file: BinaryIO, atoms: list[object]) -> None:
        super().__init__(file)
        self.persistent_load = atoms.__getitem__  # type: ignore[method-assign]


class _SectionReader:
    """A file-like view of part of a section (``read``/``readline``/``readinto`` for pickle)."""

    def __init__(self, fd: int, at: int, size: int) -> None:
        self._fd = fd
        self._at = at
        self.left = size

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = os.pread(self._fd, size, self._at) if size else b""
        self._at += len(data)
        self.left -= len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self) -> bytes:
        data = os.pread(self._fd, min(self.left, 1 << 16), self._at)
        end = data.find(b"\n")
        return self.read(len(data) if end < 0 else end + 1)
