"""A token bucket per client, for the API's rate limit.

Each client (its IP address) has a bucket of ``burst`` tokens that refills at
``rate`` tokens per second; a request takes one token or is refused with
``rate_limited`` (429). At most :data:`MAX_CLIENTS` buckets are kept; the one
used least recently is forgotten first (a forgotten client starts full, which
only ever lets through a burst). The clock is passed in, so tests need no sleep.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

MAX_CLIENTS: Final = 1024


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """``allow(client)`` is True while the client is within its rate."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"expected rate > 0 and burst >= 1, found {rate} and {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, client: str) -> bool:
        """Take one token from ``client``'s bucket; False if it is empty."""
        now = self._clock()
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        self._buckets[client] = bucket
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def retry_after(self, client: str) -> int:
        """Whole seconds until ``client`` has a token again (at least 1)."""
        bucket = self._buckets.get(client)
        missing = 1 - (bucket.tokens if bucket is not None else self.burst)
        return max(1, int(missing / self.rate + 0.999))
