"""Logging for long-running commands: one line per event on stderr, never a traceback.

``samoorg node run`` logs what it does (connections, syncs, failures) at INFO.
libp2p's own logger is attached to ours, so its messages share our format
instead of printing on their own. It is silenced except for CRITICAL unless
``-v`` (then DEBUG): py-libp2p 0.8.1 logs ordinary events at ERROR (a peer
closing a relayed stream, each retry of a refused dial, a protocol a peer does
not speak), and our own lines already report each of those once.
Exceptions are folded into the line as ``(Type: message)``; ``-v`` shows full
tracebacks for debugging.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """A formatter that renders an exception as ``(Type: message)`` on the same line."""

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's API
        exc = ei[1] if isinstance(ei, tuple) and len(ei) == 3 else None
        if exc is None:
            return ""
        return f"({type(exc).__name__}: {' '.join(str(exc).split())})"

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None
        text = super().format(record)
        return text.replace("\n", " ")


def configure_logging(verbose: bool = False, stream: TextIO | None = None) -> None:
    """Route samoorg and libp2p logs to ``stream`` (stderr) in one format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = logging.Formatter(FORMAT) if verbose else OneLineFormatter(FORMAT)
    formatter.default_msec_format = "%s.%03d"
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("samoorg").setLevel(logging.DEBUG if verbose else logging.INFO)
    libp2p = logging.getLogger("libp2p")
    libp2p.handlers.clear()
    libp2p.propagate = True
    libp2p.setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    # Per-module levels that libp2p sets for itself (auto_connector forces INFO).
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith("libp2p."):
            child = logging.getLogger(name)
            child.setLevel(logging.NOTSET)
            child.handlers.clear()
            child.propagate = True
