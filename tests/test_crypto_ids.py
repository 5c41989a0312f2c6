"""Ed25519 behaviour pinned by Wycheproof, and peer ids equal to libp2p's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.protocol.crypto import Signer, verify
from samoorg.protocol.errors import BadSignature, MalformedEntry, ProtocolError
from samoorg.protocol.ids import BadIdentifier, b58decode, b58encode, parse_peer_id, peer_id

# Cases where libsodium's strict verify disagrees with Wycheproof's expected
# result (docs/protocol.md §6.4). With PyNaCl's bundled libsodium there are none.
DISAGREEMENTS: dict[int, str] = {}


def _wycheproof(shared: Path) -> list[tuple[bytes, dict[str, Any]]]:
    data = json.loads((shared / "vectors" / "wycheproof_ed25519_test.json").read_text())
    cases = [
        (bytes.fromhex(group["publicKey"]["pk"]), test)
        for group in data["testGroups"]
        for test in group["tests"]
    ]
    assert len(cases) == data["numberOfTests"] == 151
    return cases


def test_wycheproof_through_our_verify(shared: Path) -> None:
    outcomes = {"valid": 0, "invalid": 0}
    for public_key, case in _wycheproof(shared):
        message, signature = bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"])
        try:
            verify(public_key, message, signature)
        except BadSignature:
            got = "invalid"
        else:
            got = "valid"
        expected = DISAGREEMENTS.get(case["tcId"], case["result"])
        assert got == expected, (case["tcId"], case["comment"])
        outcomes[got] += 1
    assert outcomes == {"valid": 88, "invalid": 63}


IDENTITY = bytes([1]) + bytes(31)  # the neutral point, order 1
ORDER_2 = bytes.fromhex("ec" + "ff" * 30 + "7f")  # y = p - 1: the point of order 2


@pytest.mark.parametrize(
    ("public_key", "signature", "why"),
    [
        # RFC 8032's cofactorless equation [S]B = R + [k]A holds for any
        # message here (0 = 0 + k*0), but libsodium refuses small-order keys.
        (IDENTITY, IDENTITY + bytes(32), "small-order public key and R, S = 0"),
        (ORDER_2, IDENTITY + bytes(32), "public key of order 2"),
        # A valid key with a small-order R and S = 0.
        (Signer(bytes(32)).public_key, IDENTITY + bytes(32), "small-order R"),
    ],
)
def test_libsodium_strictness_beyond_rfc8032(public_key: bytes, signature: bytes, why: str) -> None:
    for message in (b"", b"any message"):
        with pytest.raises(BadSignature):
            verify(public_key, message, signature)


def test_verify_input_lengths() -> None:
    key = Signer(bytes(32))
    signature = key.sign(b"m")
    verify(key.public_key, b"m", signature)
    with pytest.raises(MalformedEntry):
        verify(key.public_key[:31], b"m", signature)
    with pytest.raises(BadSignature):
        verify(key.public_key, b"m", signature[:63])


def test_signer_rejects_bad_seed() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        Signer(b"short")


@settings(max_examples=50)
@given(st.binary(min_size=32, max_size=32))
def test_peer_id_equals_libp2p(seed: bytes) -> None:
    from libp2p.crypto.ed25519 import Ed25519PublicKey
    from libp2p.peer.id import ID

    public_key = Signer(seed).public_key
    theirs = ID.from_pubkey(Ed25519PublicKey.from_bytes(public_key)).to_base58()
    ours = peer_id(public_key)
    assert ours == theirs
    assert ours.startswith("12D3KooW")
    assert len(ours) == 52
    assert parse_peer_id(ours) == public_key


@given(st.binary(max_size=40))
def test_base58_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12D3KooW",
        "0OIl",
        "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
        "12D3KooW" + "1" * 44,
        "12D3KooW" * 10_000,
    ],
)
def test_parse_peer_id_rejects(text: str) -> None:
    with pytest.raises(BadIdentifier):
        parse_peer_id(text)


def test_peer_id_rejects_wrong_key_length() -> None:
    with pytest.raises(ProtocolError):
        peer_id(b"\x00" * 31)
