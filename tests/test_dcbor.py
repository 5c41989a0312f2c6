"""Deterministic CBOR: RFC 8949 Appendix A, the reference encoder, and hostile input."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.protocol import dcbor
from samoorg.protocol.errors import ProtocolError, RemoteProtocolError, TooLarge
from tests.feed_fixtures import depth, prefixes, reference_encode, values

MAX = 1 << 20


def _appendix_a(shared: Path) -> list[dict[str, Any]]:
    data = json.loads((shared / "vectors" / "cbor_rfc_appendix_a.json").read_text())
    assert len(data) == 82
    return data  # type: ignore[no-any-return]


def _expected_value(example: dict[str, Any]) -> tuple[bool, object]:
    """Whether the example's value lies in our data model, and that value.

    Decided from the JSON description only, not from our decoder.
    """
    diagnostic = example.get("diagnostic", "")
    if "decoded" not in example:
        # h'..' byte strings are the only diagnostic-only examples in the model.
        if diagnostic.startswith("h'") and diagnostic.endswith("'"):
            return True, bytes.fromhex(diagnostic[2:-1])
        return False, None
    value = example["decoded"]

    def inside(v: object) -> bool:
        if v is None or isinstance(v, bool | str):
            return True
        if isinstance(v, int):
            return dcbor.INT_MIN <= v <= dcbor.INT_MAX
        if isinstance(v, list):
            return all(inside(x) for x in v)
        if isinstance(v, dict):
            return all(isinstance(k, str) and inside(x) for k, x in v.items())
        return False  # floats

    return inside(value), value


def test_rfc_appendix_a(shared: Path) -> None:
    inside_count = 0
    for example in _appendix_a(shared):
        data = base64.b64decode(example["cbor"])
        assert data.hex() == example["hex"]
        inside, value = _expected_value(example)
        if inside and example["roundtrip"]:
            inside_count += 1
            assert dcbor.decode(data, max_size=MAX) == value, example
            assert dcbor.encode(value) == data, example  # type: ignore[arg-type]
        else:
            with pytest.raises(dcbor.MalformedCBOR):
                dcbor.decode(data, max_size=MAX)
    # 16 integers, false/true/null, 2 byte strings, 7 text strings, 4 arrays,
    # 4 text-key maps; the other 46 (floats, tags, simple values, integer keys,
    # indefinite lengths) are rejected.
    assert inside_count == 36


@given(values)
def test_encoding_equals_reference_and_cbor2_canonical(value: Any) -> None:
    encoded = dcbor.encode(value)
    assert encoded == reference_encode(value)
    assert encoded == cbor2.dumps(value, canonical=True)
    assert dcbor.decode(encoded, max_size=MAX) == value


@given(st.dictionaries(st.text(max_size=6), st.integers(0, 3), min_size=2, max_size=6))
def test_unsorted_map_keys_are_rejected(body: dict[str, int]) -> None:
    encoded = dcbor.encode(body)
    ordered = sorted(body, key=lambda k: (len(k.encode()), k.encode()))
    reordered = cbor2.dumps({k: body[k] for k in reversed(ordered)})
    assert reordered != encoded
    with pytest.raises(dcbor.MalformedCBOR, match="deterministic order"):
        dcbor.decode(reordered, max_size=MAX)


@pytest.mark.parametrize(
    ("hex_data", "reason"),
    [
        ("1817", "long head for 23"),
        ("190017", "two-byte head for 23"),
        ("5f4101ff", "indefinite byte string"),
        ("7f6161ff", "indefinite text string"),
        ("9f01ff", "indefinite array"),
        ("bf616101ff", "indefinite map"),
        ("a2616101616102", "duplicate key"),
        ("0101", "trailing byte"),
        ("c24101", "bignum tag for 1"),
        ("d818410a", "tag 24 around bytes"),
        ("d9d9f701", "self-describe tag"),
        ("f97e00", "half float"),
        ("f7", "undefined"),
        ("f0", "simple value"),
        ("a10102", "integer key"),
        ("62c328", "invalid UTF-8"),
        ("d81c81d81d00", "shared reference (cyclic value)"),
        ("", "empty input"),
        ("1b", "truncated head"),
        ("c11a514b67b0", "epoch date tag"),
    ],
)
def test_non_canonical_and_out_of_model_forms(hex_data: str, reason: str) -> None:
    with pytest.raises(dcbor.MalformedCBOR):
        dcbor.decode(bytes.fromhex(hex_data), max_size=MAX)


def test_cyclic_value_is_named_as_a_tag_problem() -> None:
    with pytest.raises(dcbor.MalformedCBOR, match="no tags, found tag 28"):
        dcbor.decode(bytes.fromhex("d81c81d81d00"), max_size=MAX)


def test_nesting_limit() -> None:
    deepest: object = 1
    for _ in range(dcbor.MAX_DEPTH - 1):
        deepest = [deepest]
    assert depth(deepest) == dcbor.MAX_DEPTH
    assert dcbor.decode(dcbor.encode(deepest), max_size=MAX) == deepest  # type: ignore[arg-type]
    too_deep = [deepest]
    with pytest.raises(dcbor.UnencodableValue):
        dcbor.encode(too_deep)  # type: ignore[arg-type]
    with pytest.raises(TooLarge):
        dcbor.decode(reference_encode(too_deep), max_size=MAX)
    # Far deeper than any parser stack: still our error, not RecursionError.
    with pytest.raises(RemoteProtocolError):
        dcbor.decode(b"\x81" * 60000 + b"\x00", max_size=MAX)


def test_size_limit() -> None:
    data = dcbor.encode(b"x" * 100)
    assert dcbor.decode(data, max_size=len(data)) == b"x" * 100
    with pytest.raises(TooLarge):
        dcbor.decode(data, max_size=len(data) - 1)


@pytest.mark.parametrize(
    "value",
    [1.5, 2**64, -(2**64) - 1, {1: 2}, {b"k": 1}, (1, 2), {"a"}, bytearray(b"x"), "\ud800"],
)
def test_encode_rejects_values_outside_the_model(value: Any) -> None:
    with pytest.raises(dcbor.UnencodableValue):
        dcbor.encode(value)


def _only_our_errors(data: bytes) -> None:
    try:
        value = dcbor.decode(data, max_size=MAX)
    except RemoteProtocolError:
        return
    except ProtocolError as exc:  # pragma: no cover - would be a bug
        pytest.fail(f"local error {exc!r} from a decoder")
    assert dcbor.encode(value) == data


@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_our_error(data: bytes) -> None:
    for part in [data, *prefixes(data)]:
        _only_our_errors(part)


@given(values, st.data())
def test_mutated_encodings_decode_or_raise_our_error(value: Any, data: st.DataObject) -> None:
    encoded = bytearray(dcbor.encode(value))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(encoded)))
        byte = data.draw(st.integers(0, 255))
        action = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "insert" or not encoded:
            encoded.insert(position, byte)
        elif action == "set":
            encoded[min(position, len(encoded) - 1)] = byte
        else:
            del encoded[min(position, len(encoded) - 1)]
    for part in [bytes(encoded), *prefixes(bytes(encoded))]:
        _only_our_errors(part)


def _reference_accepts(data: bytes) -> bool:
    """The definition of validity, by way of a general decoder and the reference encoder.

    Safe only on small inputs (cbor2 honours value sharing): the byte scanner
    of :func:`dcbor.scan` must agree with it everywhere.
    """
    try:
        value = cbor2.loads(data)
    except Exception:
        return False

    def in_model(item: object, level: int) -> bool:
        if level > dcbor.MAX_DEPTH:
            return False
        if item is None or type(item) in (bool, bytes, str):
            return True
        if type(item) is int:
            return dcbor.INT_MIN <= item <= dcbor.INT_MAX
        if type(item) is list:
            return all(in_model(v, level + 1) for v in item)
        if type(item) is dict:
            return all(type(k) is str and in_model(v, level + 1) for k, v in item.items())
        return False

    try:
        return in_model(value, 1) and reference_encode(value) == data
    except (TypeError, UnicodeEncodeError, RecursionError):
        return False


def _accepts(data: bytes) -> bool:
    try:
        dcbor.decode(data, max_size=MAX)
    except RemoteProtocolError:
        return False
    return True


@given(values, st.data())
def test_scanner_accepts_exactly_the_canonical_encodings(value: Any, data: st.DataObject) -> None:
    encoded = bytearray(dcbor.encode(value))
    for _ in range(data.draw(st.integers(0, 3))):
        position = data.draw(st.integers(0, max(len(encoded) - 1, 0)))
        if encoded:
            encoded[position] = data.draw(st.integers(0, 255))
    sample = bytes(encoded)
    for part in [sample, *prefixes(sample)[-4:]]:
        assert _accepts(part) == _reference_accepts(part), part.hex()
