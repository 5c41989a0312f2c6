"""Agreements: the text, its history with diffs, blame, acceptances; edit and accept.

``GET /agreements`` lists the agreements (``samoorg agreement list``) with a
form for a new one. ``GET /agreements/{id}`` shows one:

* the text of the current version, or of ``?version=`` (a version hash or an
  edit's entry id, as ``agreement show --version``);
* the history (``agreement history``): every edit, what it inserted and
  deleted; ``?diff=ENTRY`` shows the line diff that edit made (the text at
  its dependencies against the text right after it), ``?from=A&to=B`` the
  diff between two versions;
* blame (``agreement blame``) and who accepted which version
  (``members --agreement``);
* the edit form: the text as a textarea. It carries the heads of the
  version it showed; if the agreement changed meanwhile (a peer's edit
  arrived), the edit is carried over onto the current text
  (:func:`~samoorg.crdt.algorithms.agreement_edits.merge_texts`) so it undoes nothing,
  or refused where both changed the same place. The edit becomes the same
  CRDT change as ``agreement edit`` (:mod:`samoorg.node.actions.agreements`);
* accept the current version (``agreement accept``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.routing import Route

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.kinds.agreements import AgreementState, find_version
from samoorg.node.actions import agreements as actions
from samoorg.node.api.shapes import (
    agreement_detail,
    agreement_summary,
    held_agreement,
    jsonable,
    rfc3339,
)
from samoorg.node.web.acting import field_of, show, start_param, submit, window
from samoorg.node.web.site import context
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from samoorg.crdt.kinds.agreements import Agreement
    from samoorg.node.actions import Actor, Done
    from samoorg.node.web.acting import Shown
    from samoorg.node.web.forms import Form, Refusal

    Field = Callable[[Refusal], str]

PREVIEW: Final = 60
MAX_DIFF_LINES: Final = 2000
MAX_HEADS: Final = 64


def _preview(pieces: tuple[str, ...]) -> str:
    flat = " … ".join(" ".join(p.split()) or p.replace("\n", "⏎") for p in pieces)
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def line_diff(old: str, new: str) -> list[tuple[str, str]]:
    """``(op, line)`` rows of a unified line diff: ``" "`` kept, ``"-"`` removed, ``"+"`` added.

    Hunk headers are ``("@", "@@ -a,b +c,d @@")``; at most :data:`MAX_DIFF_LINES` rows.
    """
    rows: list[tuple[str, str]] = []
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), lineterm="", n=2, fromfile="a", tofile="b"
    )
    for text in lines:
        if text.startswith(("---", "+++")):
            continue
        op = "@" if text.startswith("@@") else text[:1] or " "
        rows.append((op, text if op == "@" else text[1:]))
        if len(rows) >= MAX_DIFF_LINES:
            break
    return rows


def _agreement(request: Request) -> Agreement:
    from samoorg.crdt.kinds.agreements import AGREEMENT_NEW as NEW

    ctx = context(request)
    entry = ctx.actor().entry(request.path_params["id"], NEW)  # ambiguity names the authors
    return held_agreement(ctx.live.views, entry)


def _hex(text: str | None) -> str | None:
    from samoorg.node.actions.refs import hex_prefix

    return None if not text else hex_prefix(text, "a version hash or entry id")


def _diff_of(agreement: Agreement, query: Any) -> dict[str, Any] | None:
    """The diff asked for: one edit's (``diff=``) or between two versions (``from``, ``to``)."""
    edit = _hex(query.get("diff"))
    if edit is not None:
        found = [a for a in agreement.replica.applied if a.hex().startswith(edit)]
        if len(found) != 1:
            raise RuleViolation(f"no single edit of {agreement.doc.hex()[:12]} matches {edit!r}")
        change = agreement.replica.applied[found[0]]
        before = agreement.text_at(tuple(change.deps)) if change.deps else ""
        after = agreement.text_at(found)
        return {"title": found[0].hex()[:12], "rows": line_diff(before, after)}
    start, end = _hex(query.get("from")), _hex(query.get("to"))
    if start is None and end is None:
        return None
    old = find_version(agreement, start)[1] if start else ""
    new = find_version(agreement, end)[1] if end else agreement.text
    title = f"{(start or '∅')[:12]} → {(end or 'current')[:12]}"
    return {"title": title, "rows": line_diff(old, new)}


def _detail_values(request: Request) -> dict[str, Any]:
    """The values of an agreement's page; the plain page (no version or diff asked for) is
    remembered until an agreement entry arrives."""
    agreement = _agreement(request)
    query = request.query_params
    if any(query.get(name) for name in ("version", "diff", "from", "to")):
        return _computed(request, agreement)
    live = context(request).live
    return live.memo(
        ("web.agreement", agreement.doc),
        AgreementState.kinds,
        lambda: _computed(request, agreement),
    )


