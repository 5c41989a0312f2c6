"""Live events: new entries, as server-sent events, to every subscribed client.

:class:`EventHub` listens to the daemon's views
(:meth:`~samoorg.node.daemon_views.LiveViews.listen`): each batch of new
entries, stored by a sync session, gossip, the API or a local command,
becomes one event per entry::

    event: entry
    data: {"id": "<hex>", "kind": "forum.idea", "author": "12D3KooW...", "seq": 4}

Each client has a bounded queue (:data:`QUEUE_SIZE` events). A client that
does not read fast enough to keep its queue from filling is dropped: its
stream ends, and it reconnects and reads what it missed with
``GET /api/v1/log``. A comment line (``: keep-alive``) is sent every
:data:`KEEPALIVE` seconds so that proxies and clients see a live connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import trio

from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.protocol.entry import Entry

QUEUE_SIZE: Final = 256
MAX_STREAMS: Final = 64
KEEPALIVE: Final = 15.0


def entry_event(entry: Entry) -> dict[str, Any]:
    """The data of one ``entry`` event."""
    return {
        "id": entry.id.hex(),
        "kind": entry.kind,
        "author": peer_id(entry.author),
        "seq": entry.seq,
    }


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event (JSON data on one line)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@dataclass(slots=True)
class _Subscriber:
    kinds: frozenset[str]
    send: trio.MemorySendChannel[dict[str, Any]]


class EventHub:
    """Fans new entries out to the subscribed streams."""

    def __init__(self, *, queue_size: int = QUEUE_SIZE, max_streams: int = MAX_STREAMS) -> None:
        self.queue_size = queue_size
        self.max_streams = max_streams
        self._subscribers: list[_Subscriber] = []
        self.dropped = 0

    @property
    def streams(self) -> int:
        """How many clients are subscribed now."""
        return len(self._subscribers)

    def publish(self, entries: Sequence[Entry]) -> None:
        """Queue an event per entry for each subscriber; drop those whose queue is full."""
        for subscriber in list(self._subscribers):
            for entry in entries:
                if subscriber.kinds and entry.kind not in subscriber.kinds:
                    continue
                try:
                    subscriber.send.send_nowait(entry_event(entry))
                except trio.WouldBlock:
                    self._drop(subscriber)
                    self.dropped += 1
                    break
                except trio.ClosedResourceError:
                    self._drop(subscriber)
                    break

    def _drop(self, subscriber: _Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)
        subscriber.send.close()

    def full(self) -> bool:
        """Whether another stream would exceed :attr:`max_streams`."""
        return len(self._subscribers) >= self.max_streams

    async def stream(self, kinds: Collection[str]) -> AsyncIterator[bytes]:
        """The bytes of one client's event stream, until the client is dropped."""
        send, receive = trio.open_memory_channel[dict[str, Any]](self.queue_size)
        subscriber = _Subscriber(frozenset(kinds), send)
        self._subscribers.append(subscriber)
        try:
            yield b": samoorg events\n\n"
            async with receive:
                while True:
                    with trio.move_on_after(KEEPALIVE) as waited:
                        try:
                            data = await receive.receive()
                        except trio.EndOfChannel:  # dropped: too slow
                            return
                    if waited.cancelled_caught:
                        yield b": keep-alive\n\n"
                        continue
                    yield sse("entry", data)
        finally:
            self._drop(subscriber)
