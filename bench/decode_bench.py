"""Decoding hostile CBOR: the worst time per input byte, beside valid entries.

Every decoder of untrusted bytes (``tests/hostile_cbor.py``: entries, fork
proofs, sync messages, the first frame of a session, announcements, invite
codes) is fed every crafted item of the corpus (value sharing, string
references, deep nesting, indefinite lengths, claimed counts and lengths far
beyond the input). The figure that matters is the worst microseconds per input
byte, printed beside the same figure for decoding valid signed entries in the
same run: a linear decoder keeps the two of the same order, where the old one
took tens of seconds (or aborted) on a few hundred bytes.
"""

from __future__ import annotations

import contextlib
import time

from bench.baseline import report
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import create_entry, decode_entry
from samoorg.protocol.errors import RemoteProtocolError
from tests.hostile_cbor import CORPUS, DECODERS, Decoder

_ROUNDS = 3


def _valid_entry_us_per_byte(count: int = 2000) -> float:
    signer = Signer(b"\x07" * 32)
    body = {"title": "A tool library", "body": "Shelves and a lending book. " * 4, "n": 7}
    raws = [
        create_entry(signer, seq=1, prev=None, timestamp=n, kind="idea", body=body).raw
        for n in range(count)
    ]
    start = time.perf_counter()
    for raw in raws:
        decode_entry(raw, verify_signature=False)
    elapsed = time.perf_counter() - start
    return elapsed * 1e6 / sum(len(raw) for raw in raws)


def _worst_us_per_byte(decoder: Decoder) -> tuple[float, str]:
    worst, where = 0.0, ""
    for item_name, item in CORPUS.items():
        wrapped = decoder.wrap(item)
        size = max(len(wrapped), 1)
        best = float("inf")
        for _ in range(_ROUNDS):
            start = time.perf_counter()
            with contextlib.suppress(RemoteProtocolError):
                decoder.decode(wrapped)
            best = min(best, time.perf_counter() - start)
        per_byte = best * 1e6 / size
        if per_byte > worst:
            worst, where = per_byte, f"{item_name}, {size:,} bytes"
    return worst, where


def run() -> None:
    """Print the worst hostile time per byte beside valid-entry decoding."""
    baseline = _valid_entry_us_per_byte()
    report("baseline: decode valid entries", baseline, "us/byte")
    for name, decoder in DECODERS.items():
        worst, where = _worst_us_per_byte(decoder)
        report(f"hostile CBOR, worst per byte: {name}", worst, "us/byte", baseline, where)
    inputs = [(d, d.wrap(item)) for d in DECODERS.values() for item in CORPUS.values()]
    total = sum(len(wrapped) for _, wrapped in inputs)
    start = time.perf_counter()
    for decoder, wrapped in inputs:
        with contextlib.suppress(RemoteProtocolError):
            decoder.decode(wrapped)
    report(
        "hostile CBOR, whole corpus through every decoder",
        time.perf_counter() - start,
        "s",
        note=f"{len(CORPUS)} items x {len(DECODERS)} decoders, {total:,} bytes in all",
    )
