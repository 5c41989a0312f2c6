"""Head announcements: round trip, limits, and the fuzz invariant."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.protocol import dcbor
from samoorg.protocol.announce import (
    MAX_ANNOUNCE_SIZE,
    MAX_ANNOUNCED,
    decode_announcement,
    encode_announcement,
)
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import MAX_ENTRY_SIZE, create_entry
from samoorg.protocol.errors import MalformedFrame, RemoteProtocolError


def _entries(count: int, pad: int = 0) -> list[bytes]:
    signer = Signer(bytes(range(32)))
    raws: list[bytes] = []
    prev = None
    for seq in range(1, count + 1):
        entry = create_entry(
            signer, seq=seq, prev=prev, timestamp=seq, kind="test.note", body={"pad": "x" * pad}
        )
        raws.append(entry.raw)
        prev = entry.id
    return raws


def test_round_trip_keeps_order() -> None:
    raws = _entries(3)
    assert decode_announcement(encode_announcement(raws)) == raws


def test_only_the_newest_entries_are_kept() -> None:
    raws = _entries(MAX_ANNOUNCED + 5)
    assert decode_announcement(encode_announcement(raws)) == raws[-MAX_ANNOUNCED:]


def test_size_budget_keeps_newest_and_always_one() -> None:
    big = _entries(12, pad=MAX_ENTRY_SIZE - 400)
    kept = decode_announcement(encode_announcement(big))
    assert kept == big[-len(kept) :]
    assert 1 <= len(kept) < 12
    assert len(encode_announcement(big)) <= MAX_ANNOUNCE_SIZE


def test_empty_is_refused_locally() -> None:
    with pytest.raises(ValueError, match="at least one"):
        encode_announcement([])


@pytest.mark.parametrize(
    "value",
    [
        [],
        {"v": 1},
        {"v": 2, "entries": [b"x"]},
        {"v": 1, "entries": []},
        {"v": 1, "entries": ["text"]},
        {"v": 1, "entries": [b"x"] * (MAX_ANNOUNCED + 1)},
        {"v": 1, "entries": [b"x"], "extra": 0},
        {"v": True, "entries": [b"x"]},
    ],
)
def test_malformed_announcements_raise_remote_errors(value: dcbor.Value) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        decode_announcement(dcbor.encode(value))
    assert caught.value.name in {"MalformedFrame", "TooLarge"}


def test_non_canonical_cbor_is_a_malformed_frame() -> None:
    good = encode_announcement([b"x"])
    assert good.hex() == "a261760167656e74726965738141" + "78"  # {"v": 1, "entries": [h"78"]}
    # The same map with the keys in the wrong order, and with a long head for 1.
    for bad in (bytes.fromhex("a267656e7472696573814178617601"), good[:3] + b"\x18\x01" + good[4:]):
        with pytest.raises(MalformedFrame):
            decode_announcement(bad)


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_raise_remote_error(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode_announcement(data)


def test_every_prefix_raises_remote_error() -> None:
    data = encode_announcement(_entries(2))
    for cut in range(len(data)):
        with pytest.raises(RemoteProtocolError):
            decode_announcement(data[:cut])
