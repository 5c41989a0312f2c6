"""The head of our own feed, recorded beside the key so that a lost store cannot fork it.

Signing seq ``n`` twice with one key makes two histories, which every peer
holding the first will see as a fork. The store alone cannot prevent this:
deleted, truncated, or stripped of its ``-wal`` file (which can drop the last
committed transactions), it looks like a feed that never began. So the home
keeps ``own-head.json``, written atomically (temporary file, ``fsync``,
rename, ``fsync`` of the folder)::

    {"format": "samoorg-own-head/1", "public_key": "<hex>", "seq": 12,
     "id": "<hex>", "entries": ["<hex raw entry>", ...]}

``seq`` and ``id`` are the highest entry this home signed or stored of its own
feed; ``entries`` are the raw bytes of the entries of the last own append
(every one of them signed by us), so that the record alone can complete that
append. :class:`~samoorg.node.store.Store` writes the record **before** it
commits an own append (inside the store's write transaction, so appends of
several processes are serialized): the record is never behind what the store
may ever have held, and when it is ahead (a kill between the two, a lost
``-wal``), the entries it is ahead by are either in the record itself or were
committed and so may be known to peers. See docs/architecture.md, "Lost local
state".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from samoorg.node.errors import OwnHeadError
from samoorg.node.regular_file import read_regular_file
from samoorg.protocol.entry import MAX_ENTRY_SIZE

FORMAT: Final = "samoorg-own-head/1"
MAX_RECORDED_ENTRIES: Final = 1024
"""Most entries one own append may sign (and so the record may hold)."""
MAX_RECORD_SIZE: Final = 2 * MAX_RECORDED_ENTRIES * (MAX_ENTRY_SIZE + 4) + 4096


@dataclass(frozen=True, slots=True)
class RecordedHead:
    """What the record says: our feed's head and the entries of the last own append."""

    seq: int
    id: bytes
    entries: tuple[bytes, ...] = ()


def _hex(value: object, size: int | None) -> bytes | None:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return raw if raw is not None and (size is None or len(raw) == size) else None


class OwnHeadRecord:
    """``own-head.json`` of one home, for the identity ``public_key``."""

    def __init__(self, path: Path, public_key: bytes) -> None:
        self.path = path
        self.public_key = public_key

    def read(self) -> RecordedHead | None:
        """The recorded head, or ``None`` if nothing is recorded for this identity."""
        try:
            raw = read_regular_file(self.path, MAX_RECORD_SIZE, "own-head record", self._error)
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise self._error(f"own-head record {self.path} is damaged: not JSON") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise self._error(f"own-head record {self.path}: expected format {FORMAT!r}")
        if _hex(data.get("public_key"), 32) != self.public_key:
            return None  # the record of an identity this home no longer has
        return self._parse(data)

    def _parse(self, data: dict[str, Any]) -> RecordedHead:
        seq, entry_id, entries = data.get("seq"), _hex(data.get("id"), 32), data.get("entries")
        raws = [_hex(e, None) for e in entries] if isinstance(entries, list) else [None]
        if (
            not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 1
            or entry_id is None
            or len(raws) > MAX_RECORDED_ENTRIES
            or any(r is None or len(r) > MAX_ENTRY_SIZE for r in raws)
        ):
            raise self._error(
                f"own-head record {self.path} is damaged: expected seq, id and entries"
            )
        return RecordedHead(seq, entry_id, tuple(r for r in raws if r is not None))

    def write(self, head: RecordedHead) -> None:
        """Replace the record by ``head``, atomically and durably."""
        if len(head.entries) > MAX_RECORDED_ENTRIES:
            raise self._error(
                f"expected at most {MAX_RECORDED_ENTRIES} entries in one own append, "
                f"found {len(head.entries)}"
            )
        data = {
            "format": FORMAT,
            "public_key": self.public_key.hex(),
            "seq": head.seq,
            "id": head.id.hex(),
            "entries": [raw.hex() for raw in head.entries],
        }
        text = json.dumps(data, indent=1).encode() + b"\n"
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(text)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, self.path)
            folder = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise self._error(
                f"cannot record the own feed's head in {self.path}: {exc.strerror}"
            ) from None

    @staticmethod
    def _error(message: str) -> OwnHeadError:
        return OwnHeadError(message)
