"""JSON shapes of an agreement's history, its blame and the members who accepted agreements.

Shared by ``samoorg agreement history|blame --json``, ``samoorg members --json``
and ``GET /api/v1/agreements/ID/history|blame``, ``GET /api/v1/members`` (see
:mod:`samoorg.node.api.shapes` for the others). The API wraps the history and
the blame lines in ``{"agreement", "title", "items"}`` so that a client can
title them; the CLI's ``--json`` prints the ``items``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from samoorg.node.api.times import Instant
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.agreements import Accepted, Agreement


def titled(agreement: Agreement, items: list[dict[str, Any]]) -> dict[str, Any]:
    """``items`` of one agreement, with its id and title (the API's answer)."""
    return {"agreement": agreement.doc.hex(), "title": agreement.title, "items": items}


def history_json(views: Views, agreement: Agreement) -> list[dict[str, Any]]:
    """Every edit with what it inserted and deleted, then the pending and invalid entries."""
    held = [
        (e, "pending", agreement.pending[e.id])
        for e in agreement.entries.values()
        if e.id in agreement.pending
    ] + [
        (e, "invalid", agreement.invalid[e.id])
        for e in agreement.entries.values()
        if e.id in agreement.invalid
    ]
    return [
        {
            "entry": row.entry.id.hex(),
            "author": peer_id(row.entry.author),
            "forked": views.is_forked(row.entry.author),
            "timestamp": Instant(row.entry.timestamp),
            "inserted": row.inserted,
            "deleted": row.deleted,
            "inserted_text": [*row.inserted_pieces],
            "deleted_text": [*row.deleted_pieces],
            "deps": [d.hex() for d in row.deps],
            "status": "applied",
        }
        for row in agreement.history()
    ] + [
        {
            "entry": e.id.hex(),
            "author": peer_id(e.author),
            "forked": views.is_forked(e.author),
            "timestamp": Instant(e.timestamp),
            "status": status,
            "reason": reason.text,
            "code": reason.code.value,
        }
        for e, status, reason in held
    ]


def blame_json(views: Views, agreement: Agreement) -> list[dict[str, Any]]:
    """Each line of the current text with the last edit that touched it."""
    return [
        {
            "line": line.number,
            "text": line.text,
            "entry": line.entry.id.hex(),
            "author": peer_id(line.entry.author),
            "forked": views.is_forked(line.entry.author),
            "timestamp": Instant(line.entry.timestamp),
            "authors": [peer_id(a) for a in line.authors],
        }
        for line in agreement.blame()
    ]


def members_json(views: Views) -> list[dict[str, Any]]:
    """Everyone who accepted an agreement, by peer id: how many, how many current versions."""
    agreements = views.agreements.all()
    people: dict[bytes, list[Accepted]] = {}
    for agreement in agreements:
        for author, accepted in agreement.accepted.items():
            people.setdefault(author, []).append(accepted)
    total = len(agreements)
    return [
        {
            "member": peer_id(author),
            "forked": views.is_forked(author),
            "accepted": len(found),
            "current": sum(1 for a in found if a.status == "current"),
            "of": total,
            "status": "member" if len(found) == total else "partial",
        }
        for author, found in sorted(people.items(), key=lambda item: peer_id(item[0]))
    ]


def acceptances_json(views: Views, agreement: Agreement) -> dict[str, Any]:
    """Who accepted ``agreement``, which version, oldest acceptance first."""
    accepted = sorted(agreement.accepted.items(), key=lambda item: item[1].entry.timestamp)
    return {
        "agreement": agreement.doc.hex(),
        "title": agreement.title,
        "version": agreement.version.hex(),
        "members": [
            {
                "member": peer_id(author),
                "forked": views.is_forked(author),
                "version": a.version.hex(),
                "status": a.status,
                "current": a.status == "current",
                "accepted_at": Instant(a.entry.timestamp),
            }
            for author, a in accepted
        ],
    }
