"""Parallel signature verification for ingest.

Theory of operation: PyNaCl releases the GIL inside libsodium, so checking
signatures on a small thread pool uses every core. The store decodes a whole
batch first (cheap, and it holds the GIL), hands the entries to
:meth:`Verifier.check`, and waits; while it waits it holds no GIL, so the
workers run at full speed. Decoding inside the workers as well was tried and
measured (A/B on the shared 2-core machine): no gain, because decoding needs
the GIL and a worker returning from libsodium then waits for it.

Small batches are checked inline: a thread hop costs more than it saves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from samoorg.protocol.entry import Entry
from samoorg.protocol.errors import BadSignature

INLINE_BELOW: Final = 64
"""Batches smaller than this are verified on the calling thread."""
CHUNK: Final = 256
"""Entries per task handed to a worker thread."""


def _check_chunk(entries: Sequence[Entry]) -> list[BadSignature | None]:
    results: list[BadSignature | None] = []
    for entry in entries:
        try:
            entry.verify()
        except BadSignature as exc:
            results.append(exc)
        else:
            results.append(None)
    return results


class Verifier:
    """Checks signatures of many entries; one instance per store, threads made lazily."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = workers or min(4, os.cpu_count() or 1)
        self._pool: ThreadPoolExecutor | None = None

    @property
    def workers(self) -> int:
        """How many threads verify a large batch."""
        return self._workers

    def check(self, entries: Sequence[Entry]) -> list[BadSignature | None]:
        """For each entry, ``None`` if its signature is valid, else the error."""
        if len(entries) < INLINE_BELOW or self._workers == 1:
            return _check_chunk(entries)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="samoorg-verify")
        # Equal shares per worker, cut into chunks so that a slow worker (the
        # machine is shared) does not leave the others idle at the end.
        size = min(CHUNK, -(-len(entries) // self._workers))
        chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
        results: list[BadSignature | None] = []
        for part in self._pool.map(_check_chunk, chunks):
            results.extend(part)
        return results

    def close(self) -> None:
        """Stop the worker threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
