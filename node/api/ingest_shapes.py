"""The JSON of ``POST /import`` and ``POST /sync`` that the CLI reads too (no web stack here).

A rejection of an imported record travels as ``{"index", "error", "message",
"author", "seq"}`` (:func:`rejection_json`, read back by
:func:`rejection_from_json`), and both answers carry our own feed's fork cut
before and after the request in two headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from samoorg.node.store import Rejection
from samoorg.protocol.ids import parse_peer_id, peer_id

OWN_CUT_HEADER: Final = "samoorg-own-cut"
"""The cut of a fork proof about our own feed after the request (JSON: a number or null)."""
OWN_CUT_BEFORE_HEADER: Final = "samoorg-own-cut-before"
"""The same before the request."""


def rejection_json(rejection: Rejection) -> dict[str, Any]:
    """One rejection of a batch as JSON."""
    author = None if rejection.author is None else peer_id(rejection.author)
    return {
        "index": rejection.index,
        "error": rejection.error,
        "message": rejection.message,
        "author": author,
        "seq": rejection.seq,
    }


def rejection_from_json(found: Mapping[str, Any]) -> Rejection:
    """:func:`rejection_json` read back."""
    author = found.get("author")
    return Rejection(
        int(found["index"]),
        str(found["error"]),
        str(found["message"]),
        None if author is None else parse_peer_id(author),
        found.get("seq"),
    )
