"""Helpers for the feed tests: deterministic feeds, Hypothesis strategies, a reference encoder.

The reference encoder is written from RFC 8949 §4.2.1 alone, independently of
``samoorg.protocol.dcbor`` (which delegates to cbor2), so that comparing the
two checks our encoding against the specification.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from samoorg.protocol import dcbor
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import (
    KIND_PATTERN,
    MAX_KIND_LENGTH,
    MAX_SEQ,
    MAX_TIMESTAMP,
    Entry,
    create_entry,
)

# -- deterministic keys and feeds --------------------------------------------


def signer(name: str) -> Signer:
    """A fixed key per name, so tests and vectors are reproducible."""
    return Signer(hashlib.sha256(b"samoorg-test-key:" + name.encode()).digest())


def make_feed(
    who: Signer, length: int, *, kind: str = "post", start_ts: int = 1_700_000_000_000
) -> list[Entry]:
    """A valid feed of ``length`` entries with small, distinct bodies."""
    entries: list[Entry] = []
    prev = None
    for seq in range(1, length + 1):
        entry = create_entry(
            who,
            seq=seq,
            prev=prev,
            timestamp=start_ts + seq,
            kind=kind,
            body={"n": seq, "text": f"entry {seq}"},
        )
        entries.append(entry)
        prev = entry.id
    return entries


def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit ``bit`` (0 = most significant bit of byte 0) inverted."""
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


# -- Hypothesis strategies ---------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=dcbor.INT_MIN, max_value=dcbor.INT_MAX)
    | st.integers(min_value=-30, max_value=300)
    | st.binary(max_size=40)
    | st.text(max_size=16)
)


def depth(value: object) -> int:
    """Nesting level of the deepest item (a scalar alone is 1)."""
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 1


values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
).filter(lambda v: depth(v) <= dcbor.MAX_DEPTH)

bodies: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    st.text(max_size=10), values, max_size=6
).filter(lambda b: depth(b) <= dcbor.MAX_DEPTH - 1)  # the body sits at level 2

kinds = st.from_regex(KIND_PATTERN, fullmatch=True).filter(lambda k: len(k) <= MAX_KIND_LENGTH)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    """Any valid signed entry within the data model."""
    who = Signer(draw(st.binary(min_size=32, max_size=32)))
    seq = draw(st.integers(min_value=1, max_value=MAX_SEQ) | st.integers(min_value=1, max_value=5))
    prev = None if seq == 1 else draw(st.binary(min_size=32, max_size=32))
    return create_entry(
        who,
        seq=seq,
        prev=prev,
        timestamp=draw(st.integers(min_value=0, max_value=MAX_TIMESTAMP)),
        kind=draw(kinds),
        body=draw(bodies),
    )


# -- reference deterministic CBOR encoder (RFC 8949 §4.2.1) -------------------


def head(major: int, argument: int) -> bytes:
    if argument < 24:
        return bytes([major << 5 | argument])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if argument < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, argument)
    raise ValueError("argument too large")


def reference_encode(value: object) -> bytes:
    """Shortest heads, definite lengths, map keys sorted by their encoded bytes."""
    if value is False:
        return b"\xf4"
    if value is True:
        return b"\xf5"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode("utf-8")
        return head(3, len(data)) + data
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(reference_encode(v) for v in value)
    if isinstance(value, dict):
        pairs = sorted((reference_encode(k), reference_encode(v)) for k, v in value.items())
        return head(5, len(pairs)) + b"".join(k + v for k, v in pairs)
    raise TypeError(type(value).__name__)


def prefixes(data: bytes) -> Sequence[bytes]:
    """Every strict prefix of ``data``, the empty one included."""
    return [data[:n] for n in range(len(data))]


def append_entries(home: Path, count: int, kind: str = "note") -> list[Entry]:
    """Append ``count`` entries to the feed of the identity in ``home`` (after init)."""
    from samoorg.node.home import Home
    from samoorg.node.keystore import load_signer
    from samoorg.node.store import Store

    place = Home(home)
    me = load_signer(place.key_file)
    with Store(place.store_file) as store:
        return [store.append(me, kind, {"text": f"{kind} {n}", "n": n}) for n in range(count)]


def store_state(home: Path) -> tuple[list[tuple[str, int, str]], list[str], set[str]]:
    """Heads, sorted entry ids and forked authors of a home's store (for comparisons)."""
    from samoorg.node.home import Home
    from samoorg.node.store import Store

    with Store(Home(home).store_file) as store:
        heads = [(h.author.hex(), h.seq, h.id.hex()) for h in store.heads()]
        ids = sorted(entry.id.hex() for _, entry in store.entries())
        return heads, ids, {a.hex() for a in store.forked_authors()}
