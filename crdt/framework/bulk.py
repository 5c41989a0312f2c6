"""Bulk builds without the cyclic garbage collector.

Rebuilding views allocates millions of small containers that all stay alive.
CPython's cyclic collector, triggered by allocation counts, then walks the
ever-growing heap again and again: on 200k entries it tripled the rebuild time
(measured in ``bench/community_bench.py``). Nothing a rebuild creates is
garbage, so pausing the collector for its duration loses nothing; reference
counting still frees everything as usual.

A long-running process also calls :func:`gc.freeze` once after loading its
store into views (``samoorg node run`` does, in ``node/daemon_run.py``, once its
node has started): the loaded objects then sit in the permanent generation and
later collections stop rescanning them. On 1M entries this made small
incremental updates several times faster (``bench/community_bench.py``). It is
not done here because frozen reference cycles (a discarded ``Views`` and its
domains) would never be collected, which matters for short-lived views such
as in tests, and for several nodes run in one test process.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block (restoring its previous state)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
