"""Ed25519 and hashing, pinned to one documented behaviour.

Verification is libsodium's ``crypto_sign_verify_detached`` (through PyNaCl),
which is stricter than RFC 8032 alone: it rejects a non-canonical ``S``
(``S >= L``), a small-order or non-canonical public key, and a small-order
``R``. ``docs/protocol.md`` lists the exact rules; the Wycheproof vectors in
``../shared/vectors`` are checked against :func:`verify` in the test suite.
"""

from __future__ import annotations

import hashlib
from typing import Final

import nacl.bindings
import nacl.exceptions
import nacl.signing

from samoorg.protocol.errors import BadSignature, MalformedEntry

PUBLIC_KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
SEED_SIZE: Final = 32
HASH_SIZE: Final = 32


def digest(data: bytes) -> bytes:
    """SHA-256 of ``data``: the hash used for entry ids and backlinks."""
    return hashlib.sha256(data).digest()


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`BadSignature` unless ``signature`` is valid for ``message``.

    Never returns a bool: a signature that does not verify is an error.
    """
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise MalformedEntry(
            f"expected a {PUBLIC_KEY_SIZE}-byte Ed25519 public key, found {len(public_key)} bytes"
        )
    if len(signature) != SIGNATURE_SIZE:
        raise BadSignature(
            f"expected a {SIGNATURE_SIZE}-byte signature, found {len(signature)} bytes"
        )
    try:
        # What VerifyKey.verify does, without building a key object per call
        # (this is the hot path of ingest): libsodium crypto_sign_open.
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError):
        raise BadSignature(
            "expected a valid Ed25519 signature by the author, found one that does not verify"
        ) from None


class Signer:
    """An Ed25519 private key that can sign; the seed never leaves this object."""

    __slots__ = ("_key", "public_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise ValueError(f"expected a {SEED_SIZE}-byte Ed25519 seed, found {len(seed)} bytes")
        self._key = nacl.signing.SigningKey(seed)
        self.public_key: bytes = bytes(self._key.verify_key)

    @classmethod
    def generate(cls) -> Signer:
        """A new random key from the operating system's CSPRNG."""
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @property
    def seed(self) -> bytes:
        """The 32-byte seed, for the keystore only."""
        return bytes(self._key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached Ed25519 signature of ``message``."""
        return bytes(self._key.sign(message).signature)
