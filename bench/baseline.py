"""Baselines measured in the same run as each benchmark."""

from __future__ import annotations

import functools
import time

import nacl.signing


def verify_rates(seconds: float = 1.0) -> tuple[float, float]:
    """Raw PyNaCl Ed25519 verifications per wall second and per CPU second (one core).

    The CPU rate is steadier on a shared machine: other processes slow the
    wall clock down but not the CPU time this loop uses.
    """
    key = nacl.signing.SigningKey.generate()
    message = b"x" * 200
    signature = key.sign(message).signature
    verify_key = key.verify_key
    count = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(200):
            verify_key.verify(message, signature)
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            cpu = max(time.process_time() - cpu_start, 1e-9)
            return count / (now - start), count / cpu


@functools.cache
def verify_rate(seconds: float = 1.0) -> float:
    """Raw PyNaCl Ed25519 verifications per second on one core (200-byte messages)."""
    return verify_rates(seconds)[0]


def report(
    name: str, value: float, unit: str, baseline: float | None = None, note: str = ""
) -> None:
    """Print one figure, with its ratio to ``baseline`` when given."""
    ratio = f"  ({value / baseline:.2f}x baseline)" if baseline else ""
    extra = f"  [{note}]" if note else ""
    shown = f"{value:>14,.1f}" if abs(value) >= 100 else f"{value:>14.3f}"
    print(f"{name:<48} {shown} {unit:<12}{ratio}{extra}", flush=True)
