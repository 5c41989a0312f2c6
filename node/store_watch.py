"""Noticing store changes, from this process or another one.

Local commands (``samoorg pledge`` ...) write to the store from their own
process while the daemon runs; replication sessions inside the daemon write
to it too. A :class:`StoreWatcher` turns both into one signal: in-process
writers call :meth:`StoreWatcher.notify`, and :meth:`StoreWatcher.run` polls
:meth:`~samoorg.node.store.Store.change_marker` (two indexed SQLite reads) so
writes by other processes are seen within one ``poll_interval``.

One watcher per store and process is enough; every live replication session
subscribes to it. The watcher holds no trio objects until :meth:`run`, so it
can be built before the event loop starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import trio

from samoorg.node.store import Store

DEFAULT_POLL_INTERVAL: Final = 0.5


class StoreWatcher:
    """Calls its subscribers whenever the store changes."""

    def __init__(self, store: Store, *, poll_interval: float = DEFAULT_POLL_INTERVAL) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self._marker = store.change_marker()
        self._subscribers: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` on every change; returns the function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def notify(self) -> None:
        """Tell every subscriber that the store changed (call after an in-process write)."""
        self._marker = self.store.change_marker()
        for callback in list(self._subscribers):
            callback()

    def poll(self) -> bool:
        """Notify if the store changed since the last look; return whether it did."""
        if self.store.change_marker() == self._marker:
            return False
        self.notify()
        return True

    async def run(self) -> None:
        """Poll forever (run it in a nursery; cancel it to stop)."""
        while True:
            await trio.sleep(self.poll_interval)
            self.poll()
