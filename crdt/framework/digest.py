"""State digests: one hash that two nodes compare to know their views agree."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from samoorg.protocol import dcbor


def state_digest(value: dcbor.Value) -> str:
    """Hex SHA-256 of the deterministic CBOR encoding of a view's canonical state.

    Callers must build ``value`` from sorted collections so that equal states
    encode identically.
    """
    return hashlib.sha256(dcbor.encode(value)).hexdigest()


def sorted_ids(ids: Iterable[bytes]) -> list[dcbor.Value]:
    """Ids in ascending byte order, typed for building a canonical state."""
    return list(sorted(ids))