def _computed(request: Request, agreement: Agreement) -> dict[str, Any]:
    ctx = context(request)
    views = ctx.live.views
    query = request.query_params
    shown = jsonable(agreement_detail(views, agreement, _hex(query.get("version"))))
    me = peer_id(ctx.me)
    history = [
        {
            "entry": row.entry.id.hex(),
            "author": peer_id(row.entry.author),
            "forked": views.is_forked(row.entry.author),
            "time": rfc3339(row.entry.timestamp),
            "inserted": row.inserted,
            "deleted": row.deleted,
            "inserted_text": _preview(row.inserted_pieces),
            "deleted_text": _preview(row.deleted_pieces),
        }
        for row in agreement.history()
    ]
    blame = [
        {
            "line": line.number,
            "text": line.text.rstrip("\n"),
            "entry": line.entry.id.hex(),
            "author": peer_id(line.entry.author),
            "time": rfc3339(line.entry.timestamp),
        }
        for line in agreement.blame()
    ]
    accepted = [
        {
            "member": peer_id(author),
            "version": a.version.hex(),
            "status": a.status,
            "time": rfc3339(a.entry.timestamp),
        }
        for author, a in sorted(agreement.accepted.items(), key=lambda i: i[1].entry.timestamp)
    ]
    mine = agreement.accepted.get(ctx.me)
    return {
        "agreement": shown,
        "summary": agreement_summary(agreement, ctx.me),
        "current_version": agreement.version.hex(),
        "heads": ",".join(h.hex() for h in agreement.heads),
        "current_text": agreement.text,
        "history": history,
        "blame": blame,
        "accepted": accepted,
        "accepted_by_me": mine is not None and mine.version == agreement.version,
        "diff": _diff_of(agreement, query),
        "me": me,
    }


async def listing(request: Request) -> Response:
    """``GET /agreements``: every agreement held, oldest first, and the form for a new one."""
    return show(request, "agreements.html", _list_values(request), active="agreements")


def _list_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    live = ctx.live
    held = live.memo(("agreements",), AgreementState.kinds, live.views.agreements.all)
    shown, win = window(held, start_param(request))
    return {"agreements": [agreement_summary(a, ctx.me) for a in shown], "window": win}


async def detail(request: Request) -> Response:
    """``GET /agreements/{id}`` (``?version=``, ``?diff=``, ``?from=&to=``)."""
    return show(request, "agreement.html", _detail_values(request), active="agreements")


def _refused(template: str, values: Callable[[Request], dict[str, Any]], field: Field) -> Shown:
    def shown(request: Request, form: Form, refusal: Refusal) -> Response:
        return show(
            request,
            template,
            values(request),
            active="agreements",
            refusal=refusal,
            field=field(refusal),
            typed=form.values,
        )

    return shown


def carried_over(agreement: Agreement, heads_field: str, wanted: str) -> str:
    """``wanted``, written on the version named by ``heads_field``, onto the current text."""
    from samoorg.crdt.algorithms.agreement_edits import merge_texts

    heads = tuple(bytes.fromhex(h) for h in heads_field.split(",")[:MAX_HEADS] if _is_id(h))
    if not heads or set(heads) == set(agreement.heads):
        return wanted
    if not all(h in agreement.replica.applied for h in heads):
        raise RuleViolation("the version you edited is not held here: reload the agreement")
    return merge_texts(agreement.text_at(heads), agreement.text, wanted)


def _is_id(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _textarea(form: Form) -> str:
    """The ``text`` field as the agreement's text: browsers send lines ended by CR LF."""
    return form.values.get("text", "").replace("\r\n", "\n")


def _to_agreement(request: Request) -> Callable[[Done, Form], str]:
    return lambda _done, _form: request.url.path.rsplit("/", 1)[0]


async def edit(request: Request) -> Response:
    """``POST /agreements/{id}/edit``: the whole new text, and the heads it was written on."""
    ref = request.path_params["id"]

    def run(actor: Actor, form: Form) -> Done:
        text = carried_over(_agreement(request), form.get("heads"), _textarea(form))
        return actions.edit(actor, agreement=ref, text=text)

    refused = _refused("agreement.html", _detail_values, lambda _: "text")
    return await submit(request, run, _to_agreement(request), refused)


async def accept(request: Request) -> Response:
    """``POST /agreements/{id}/accept``: accept the current version."""
    ref = request.path_params["id"]
    refused = _refused("agreement.html", _detail_values, lambda _: "accept")
    return await submit(
        request,
        lambda actor, _: actions.accept(actor, agreement=ref),
        _to_agreement(request),
        refused,
    )


async def create(request: Request) -> Response:
    """``POST /agreements``: a title and the text of a new agreement."""

    def run(actor: Actor, form: Form) -> Done:
        return actions.new(actor, title=form.get("title"), text=_textarea(form))

    def field(refusal: Refusal) -> str:
        return field_of(refusal.message, {"text": (), "title": ("title",)})

    def created(made: Done, _: Form) -> str:
        return f"/agreements/{made.shape['agreement']}"

    return await submit(request, run, created, _refused("agreements.html", _list_values, field))


ROUTES: Final = [
    Route("/agreements", listing),
    Route("/agreements", create, methods=["POST"]),
    Route("/agreements/{id}", detail),
    Route("/agreements/{id}/edit", edit, methods=["POST"]),
    Route("/agreements/{id}/accept", accept, methods=["POST"]),
]
