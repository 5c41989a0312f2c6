"""The bundle file format and its sans-IO decoder."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.protocol.bundle import (
    END,
    MAGIC,
    MAX_RECORD_SIZE,
    NEED_DATA,
    BundleDecoder,
    BundleWriter,
    Record,
    RecordType,
    encode_bundle,
)
from samoorg.protocol.errors import BadBundle, LocalProtocolError
from tests.feed_fixtures import flip_bit, make_feed, signer

RECORDS = [Record(RecordType.ENTRY, e.raw) for e in make_feed(signer("alice"), 3)] + [
    Record(RecordType.FORK_PROOF, b"proof bytes are checked by the store, not here")
]


def decode_all(data: bytes, chunk: int = 1 << 16) -> list[Record]:
    """Feed ``data`` in chunks of ``chunk`` bytes; return every record."""
    decoder = BundleDecoder()
    records: list[Record] = []
    position = 0
    for _ in range(len(data) + 2 * len(data) // max(chunk, 1) + 10):
        item = decoder.next_record()
        if item is END:
            return records
        if isinstance(item, Record):
            records.append(item)
        else:
            assert item is NEED_DATA
            decoder.receive_data(data[position : position + chunk])
            position += chunk
    pytest.fail("decoder did not finish")  # pragma: no cover


def test_round_trip_whole_and_byte_by_byte() -> None:
    data = encode_bundle(RECORDS)
    assert data.startswith(MAGIC)
    assert decode_all(data) == RECORDS
    assert decode_all(data, chunk=1) == RECORDS
    assert decode_all(encode_bundle([])) == []


def test_writer_matches_encode_bundle() -> None:
    writer = BundleWriter()
    parts = [writer.header(), *(writer.record(r.type, r.payload) for r in RECORDS)]
    assert b"".join([*parts, writer.trailer()]) == encode_bundle(RECORDS)
    with pytest.raises(LocalProtocolError):
        writer.record(RecordType.ENTRY, b"x" * (MAX_RECORD_SIZE + 1))


def test_every_truncation_is_detected() -> None:
    data = encode_bundle(RECORDS)
    for size in range(len(data)):
        with pytest.raises(BadBundle):
            decode_all(data[:size], chunk=7)


def test_every_bit_flip_is_detected() -> None:
    data = encode_bundle(RECORDS[:2])
    for bit in range(len(data) * 8):
        with pytest.raises(BadBundle):
            decode_all(flip_bit(data, bit))


def test_trailing_bytes_are_detected() -> None:
    data = encode_bundle(RECORDS)
    for extra in (b"\x00", b"Z", data):
        with pytest.raises(BadBundle, match="after the trailer"):
            decode_all(data + extra)


def _rechecksummed(body: bytes, count: int) -> bytes:
    return body + b"Z" + struct.pack(">I", count) + hashlib.sha256(body).digest()


def test_framing_errors_name_the_problem() -> None:
    entry = RECORDS[0].payload
    cases = {
        "samoorg bundle file": b"NOT-A-BUNDLE/1\n..." + b"\x00" * 40,
        "record type": _rechecksummed(MAGIC + b"Q" + struct.pack(">I", 0), 1),
        "at most": _rechecksummed(MAGIC + b"E" + struct.pack(">I", MAX_RECORD_SIZE + 1), 1),
        "records per the trailer": _rechecksummed(
            MAGIC + b"E" + struct.pack(">I", len(entry)) + entry, 2
        ),
        "truncated": MAGIC + b"E" + struct.pack(">I", 10) + b"short",
    }
    for words, data in cases.items():
        with pytest.raises(BadBundle, match=words):
            decode_all(data)


def test_error_state_is_final() -> None:
    decoder = BundleDecoder()
    decoder.receive_data(b"garbage that is long enough")
    with pytest.raises(BadBundle):
        decoder.next_record()
    with pytest.raises(BadBundle):
        decoder.next_record()
    with pytest.raises(BadBundle):
        decoder.receive_data(MAGIC)


@given(st.binary(max_size=200), st.integers(1, 64))
def test_any_bytes_give_records_or_bad_bundle(data: bytes, chunk: int) -> None:
    for candidate in (data, MAGIC + data):
        try:
            decode_all(candidate, chunk)
        except BadBundle:
            continue
