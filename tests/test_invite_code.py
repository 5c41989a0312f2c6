"""Invite codes: round trip, damage detection, and the fuzz invariant."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samoorg.protocol.errors import BadSignature
from samoorg.protocol.invite_code import (
    CODE_PREFIX,
    BadInviteCode,
    InviteCode,
    one_time_key,
    parse_invite_code,
    sign_acceptance,
    verify_acceptance,
)

CODE = InviteCode(
    inviter=b"\x01" * 32,
    invite=b"\x02" * 32,
    secret=b"\x03" * 16,
    expires=1_760_000_000_000,
    amount=10000,
    currency="EUR",
    addrs=("/ip4/127.0.0.1/tcp/4001", "/ip6/::1/udp/4001/quic-v1"),
)


def test_round_trip_and_one_line() -> None:
    text = CODE.format()
    assert text.startswith(CODE_PREFIX)
    assert "\n" not in text
    assert " " not in text
    assert parse_invite_code(text) == CODE
    assert parse_invite_code(f"  {text[:40]}\n{text[40:]}  ") == CODE  # wrapped by a mail client
    assert parse_invite_code(text).addrs == CODE.addrs


def test_proof_binds_the_invitee() -> None:
    key = one_time_key(CODE.secret)
    proof = sign_acceptance(CODE.secret, CODE.invite, b"\x05" * 32)
    verify_acceptance(key, CODE.invite, b"\x05" * 32, proof)
    with pytest.raises(BadSignature):
        verify_acceptance(key, CODE.invite, b"\x06" * 32, proof)  # replayed by someone else
    with pytest.raises(BadSignature):
        verify_acceptance(key, b"\x07" * 32, b"\x05" * 32, proof)  # another invite


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "expected an invite code starting"),
        (CODE_PREFIX + "0OIl", "not base58"),
        (CODE_PREFIX, "checksum"),
        (CODE.format()[:-1], "checksum"),
        (CODE_PREFIX + "x" * 5000, "at most 4096"),
    ],
)
def test_damaged_codes(text: str, message: str) -> None:
    with pytest.raises(BadInviteCode, match=message):
        parse_invite_code(text)


@settings(max_examples=500)
@given(st.text(max_size=400))
def test_any_text_parses_or_raises_bad_invite_code(text: str) -> None:
    with contextlib.suppress(BadInviteCode):
        parse_invite_code(text)


@settings(max_examples=500)
@given(st.integers(len(CODE_PREFIX), len(CODE.format()) - 1), st.sampled_from("123abcXYZ"))
def test_every_single_character_change_is_caught(position: int, char: str) -> None:
    text = CODE.format()
    changed = text[:position] + char + text[position + 1 :]
    if changed == text:
        return
    with pytest.raises(BadInviteCode):
        parse_invite_code(changed)


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        k: values for k in ("inviter", "invite", "secret", "expires", "amount", "currency", "addrs")
    },
)


@settings(max_examples=500)
@given(fields)
def test_checksummed_garbage_parses_or_raises_bad_invite_code(payload: dict[str, object]) -> None:
    from samoorg.protocol import dcbor
    from samoorg.protocol.crypto import digest
    from samoorg.protocol.ids import b58encode

    raw = dcbor.encode(payload)  # type: ignore[arg-type]
    text = CODE_PREFIX + b58encode(raw + digest(raw)[:4])
    with contextlib.suppress(BadInviteCode):
        parse_invite_code(text)
