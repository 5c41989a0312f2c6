"""Bundle files: feeds on a USB stick (sneakernet sync with no network).

Layout (all integers big-endian)::

    magic    "SAMOORG-BUNDLE/1\\n"                      17 bytes
    record*  type:u8  length:u32  payload[length]
    trailer  0x5A ('Z')  count:u32  sha256[32]

Record types: ``0x45`` ('E') a signed entry, ``0x46`` ('F') a fork proof.
``count`` is the number of records and ``sha256`` covers every byte before the
trailer, so truncation and bit flips are detected before anything is
imported. A record's payload is at most ``MAX_RECORD_SIZE`` bytes.

Theory of operation: :class:`BundleDecoder` is sans-IO. Feed it bytes with
:meth:`~BundleDecoder.receive_data` (``b""`` means end of file) and pull
records with :meth:`~BundleDecoder.next_record` until it returns
:data:`END`, which it does only after the trailer and then end of file.
It holds at most one record plus one read chunk in memory. The decoder
checks framing only; entries inside are verified by the store.
Any error is final: the decoder stays in its error state.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from samoorg.protocol.errors import BadBundle, LocalProtocolError
from samoorg.protocol.fork import MAX_FORK_PROOF_SIZE

MAGIC: Final = b"SAMOORG-BUNDLE/1\n"
MAX_RECORD_SIZE: Final = MAX_FORK_PROOF_SIZE
_HEAD: Final = struct.Struct(">BI")
_TRAILER_TAIL: Final = 4 + 32


class RecordType(enum.IntEnum):
    """What a bundle record carries."""

    ENTRY = 0x45
    FORK_PROOF = 0x46


_TRAILER: Final = 0x5A
_NOT_A_BUNDLE: Final = (
    "expected a samoorg bundle file (one written by 'samoorg export'), "
    f"found a file that does not start with {MAGIC.decode().strip()!r}"
)


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a bundle."""

    type: RecordType
    payload: bytes


class _Sentinel(enum.Enum):
    NEED_DATA = "need-data"
    END = "end"


NEED_DATA: Final = _Sentinel.NEED_DATA
END: Final = _Sentinel.END


class BundleWriter:
    """Incremental encoder: ``header()``, then ``record()`` per item, then ``trailer()``."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._count = 0

    def _emit(self, data: bytes) -> bytes:
        self._hash.update(data)
        return data

    def header(self) -> bytes:
        """The magic bytes that open a bundle."""
        return self._emit(MAGIC)

    def record(self, kind: RecordType, payload: bytes) -> bytes:
        """One framed record."""
        if len(payload) > MAX_RECORD_SIZE:
            raise LocalProtocolError(
                f"expected a record of at most {MAX_RECORD_SIZE} bytes, found {len(payload)}"
            )
        self._count += 1
        return self._emit(_HEAD.pack(kind, len(payload)) + payload)

    def trailer(self) -> bytes:
        """The closing count and checksum."""
        return bytes([_TRAILER]) + struct.pack(">I", self._count) + self._hash.digest()


def encode_bundle(records: Iterable[Record]) -> bytes:
    """A whole bundle in memory (tests, small exports)."""
    writer = BundleWriter()
    parts = [writer.header()]
    parts.extend(writer.record(r.type, r.payload) for r in records)
    parts.append(writer.trailer())
    return b"".join(parts)


class BundleDecoder:
    """Sans-IO bundle reader; see the module docstring."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pos = 0
        self._hash = hashlib.sha256()
        self._count = 0
        self._offset = 0
        self._eof = False
        self._started = False
        self._done = False
        self._error: BadBundle | None = None

    @property
    def offset(self) -> int:
        """Bytes consumed so far (for error messages)."""
        return self._offset

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the file; ``b""`` signals end of file."""
        if self._error is not None:
            raise self._error
        if data:
            if self._eof:
                raise self._fail("expected no data after end of file, found more")
            if self._done:
                raise self._fail(
                    f"expected end of file after the trailer, found {len(data)} more bytes"
                )
            self._buffer += data
        else:
            self._eof = True

    def _fail(self, message: str) -> BadBundle:
        self._error = BadBundle(message)
        return self._error

    def _available(self) -> int:
        return len(self._buffer) - self._pos

    def _take(self, size: int) -> bytes:
        chunk = bytes(self._buffer[self._pos : self._pos + size])
        self._pos += size
        self._offset += size
        # Compact lazily so that consuming many records is linear overall.
        if self._pos > 65536 and self._pos * 2 > len(self._buffer):
            del self._buffer[: self._pos]
            self._pos = 0
        return chunk

    def next_record(self) -> Record | _Sentinel:
        """The next record, ``NEED_DATA``, or ``END`` after a verified trailer and EOF.

        Raises :class:`BadBundle` (and stays failed) on any framing error.
        """
        if self._error is not None:
            raise self._error
        if self._done:
            # The trailer must be the last byte of the file: wait for EOF.
            return END if self._eof else NEED_DATA
        if not self._started:
            if self._available() < len(MAGIC):
                if self._eof:
                    raise self._fail(_NOT_A_BUNDLE)
                return NEED_DATA
            magic = self._take(len(MAGIC))
            if magic != MAGIC:
                raise self._fail(_NOT_A_BUNDLE)
            self._hash.update(magic)
            self._started = True
        if not self._available():
            return self._need(1)
        kind = self._buffer[self._pos]
        if kind == _TRAILER:
            if self._available() < 1 + _TRAILER_TAIL:
                return self._need(1 + _TRAILER_TAIL)
            trailer = self._take(1 + _TRAILER_TAIL)
            (count,) = struct.unpack(">I", trailer[1:5])
            if count != self._count:
                raise self._fail(f"expected {count} records per the trailer, found {self._count}")
            if trailer[5:] != self._hash.digest():
                raise self._fail(
                    "expected the trailer checksum to match, found a mismatch: corrupted"
                )
            if self._available():
                raise self._fail(
                    f"expected end of file after the trailer, found {self._available()} more bytes"
                )
            self._done = True
            return END if self._eof else NEED_DATA
        if kind not in RecordType._value2member_map_:
            raise self._fail(
                f"expected a record type E, F or Z at byte {self._offset}, found 0x{kind:02x}"
            )
        if self._available() < _HEAD.size:
            return self._need(_HEAD.size)
        _, length = _HEAD.unpack_from(self._buffer, self._pos)
        if length > MAX_RECORD_SIZE:
            raise self._fail(
                f"expected a record of at most {MAX_RECORD_SIZE} bytes at byte {self._offset}, "
                f"found {length}"
            )
        if self._available() < _HEAD.size + length:
            return self._need(_HEAD.size + length)
        framed = self._take(_HEAD.size + length)
        self._hash.update(framed)
        self._count += 1
        return Record(RecordType(kind), framed[_HEAD.size :])

    def _need(self, size: int) -> _Sentinel:
        if self._eof:
            raise self._fail(
                f"expected {size - self._available()} more bytes at byte {self._offset}, "
                "found end of file: the bundle is truncated"
            )
        return NEED_DATA
