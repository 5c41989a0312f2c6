"""Progress on a terminal for long commands, and Ctrl-C taken between safe points.

:class:`Progress` draws a rich progress bar on stderr, only when stderr is a
terminal and only once the work has lasted :data:`DELAY` seconds: a quick
command, or one whose output goes to a pipe or a file, prints nothing extra.
The bar is transient: it disappears when the work ends, leaving the
command's own summary lines.

:func:`deferred_interrupt` turns the first Ctrl-C into a request that the
command checks where stopping is safe (between two store transactions); a
second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final, TextIO

DELAY: Final = 1.0
"""Seconds of work before a bar appears."""


def _terminal() -> TextIO | None:
    return sys.stderr if sys.stderr.isatty() else None


class Progress:
    """A bar for ``description`` up to ``total`` (``None``: unknown); a context manager."""

    def __init__(self, description: str, total: int | None = None, unit: str = "entries") -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0
        self.note = ""
        self._stream = _terminal()
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more done."""
        self.update(self.completed + amount)

    def update(self, completed: int, note: str | None = None) -> None:
        """Set the count (and an optional note shown after the bar)."""
        self.completed = completed
        if note is not None:
            self.note = note
        if self._stream is None:
            return
        if self._bar is None:
            if time.monotonic() - self._started < DELAY:
                return
            self._show(self._stream)
        self._bar.update(self._task, completed=completed, note=self.note)

    def _show(self, stream: TextIO) -> None:
        from rich import progress as bars
        from rich.console import Console

        self._bar = bars.Progress(
            bars.TextColumn("{task.description}"),
            bars.BarColumn(),
            bars.MofNCompleteColumn() if self.total is not None else bars.TextColumn(""),
            bars.TextColumn(self.unit),
            bars.TextColumn("{task.fields[note]}"),
            bars.TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._task = self._bar.add_task(self.description, total=self.total, note=self.note)
        self._bar.start()

    @property
    def shown(self) -> bool:
        """Whether the bar is on screen."""
        return self._bar is not None

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Interrupt:
    """Whether Ctrl-C was pressed; see :func:`deferred_interrupt`."""

    requested: bool = False


@contextmanager
def deferred_interrupt() -> Iterator[Interrupt]:
    """Within the block, a first SIGINT sets ``requested``; a second raises KeyboardInterrupt."""
    state = Interrupt()

    def handler(signum: int, frame: FrameType | None) -> None:
        if state.requested:
            raise KeyboardInterrupt
        state.requested = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)
