"""The Ed25519 public key of a seed, in pure Python (RFC 8032 §5.1.5).

Only for checking a key file's fields against each other on every read
(:mod:`samoorg.node.keystore`) without loading libsodium, which ``samoorg
whoami`` does not pay for. Nothing is signed or verified here; a test checks
the result against libsodium on many seeds. About a millisecond per call.
"""

from __future__ import annotations

import hashlib
from typing import Final

_P: Final = 2**255 - 19
_D: Final = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z


def _add(a: Point, b: Point) -> Point:
    e = (a[1] - a[0]) * (b[1] - b[0]) % _P
    f = (a[1] + a[0]) * (b[1] + b[0]) % _P
    g = 2 * a[3] * b[3] * _D % _P
    h = 2 * a[2] * b[2] % _P
    e, f, g, h = f - e, h - g, h + g, f + e
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _base() -> Point:
    y = 4 * pow(5, -1, _P) % _P
    xx = (y * y - 1) * pow(_D * y * y + 1, -1, _P) % _P
    x = pow(xx, (_P + 3) // 8, _P)
    if (x * x - xx) % _P:
        x = x * _SQRT_M1 % _P
    if x & 1:
        x = _P - x
    return x, y, 1, x * y % _P


_BASE: Final = _base()


def public_key_of_seed(seed: bytes) -> bytes:
    """The 32-byte public key that the 32-byte ``seed`` derives."""
    if len(seed) != 32:
        raise ValueError(f"expected a 32-byte seed, found {len(seed)} bytes")
    digest = hashlib.sha512(seed).digest()
    scalar = (int.from_bytes(digest[:32], "little") & ((1 << 254) - 8)) | (1 << 254)
    result: Point = (0, 1, 1, 0)
    point = _BASE
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    inverse = pow(result[2], -1, _P)
    x, y = result[0] * inverse % _P, result[1] * inverse % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")
