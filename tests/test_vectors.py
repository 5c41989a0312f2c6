"""Our implementation against the committed vectors, and the vectors against their generator."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from samoorg.protocol.bundle import END, BundleDecoder, Record
from samoorg.protocol.crypto import Signer
from samoorg.protocol.entry import Entry, create_entry, decode_entry
from samoorg.protocol.errors import ProtocolError, RemoteProtocolError
from samoorg.protocol.feed import FeedHead, check_extends
from samoorg.protocol.fork import ForkProof
from samoorg.protocol.ids import peer_id

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"


def _load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _error_name(action: Any) -> str | None:
    try:
        action()
    except RemoteProtocolError as exc:
        return exc.name
    return None


def test_valid_entries() -> None:
    cases = _load("entries.json")["valid"]
    assert len(cases) >= 6
    for case in cases:
        raw = bytes.fromhex(case["entry"])
        entry = decode_entry(raw)
        prev = bytes.fromhex(case["prev"]) if case["prev"] else None
        body = _from_json(case["body"])
        assert entry.author.hex() == case["public_key"], case["name"]
        assert peer_id(entry.author) == case["peer_id"]
        assert (entry.seq, entry.prev, entry.timestamp, entry.kind) == (
            case["seq"],
            prev,
            case["timestamp"],
            case["kind"],
        )
        assert entry.body == body
        assert entry.signing_input.hex() == case["signing_input"]
        assert entry.signature.hex() == case["signature"]
        assert entry.id.hex() == case["id"]
        # Signing the same fields with the same seed gives the same bytes.
        again = create_entry(
            Signer(bytes.fromhex(case["seed"])),
            seq=case["seq"],
            prev=prev,
            timestamp=case["timestamp"],
            kind=case["kind"],
            body=body,
        )
        assert again.raw == raw, case["name"]


def test_invalid_entries() -> None:
    cases = _load("entries.json")["invalid"]
    names = {case["error"] for case in cases}
    assert names == {"MalformedEntry", "UnsupportedVersion", "TooLarge", "BadSignature"}
    for case in cases:
        raw = bytes.fromhex(case["entry"])
        assert _error_name(lambda raw=raw: decode_entry(raw)) == case["error"], case["name"]


def _apply(steps: list[dict[str, Any]]) -> None:
    held: list[Entry] = []
    for step in steps:
        entry = decode_entry(bytes.fromhex(step["entry"]))
        head = FeedHead(held[-1].author, held[-1].seq, held[-1].id) if held else None
        failure: ProtocolError | None = None
        try:
            outcome = check_extends(head, entry, lambda s: held[s - 1] if s <= len(held) else None)
        except ProtocolError as exc:
            failure = exc
        if failure is not None:
            assert failure.name == step["expect"]
            proof = getattr(failure, "proof", None)
            assert (proof.to_bytes().hex() if proof else None) == step["proof"]
            if proof is not None:
                proof.verify()
            continue
        assert outcome.value == step["expect"]
        if outcome.value == "next":
            held.append(entry)


def test_feed_scenarios() -> None:
    scenarios = _load("feeds.json")["scenarios"]
    expected = {step["expect"] for s in scenarios for step in s["steps"]}
    assert expected == {"next", "duplicate", "WrongSequence", "BrokenBacklink", "ForkDetected"}
    for scenario in scenarios:
        _apply(scenario["steps"])


def test_fork_proofs() -> None:
    data = _load("fork_proofs.json")
    assert {case["name"] for case in data["valid"]} == {"same-seq", "backlink", "signed-over"}
    for case in data["valid"]:
        proof = ForkProof.from_bytes(bytes.fromhex(case["proof"]))
        a, b = proof.verify()
        assert [a.seq, b.seq] == case["seqs"]
        assert peer_id(proof.author) == case["author"]
    for case in data["invalid"]:
        raw = bytes.fromhex(case["proof"])
        assert _error_name(lambda raw=raw: ForkProof.from_bytes(raw)) == case["error"], case["name"]


def _decode_bundle(data: bytes) -> list[Record]:
    decoder = BundleDecoder()
    decoder.receive_data(data)
    decoder.receive_data(b"")
    records: list[Record] = []
    for _ in range(len(data) + 2):
        item = decoder.next_record()
        if item is END:
            return records
        assert isinstance(item, Record)
        records.append(item)
    pytest.fail("bundle decoder did not finish")  # pragma: no cover


def test_bundles() -> None:
    data = _load("bundles.json")
    for case in data["valid"]:
        records = _decode_bundle(bytes.fromhex(case["bundle"]))
        assert [{"type": chr(r.type), "payload": r.payload.hex()} for r in records] == case[
            "records"
        ]
    for case in data["invalid"]:
        raw = bytes.fromhex(case["bundle"])
        assert _error_name(lambda raw=raw: _decode_bundle(raw)) == case["error"], case["name"]


def _generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_vectors.py"
    spec = importlib.util.spec_from_file_location("gen_vectors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_vectors_equal_the_generator_output() -> None:
    generator = _generator()
    built = generator.build()
    # sync_*.json belong to scripts/gen_sync_vectors.py (tests/test_sync_vectors.py).
    committed = [p.name for p in VECTORS.glob("*.json") if not p.name.startswith("sync_")]
    assert sorted(built) == sorted(committed)
    for name, content in built.items():
        committed = (VECTORS / name).read_text(encoding="utf-8")
        assert committed == generator.render(content), f"{name} is stale: run 'make vectors'"
