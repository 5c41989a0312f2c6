"""Human-facing identifiers: peer ids for authors, hex for entry ids.

An author is shown as the libp2p peer id of their Ed25519 key, so that the
feed author and the network identity are one string (``12D3KooW...``). The
peer id is base58btc(multihash-identity(protobuf(PublicKey{Ed25519, key}))),
computed here without importing libp2p::

    0x00 0x24 | 0x08 0x01 0x12 0x20 | 32-byte key      (38 bytes, then base58btc)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from samoorg.protocol.errors import LocalProtocolError

_B58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58)}
_PEER_ID_PREFIX: Final = bytes([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])


class BadIdentifier(LocalProtocolError):
    """A string given as a peer id or entry id cannot be parsed."""


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58 (base58btc), leading zero bytes as '1'."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, rest = divmod(number, 58)
        chars.append(_B58[rest])
    return "1" * zeros + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; raises :class:`BadIdentifier`."""
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise BadIdentifier(f"expected a base58btc string, found character {char!r}")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def peer_id(public_key: bytes) -> str:
    """The libp2p peer id (``12D3KooW...``) of a 32-byte Ed25519 public key.

    Remembered for the last 65,536 keys: listings name the same members again
    and again, and base58 is a visible share of a page's time.
    """
    return _peer_id(bytes(public_key))


@lru_cache(maxsize=1 << 16)
def _peer_id(public_key: bytes) -> str:
    if len(public_key) != 32:
        raise BadIdentifier(f"expected a 32-byte Ed25519 key, found {len(public_key)} bytes")
    return b58encode(_PEER_ID_PREFIX + public_key)


def parse_peer_id(text: str) -> bytes:
    """The Ed25519 public key inside a peer id string; raises :class:`BadIdentifier`.

    Remembered for the last 65,536 strings, like :func:`peer_id` (a table
    names the same members on many rows).
    """
    return _parse_peer_id(str(text))


@lru_cache(maxsize=1 << 16)
def _parse_peer_id(text: str) -> bytes:
    text = text.strip()
    try:
        # A peer id is 52 characters; the bound keeps hostile input cheap.
        raw = b58decode(text) if len(text) <= 64 else b""
    except BadIdentifier:
        raw = b""
    if len(raw) != 38 or not raw.startswith(_PEER_ID_PREFIX):
        raise BadIdentifier(
            f"expected an Ed25519 peer id (12D3KooW..., 52 characters), found {text[:64]!r}"
        )
    return raw[len(_PEER_ID_PREFIX) :]


def entry_id_hex(entry_id: bytes) -> str:
    """Entry ids are shown as 64 lowercase hex digits; unique prefixes are accepted."""
    return entry_id.hex()


def short(text: str, length: int = 12) -> str:
    """A display prefix of an id string."""
    return text[:length]
