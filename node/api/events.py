"""Live events: new entries and new action items, as server-sent events.

:class:`EventHub` listens to the daemon's views
(:meth:`~samoorg.node.daemon_views.LiveViews.listen`): each batch of new
entries, stored by a sync session, gossip, the API or a local command,
becomes one event per entry::

    event: entry
    data: {"id": "<hex>", "kind": "forum.idea", "author": "12D3KooW...", "seq": 4}

:class:`ActionWatcher` adds one ``action`` event per item that newly needs
the node's participant (``crdt/kinds/inbox.py``: an invite accepted, a commitment
to confirm or overdue, a poll closing), with the data of ``GET /inbox``'s
items. It looks after batches of entries of the kinds the inbox reads (at
most once every :data:`ACTION_GAP` seconds), and every :data:`ACTION_PERIOD`
seconds for items that time brings (a commitment becoming overdue, a poll
entering its last 72 hours). An item is
announced once per daemon run; ``GET /inbox`` lists them all. A stream
subscribed with ``kind=`` filters gets action events only if one of the
filters is ``action``.

Each client has a bounded queue (:data:`QUEUE_SIZE` events). A client that
does not read fast enough to keep its queue from filling is dropped: its
stream ends, and it reconnects and reads what it missed with
``GET /api/v1/log``. A comment line (``: keep-alive``) is sent every
:data:`KEEPALIVE` seconds so that proxies and clients see a live connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import trio

from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.node.daemon_views import LiveViews
    from samoorg.protocol.entry import Entry

QUEUE_SIZE: Final = 256
ACTION_PERIOD: Final = 60.0
ACTION_GAP: Final = 0.5
"""The least time between two looks for action items."""
ACTION_FILTER: Final = "action"
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


Event = tuple[str, dict[str, Any]]
"""An event's name (``entry`` or ``action``) and its data."""


@dataclass(slots=True)
class _Subscriber:
    kinds: frozenset[str]
    send: trio.MemorySendChannel[Event]

    def wants(self, name: str, kind: str) -> bool:
        if not self.kinds:
            return True
        return kind in self.kinds if name == "entry" else ACTION_FILTER in self.kinds


class EventHub:
    """Fans new entries out to the subscribed streams."""

    def __init__(self, *, queue_size: int = QUEUE_SIZE, max_streams: int = MAX_STREAMS) -> None:
        self.queue_size = queue_size
        self.max_streams = max_streams
        self._subscribers: list[_Subscriber] = []
        self.dropped = 0
        self.before_actions: Callable[[], Awaitable[None]] | None = None
        """Awaited before a stream that wants action events subscribes
        (:meth:`ActionWatcher.prime`)."""

    def wants_actions(self, kinds: Collection[str]) -> bool:
        """Whether a stream subscribed with ``kinds`` gets action events."""
        return not kinds or ACTION_FILTER in kinds

    @property
    def streams(self) -> int:
        """How many clients are subscribed now."""
        return len(self._subscribers)

    def publish(self, entries: Sequence[Entry]) -> None:
        """Queue an event per entry for each subscriber; drop those whose queue is full."""
        self._fan_out([("entry", entry.kind, entry_event(entry)) for entry in entries])

    def publish_actions(self, items: Sequence[dict[str, Any]]) -> None:
        """Queue an ``action`` event per new action item (``GET /inbox``'s item shape)."""
        self._fan_out([("action", item["kind"], item) for item in items])

    def _fan_out(self, events: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        for subscriber in list(self._subscribers):
            for name, kind, data in events:
                if not subscriber.wants(name, kind):
                    continue
                try:
                    subscriber.send.send_nowait((name, data))
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
        send, receive = trio.open_memory_channel[Event](self.queue_size)
        subscriber = _Subscriber(frozenset(kinds), send)
        self._subscribers.append(subscriber)
        try:
            yield b": samoorg events\n\n"
            async with receive:
                while True:
                    with trio.move_on_after(KEEPALIVE) as waited:
                        try:
                            name, data = await receive.receive()
                        except trio.EndOfChannel:  # dropped: too slow
                            return
                    if waited.cancelled_caught:
                        yield b": keep-alive\n\n"
                        continue
                    yield sse(name, data)
        finally:
            self._drop(subscriber)


class ActionWatcher:
    """Announces the action items of the node's participant as they appear.

    Computing the items reads every pledge, invite and poll, so it runs off the
    start-up path and at most once per :data:`ACTION_GAP` seconds however many
    batches arrive (an initial sync stores thousands): a batch of the kinds the
    inbox reads only wakes :meth:`run`.
    """

    def __init__(self, live: LiveViews, me: bytes, hub: EventHub) -> None:
        from samoorg.crdt.kinds.inbox import READ_KINDS

        self.live = live
        self.me = me
        self.hub = hub
        self._kinds = READ_KINDS
        self._announced: set[tuple[str, str]] = set()
        self._wake = trio.Event()
        self._primed = trio.Event()

    def on_entries(self, entries: Sequence[Entry]) -> None:
        """A batch of entries arrived: wake :meth:`run` if the inbox reads any of them."""
        if any(entry.kind in self._kinds for entry in entries):
            self._wake.set()

    def check(self, *, announce: bool = True) -> list[dict[str, Any]]:
        """Publish (and return) the items not announced before."""
        from samoorg.crdt.kinds.inbox import action_items
        from samoorg.node.api.shapes import item_json, jsonable
        from samoorg.node.store import now_ms

        new: list[dict[str, Any]] = []
        for item in action_items(self.live.views, self.me, now_ms()):
            key = (item.kind.value, item.subject.hex())
            if key not in self._announced:
                self._announced.add(key)
                new.append(jsonable(item_json(item)))
        if new and announce:
            self.hub.publish_actions(new)
        return new

    async def prime(self) -> None:
        """Start watching (before the first stream that wants action events subscribes).

        What already needs action then is not announced (``GET /inbox`` lists
        it). Until a stream wants them, nothing is looked at, so the domains
        the inbox reads (the pledges: most of a large store) are not loaded
        for nobody; announcements before a stream subscribes reached no one
        anyway.
        """
        from samoorg.crdt.kinds.inbox import INBOX_DOMAINS

        if self._primed.is_set():
            return
        await self.live.ensure(INBOX_DOMAINS)  # off the loop: the daemon serves meanwhile
        if not self._primed.is_set():
            self.check(announce=False)
            self._primed.set()

    async def run(self, period: float = ACTION_PERIOD) -> None:
        """Once primed (:meth:`prime`), look when woken by entries, or every ``period``
        seconds, until cancelled."""
        await self._primed.wait()
        while True:
            with trio.move_on_after(period):
                await self._wake.wait()
            self._wake = trio.Event()
            self.check()
            await trio.sleep(ACTION_GAP)  # batches arriving meanwhile: the next look
