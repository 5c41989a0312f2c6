"""The byte-stream interface that replication runs over.

Replication (``samoorg.node.replication``) needs only this, so it runs the
same over a trio memory stream in tests, a TCP stream, or a libp2p stream
wrapped by the transport. ``trio.abc.Stream`` objects satisfy it as they are.
"""

from __future__ import annotations

from typing import Protocol


class ByteStream(Protocol):
    """A reliable, ordered, bidirectional byte stream."""

    async def send_all(self, data: bytes) -> None:
        """Send all of ``data`` (may block for flow control)."""

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Some bytes, at most ``max_bytes``; ``b""`` at end of stream."""

    async def aclose(self) -> None:
        """Close both directions."""
