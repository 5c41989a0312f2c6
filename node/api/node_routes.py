"""The API's endpoints for the store and the network: ``POST /import``, ``POST /sync``, devices.

They let ``samoorg import`` and ``samoorg sync`` work through the running
daemon instead of beside it:

* ``POST /import`` takes one batch of a bundle's records (entries and fork
  proofs, base64) and ingests it through the daemon's store: every entry is
  verified (signature, links, sequence) in the store's write transaction, its
  views catch up, and entries of our own feed are announced to peers. The
  CLI checks the bundle's framing first and sends it batch by batch, each
  under the API's body cap; the answer has the counts of ``samoorg import``
  (rejections numbered within the batch).
* ``POST /sync`` asks the daemon to run one session with a peer on its own
  libp2p host (the one that owns our key), rather than a second host with
  the same identity; the answer is ``samoorg sync --json``.

Both answer the ``samoorg-own-cut-before`` and ``samoorg-own-cut`` headers:
the cut of a fork proof about our own feed before and after the request
(``null`` if none), so the CLI can warn as it does offline when one arrived
(``docs/protocol.md`` §4.4).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from samoorg.node.api.errors import ApiError
from samoorg.node.api.ingest_shapes import OWN_CUT_BEFORE_HEADER, OWN_CUT_HEADER, rejection_json
from samoorg.node.api.routes import ApiContext, _ctx, _json, _json_body

MAX_HOPS: Final = 64
MAX_TIMEOUT: Final = 3600


def _own_cut(ctx: ApiContext) -> int | None:
    return ctx.store.fork_cuts().get(ctx.me)


def _cut_headers(before: int | None, ctx: ApiContext) -> dict[str, str]:
    return {OWN_CUT_BEFORE_HEADER: json.dumps(before), OWN_CUT_HEADER: json.dumps(_own_cut(ctx))}


def _object(value: object, fields: dict[str, type | tuple[type, ...]]) -> dict[str, Any]:
    """``value`` if a JSON object with only these fields, of these types (``invalid_body``)."""
    if not isinstance(value, dict):
        raise ApiError("invalid_body", f"expected a JSON object, found {type(value).__name__}")
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ApiError("invalid_body", f"expected no other fields, found {', '.join(unknown)}")
    for name, kind in fields.items():
        found = value.get(name)
        if name in value and (not isinstance(found, kind) or isinstance(found, bool)):
            raise ApiError("invalid_body", f"expected {name} of another type, found {found!r:.40}")
    return value


def _decoded(items: object, name: str) -> list[bytes]:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ApiError("invalid_body", f"expected {name} a list of base64 strings")
    try:
        return [base64.b64decode(item, validate=True) for item in items]
    except (binascii.Error, ValueError):
        raise ApiError("invalid_body", f"expected {name} a list of base64 strings") from None


async def import_batch(request: Request) -> Response:
    """``POST /import``: ingest one batch of a bundle's records (``samoorg import``)."""

    ctx = _ctx(request)
    body = _object(await _json_body(request), {"entries": list, "fork_proofs": list})
    raws = _decoded(body.get("entries", []), "entries")
    proofs = _decoded(body.get("fork_proofs", []), "fork_proofs")
    before = _own_cut(ctx)
    done = ctx.store.ingest(raws)
    kept, refused = ctx.store.ingest_fork_proofs(proofs)
    forks = len(done.forks) + len(kept)
    if done.new or forks:
        ctx.stored()  # the views catch up; our own new entries are announced
    answer = {
        "new": len(done.new),
        "new_ids": [entry.id.hex() for entry in done.new],
        "duplicates": done.duplicates,
        "rejected": [rejection_json(r) for r in done.rejected],
        "rejected_proofs": [rejection_json(r) for r in refused],
        "forks": forks,
    }
    return _json(request, answer, headers=_cut_headers(before, ctx))


async def sync(request: Request) -> Response:
    """``POST /sync``: one session with a peer on the daemon's host (``samoorg sync``)."""
    from samoorg.node.transport import BadAddress, TransportError

    ctx = _ctx(request)
    fields: dict[str, type | tuple[type, ...]] = {
        "address": str,
        "hops": int,
        "timeout": (int, float),
    }
    body = _object(await _json_body(request), fields)
    address = body.get("address")
    if not isinstance(address, str) or len(address) > 1000:
        raise ApiError("invalid_body", "expected field 'address', a multiaddr of 1000 characters")
    hops, timeout = body.get("hops", 3), body.get("timeout", 120)
    if not 0 <= hops <= MAX_HOPS or not 1 <= timeout <= MAX_TIMEOUT:
        raise ApiError(
            "invalid_body", f"expected hops 0..{MAX_HOPS} and timeout 1..{MAX_TIMEOUT} seconds"
        )
    if ctx.sync is None:
        raise ApiError("internal_error", "this API serves no node that could dial")
    before = _own_cut(ctx)
    try:
        peer, report, seconds = await ctx.sync(address, hops=hops, timeout=float(timeout))
    except BadAddress:
        raise
    except TransportError as exc:
        raise ApiError("peer_unreachable", str(exc)) from None
    del peer
    answer = {**report.to_json(), "seconds": round(seconds, 3)}
    return _json(request, answer, headers=_cut_headers(before, ctx))
