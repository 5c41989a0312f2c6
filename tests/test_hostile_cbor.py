"""Every decoder of untrusted bytes refuses hostile CBOR while reading it.

The remote denial of service of issue 11: value sharing (tags 28/29) and
similar tricks made a few hundred bytes from any peer cost exponential time
or memory, because the value was built (and then walked and re-encoded)
before any check. These tests pin the fix: each crafted item, placed where a
peer would place it, is refused with our own error, and no CBOR value is
built at all (``cbor2.loads`` is never reached).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.protocol import dcbor, entry
from samoorg.protocol.errors import RemoteProtocolError, TooLarge
from tests.hostile_cbor import CORPUS, DECODERS


class _NoValueBuilt:
    """Stands in for cbor2 where a decoder must not get as far as building a value."""

    @staticmethod
    def loads(data: bytes) -> Any:
        pytest.fail(f"cbor2.loads reached with {len(data)} hostile bytes")

    @staticmethod
    def dumps(value: Any) -> bytes:
        pytest.fail("cbor2.dumps reached on a hostile value")


@pytest.fixture
def no_value_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dcbor, "cbor2", _NoValueBuilt)
    monkeypatch.setattr(entry, "cbor2", _NoValueBuilt)


@pytest.mark.usefixtures("no_value_built")
@pytest.mark.parametrize("item", CORPUS.values(), ids=CORPUS.keys())
def test_dcbor_refuses_hostile_items_before_building_a_value(item: bytes) -> None:
    with pytest.raises((dcbor.MalformedCBOR, TooLarge)):
        dcbor.decode(item, max_size=1 << 20)


@pytest.mark.usefixtures("no_value_built")
@pytest.mark.parametrize("decoder", DECODERS.values(), ids=DECODERS.keys())
@pytest.mark.parametrize("item", CORPUS.values(), ids=CORPUS.keys())
def test_every_decoder_refuses_hostile_items(decoder: Any, item: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decoder(item)


def test_small_amplifier_names_the_tag() -> None:
    item = CORPUS["shared 6x13"]
    assert len(item) < 300
    with pytest.raises(dcbor.MalformedCBOR, match="expected no tags, found tag 28 at byte 1"):
        dcbor.decode(item, max_size=1 << 20)


def test_deep_nesting_is_too_large_at_the_limit() -> None:
    with pytest.raises(TooLarge):
        dcbor.decode(b"\x81" * dcbor.MAX_DEPTH + b"\x00", max_size=100)
    assert dcbor.decode(b"\x81" * (dcbor.MAX_DEPTH - 1) + b"\x00", max_size=100) is not None


@given(
    st.sampled_from(sorted(CORPUS)),
    st.sampled_from(sorted(DECODERS)),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), max_size=4),
)
def test_mutated_hostile_seeds_give_a_value_or_our_error(
    name: str, decoder: str, edits: list[tuple[int, int]]
) -> None:
    # Fuzzing seeded with the hostile corpus: byte edits near the front, where
    # the heads that matter are, keep the shapes hostile but vary them.
    item = bytearray(CORPUS[name][:2000])
    for position, byte in edits:
        if item:
            item[position % len(item)] = byte
    with contextlib.suppress(RemoteProtocolError):
        DECODERS[decoder](bytes(item))
