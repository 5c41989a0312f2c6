"""State digests: one hash that two nodes compare to know their views agree."""

from __future__ import annotations

import hashlib

from samoorg.protocol import dcbor


def state_digest(value: dcbor.Value) -> str:
    """Hex SHA-256 of the deterministic CBOR encoding of a view's canonical state.

    Callers must build ``value`` from sorted collections so that equal states
    encode identically.
    """
    return hashlib.sha256(dcbor.encode(value)).hexdigest()
