"""Device codes: the one-time secret that lets a new device join an identity.

Theory of operation (``docs/protocol.md`` §8.11 is normative). It is the
invite scheme of §8.2 with its own domains: the existing device draws a
16-byte ``secret``, derives the one-time key ``seed = SHA-256("samoorg/device-key/v1\\0"
|| secret)`` and signs ``device.add`` with the one-time *public* key. The new
device, whose own key signs its first entry ``device.accept``, proves it holds
the secret with ``proof = Ed25519(one-time key, "samoorg/device-accept/v1\\0"
|| add id || new device key)``. Both keys thereby prove possession: the old
one signed the add, the new one signed the acceptance. The code is one line::

    samoorg-device:<base58btc( dcbor(payload) || SHA-256(dcbor(payload))[:4] )>

with ``payload = {"identity": founding key, "device": adding device key,
"add": 32-byte entry id, "secret": 16 bytes, "addrs": [multiaddr text, ...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from samoorg.protocol import dcbor
from samoorg.protocol.invite_code import (
    SECRET_SIZE,
    BadInviteCode,
    decode_code,
    encode_code,
    one_time_key,
    sign_acceptance,
    verify_acceptance,
)

DEVICE_CODE_PREFIX: Final = "samoorg-device:"
DEVICE_KEY_DOMAIN: Final = b"samoorg/device-key/v1\x00"
DEVICE_PROOF_DOMAIN: Final = b"samoorg/device-accept/v1\x00"


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """The decoded contents of a device code."""

    identity: bytes
    device: bytes
    add: bytes
    secret: bytes
    addrs: tuple[str, ...] = ()

    def format(self) -> str:
        """The one-line, copy-pasteable text of this code."""
        payload: dict[str, dcbor.Value] = {
            "identity": self.identity,
            "device": self.device,
            "add": self.add,
            "secret": self.secret,
            "addrs": list(self.addrs),
        }
        return encode_code(DEVICE_CODE_PREFIX, payload)


def device_one_time_key(secret: bytes) -> bytes:
    """The one-time public key a ``device.add`` records."""
    return one_time_key(secret, DEVICE_KEY_DOMAIN)


def sign_device_acceptance(secret: bytes, add_id: bytes, device: bytes) -> bytes:
    """The ``device.accept`` proof over (add id, new device key)."""
    return sign_acceptance(secret, add_id, device, (DEVICE_KEY_DOMAIN, DEVICE_PROOF_DOMAIN))


def verify_device_acceptance(key: bytes, add_id: bytes, device: bytes, proof: bytes) -> None:
    """Raise :class:`~samoorg.protocol.errors.BadSignature` unless ``proof`` is valid."""
    verify_acceptance(key, add_id, device, proof, DEVICE_PROOF_DOMAIN)


def _key(payload: dict[str, dcbor.Value], name: str, size: int) -> bytes:
    value = payload.get(name)
    if type(value) is not bytes or len(value) != size:
        raise BadInviteCode(f"expected {name!r} as a {size}-byte string in the device code")
    return value


def parse_device_code(text: str) -> DeviceCode:
    """Decode a device code; raises :class:`BadInviteCode` (and nothing else) for bad text."""
    payload = decode_code(text, DEVICE_CODE_PREFIX, "device code")
    addrs = payload.get("addrs", [])
    if type(addrs) is not list or not all(type(a) is str and a.startswith("/") for a in addrs):
        raise BadInviteCode("expected 'addrs' as a list of multiaddrs in the device code")
    return DeviceCode(
        identity=_key(payload, "identity", 32),
        device=_key(payload, "device", 32),
        add=_key(payload, "add", 32),
        secret=_key(payload, "secret", SECRET_SIZE),
        addrs=tuple(str(a) for a in addrs[:16]),
    )
