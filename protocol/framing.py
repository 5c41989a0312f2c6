"""Length-prefixed frames: how replication messages are cut out of a byte stream.

Wire form (``docs/protocol.md`` §7.2 is normative)::

    frame = length:u32 (big-endian) || payload[length]     1 <= length <= MAX_FRAME_SIZE

Theory of operation: :class:`FrameDecoder` is sans-IO. Feed it whatever the
transport delivered with :meth:`~FrameDecoder.receive_data` (``b""`` means
end of stream) and pull payloads with :meth:`~FrameDecoder.next_frame`,
which returns :data:`NEED_DATA` until a whole frame is buffered and
:data:`END` once the stream ended cleanly at a frame boundary.

The length is checked as soon as its four bytes are in, before any of the
payload is buffered, so an oversized frame costs us four bytes, not a
megabyte. Memory stays bounded by one frame plus one read: callers read more
only after ``NEED_DATA``, and :meth:`~FrameDecoder.receive_data` refuses to
buffer more than :data:`MAX_BUFFERED` bytes. Any error is final: the decoder
stays in its error state and raises the same error again.
"""

from __future__ import annotations

import enum
import struct
from typing import Final

from samoorg.protocol.errors import (
    LocalProtocolError,
    MalformedFrame,
    ProtocolError,
    TooLarge,
    TruncatedFrame,
)

MAX_FRAME_SIZE: Final = 1 << 20
"""Largest payload of one frame, in bytes (1 MiB)."""
HEADER_SIZE: Final = 4
MAX_BUFFERED: Final = 2 * (HEADER_SIZE + MAX_FRAME_SIZE)
"""Most unconsumed bytes a decoder holds; more means the caller skipped ``next_frame``."""
_HEADER: Final = struct.Struct(">I")
_COMPACT_AFTER: Final = 1 << 16


class Signal(enum.Enum):
    """Non-frame results of :meth:`FrameDecoder.next_frame`."""

    NEED_DATA = "need-data"
    END = "end"


NEED_DATA: Final = Signal.NEED_DATA
END: Final = Signal.END


def encode_frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length; raises :class:`LocalProtocolError` if out of bounds."""
    if not 1 <= len(payload) <= MAX_FRAME_SIZE:
        raise LocalProtocolError(
            f"expected a frame payload of 1..{MAX_FRAME_SIZE} bytes, found {len(payload)}"
        )
    return _HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Cuts a byte stream into frame payloads; see the module docstring."""

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        self._max = max_frame_size
        self._buffer = bytearray()
        self._pos = 0
        self._offset = 0
        self._eof = False
        self._error: ProtocolError | None = None

    @property
    def offset(self) -> int:
        """Stream bytes consumed as whole frames so far (for error messages)."""
        return self._offset

    @property
    def buffered(self) -> int:
        """Received bytes not yet returned as frames: nonzero means a frame is under way."""
        return len(self._buffer) - self._pos

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the transport; ``b""`` signals end of stream."""
        if self._error is not None:
            raise self._error
        if not data:
            self._eof = True
            return
        if self._eof:
            raise self._fail(LocalProtocolError("expected no data after end of stream, found more"))
        if self.buffered + len(data) > MAX_BUFFERED:
            raise self._fail(
                LocalProtocolError(
                    f"expected at most {MAX_BUFFERED} buffered bytes (call next_frame before "
                    f"receiving more), found {self.buffered + len(data)}"
                )
            )
        self._buffer += data

    def _fail(self, error: ProtocolError) -> ProtocolError:
        self._error = error
        return error

    def next_frame(self) -> bytes | Signal:
        """The next payload, :data:`NEED_DATA`, or :data:`END` after a clean end of stream."""
        if self._error is not None:
            raise self._error
        available = self.buffered
        if available < HEADER_SIZE:
            return self._need(available)
        (length,) = _HEADER.unpack_from(self._buffer, self._pos)
        if length == 0:
            raise self._fail(
                MalformedFrame(
                    f"expected a frame length of at least 1 at byte {self._offset}, found 0"
                )
            )
        if length > self._max:
            raise self._fail(
                TooLarge(
                    f"expected a frame of at most {self._max} bytes at byte {self._offset}, "
                    f"found a length of {length}"
                )
            )
        if available < HEADER_SIZE + length:
            return self._need(available)
        start = self._pos + HEADER_SIZE
        payload = bytes(self._buffer[start : start + length])
        self._pos = start + length
        self._offset += HEADER_SIZE + length
        # Compact lazily so that cutting many small frames stays linear overall.
        if self._pos > _COMPACT_AFTER and self._pos * 2 > len(self._buffer):
            del self._buffer[: self._pos]
            self._pos = 0
        return payload

    def _need(self, available: int) -> Signal:
        if not self._eof:
            return NEED_DATA
        if available:
            raise self._fail(
                TruncatedFrame(
                    f"expected a whole frame at byte {self._offset}, found end of stream "
                    f"after {available} bytes of it: truncated"
                )
            )
        return END
