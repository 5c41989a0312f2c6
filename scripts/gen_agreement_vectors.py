"""Write ``tests/vectors/agreements/agreements.json`` (docs/protocol.md §8.9).

Usage: ``.venv/bin/python scripts/gen_agreement_vectors.py`` from the repository root.

Deterministic (fixed keys and timestamps; Ed25519 signatures are
deterministic); ``tests/test_agreement_vectors.py`` checks that the committed
file equals what this script builds and that this implementation satisfies
it. Three parts:

* ``bodies``: one signed entry per case and what its body parses to (the
  operations with character ids ``[entry id, offset]``) or the reason code it
  is void with (and, for people, this implementation's wording);
* ``history``: the signed entries of a small agreement written by three
  authors (concurrent edits, acceptances, one void and one waiting entry)
  and the state every node must derive from them, in any order;
* ``versions``: version hashes of given texts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from samoorg.crdt.algorithms.text import CharId  # noqa: E402
from samoorg.crdt.algorithms.text_replica import Insert, Op  # noqa: E402
from samoorg.crdt.framework.errors import RuleViolation  # noqa: E402
from samoorg.crdt.kinds.agreements import (  # noqa: E402
    AGREEMENT_ACCEPT,
    AGREEMENT_EDIT,
    AGREEMENT_NEW,
    edit_body,
    parse,
    version_hash,
)
from samoorg.protocol import dcbor  # noqa: E402
from samoorg.protocol.entry import Entry  # noqa: E402
from tests.agreement_fixtures import accept, create, edit, state_of  # noqa: E402
from tests.community_fixtures import Author, views_of  # noqa: E402

OUTPUT = ROOT / "tests" / "vectors" / "agreements" / "agreements.json"
BASE = "# Rules\n\n1. We decide in public.\n2. Anyone may propose.\n"


def _ref(char: CharId | None) -> Any:
    return None if char is None else [char[0].hex(), char[1]]


def _op(op: Op) -> dict[str, Any]:
    if isinstance(op, Insert):
        return {"insert": op.text, "left": _ref(op.left), "right": _ref(op.right)}
    return {"delete": op.length, "target": _ref(op.target)}


def _parsed(entry: Entry) -> dict[str, Any]:
    case: dict[str, Any] = {"kind": entry.kind, "entry": entry.raw.hex(), "id": entry.id.hex()}
    try:
        record = parse(entry)
    except RuleViolation as exc:
        reason = exc.malformed(entry.kind)
        case["void"] = reason.code.value
        case["detail"] = reason.text
        return case
    change = getattr(record, "change", None)
    if change is not None:
        case["ops"] = [_op(op) for op in change.ops]
        case["deps"] = sorted(d.hex() for d in change.deps)
    return case


def _bodies(doc: bytes) -> list[dict[str, Any]]:
    writer = Author(7)
    bodies: list[tuple[str, dict[str, dcbor.Value]]] = [
        (AGREEMENT_NEW, {"title": "T", "ops": [[0, None, None, "Hi!"]]}),
        (AGREEMENT_NEW, {"title": "T", "ops": [[0, None, None, "ab"], [0, [0, 0], [0, 1], "x"]]}),
        (AGREEMENT_EDIT, {"agreement": doc, "deps": [doc], "refs": [doc], "ops": [
            [0, [1, 1], [1, 2], " there"], [1, [1, 2], 1], [1, [0, 0], 2]]}),
        (AGREEMENT_NEW, {"title": "", "ops": [[0, None, None, "x"]]}),
        (AGREEMENT_NEW, {"title": "T", "ops": [[0, [1, 0], None, "x"]]}),
        (AGREEMENT_NEW, {"title": "T", "ops": [[0, None, None, "x", [0, 0]]]}),
        (AGREEMENT_EDIT, edit_body(doc, [doc, doc], [], [[1, [0, 0], 1]])),
        (AGREEMENT_EDIT, {"agreement": doc, "deps": [doc], "refs": [doc], "ops": [[1, [1, 0], 0]]}),
        (AGREEMENT_ACCEPT, {"agreement": doc, "heads": [doc], "version": b"\x00" * 31}),
    ]  # fmt: skip
    return [_parsed(writer.write(kind, body)) for kind, body in bodies]


def build() -> dict[str, Any]:
    """The whole vector file as a JSON-able dict."""
    alice, bob, carol = Author(1), Author(2), Author(3)
    root = create(alice, BASE, "Rules")
    doc = root[0].id
    bob.clock = carol.clock = alice.clock
    by_bob = edit(bob, doc, root, BASE.replace("in public", "openly, in public"))
    by_carol = edit(carol, doc, root, BASE + "3. No leaders.\n")
    both = [*root, *by_bob, *by_carol]
    merged = edit(alice, doc, both, state_of(doc, both).text.replace("Anyone", "Any member"))
    everything = [*both, *merged]
    accepts = [accept(bob, doc, both), accept(carol, doc, everything)]
    void = carol.write(AGREEMENT_EDIT, edit_body(doc, [doc], [doc], [[1, [1, 0], 999]]))
    waiting = bob.write(AGREEMENT_EDIT, edit_body(doc, [b"\x01" * 32], [], [[0, None, None, "?"]]))
    entries = [*everything, *accepts, void, waiting]
    views = views_of(*entries)
    agreement = views.agreements.get(doc)
    assert agreement is not None
    return {
        "conventions": {
            "bytes": "byte strings are lowercase hex; entries are whole signed entries (§2)",
            "ids": "a character id is [entry id, offset]",
            "order": "every delivery order of 'entries' must give 'expected'",
            "reasons": "void and waiting entries carry reason codes (docs/protocol.md §8.7); "
            "'detail' texts are informative only and never digested",
        },
        "bodies": _bodies(doc),
        "history": {
            "agreement": doc.hex(),
            "entries": [e.raw.hex() for e in entries],
            "expected": {
                "title": agreement.title,
                "text": agreement.text,
                "version": agreement.version.hex(),
                "heads": [h.hex() for h in agreement.heads],
                "text_at": {e.id.hex(): agreement.text_at([e.id]) for e in everything},
                "accepted": {a.hex(): x.status for a, x in sorted(agreement.accepted.items())},
                "void": {k.hex(): v.code.value for k, v in sorted(agreement.invalid.items())},
                "waiting": {
                    k.hex(): [v.code.value, [i.hex() for i in v.ids]]
                    for k, v in sorted(agreement.pending.items())
                },
                "blame": [[line.number, line.entry.id.hex()] for line in agreement.blame()],
                "digest": views.digests()["agreements"],
            },
        },
        "versions": [
            {"agreement": doc.hex(), "text": text, "hash": version_hash(doc, text).hex()}
            for text in ("", "a", BASE, "соглашение 🙂\n")
        ],
    }


def main() -> None:
    """Write the vector file."""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
