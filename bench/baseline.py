"""Baselines measured in the same run as each benchmark."""

from __future__ import annotations

import functools
import time

import nacl.signing


@functools.cache
def verify_rate(seconds: float = 1.0) -> float:
    """Raw PyNaCl Ed25519 verifications per second on one core (200-byte messages)."""
    key = nacl.signing.SigningKey.generate()
    message = b"x" * 200
    signature = key.sign(message).signature
    verify_key = key.verify_key
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            verify_key.verify(message, signature)
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def report(
    name: str, value: float, unit: str, baseline: float | None = None, note: str = ""
) -> None:
    """Print one figure, with its ratio to ``baseline`` when given."""
    ratio = f"  ({value / baseline:.2f}x baseline)" if baseline else ""
    extra = f"  [{note}]" if note else ""
    print(f"{name:<48} {value:>14,.1f} {unit:<12}{ratio}{extra}", flush=True)
