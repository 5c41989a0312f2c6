"""The replication test vectors (tests/vectors/sync_frames.json) against this implementation."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from samoorg.protocol.errors import ProtocolError
from samoorg.protocol.framing import FrameDecoder, encode_frame
from samoorg.protocol.sync import NEED_DATA, Closed, SyncSession
from samoorg.protocol.sync_messages import decode_message, encode_message

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "sync_frames.json").read_text())


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_sync_vectors", ROOT / "scripts" / "gen_sync_vectors.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def test_committed_vectors_match_the_generator() -> None:
    assert GEN.build() == VECTORS, "run scripts/gen_sync_vectors.py and commit the result"


def test_vectors_cover_every_message_and_error() -> None:
    assert {v["message"]["type"] for v in VECTORS["valid"]} == {
        "hello",
        "entries",
        "fork",
        "ack",
        "caught-up",
        "want",
    }
    errors = {v["error"] for v in VECTORS["invalid"]} | {v["error"] for v in VECTORS["sessions"]}
    assert errors >= {
        "TooLarge",
        "MalformedFrame",
        "TruncatedFrame",
        "UnsupportedVersion",
        "MalformedEntry",
        "BadForkProof",
        "UnexpectedMessage",
        "FlowControlError",
        "OutOfScope",
    }


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_frames(vector: dict[str, Any]) -> None:
    frame = bytes.fromhex(vector["frame"])
    decoder = FrameDecoder()
    decoder.receive_data(frame)
    payload = decoder.next_frame()
    assert isinstance(payload, bytes)
    assert GEN.message_json(decode_message(payload)) == vector["message"]
    assert encode_frame(encode_message(GEN.message_from_json(vector["message"]))) == frame


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_frames(vector: dict[str, Any]) -> None:
    decoder = FrameDecoder()
    for byte in bytes.fromhex(vector["frame"]):  # byte by byte: same verdict
        decoder.receive_data(bytes([byte]))
    decoder.receive_data(b"")

    def decode() -> None:
        payload = decoder.next_frame()
        assert isinstance(payload, bytes), payload
        decode_message(payload)

    with pytest.raises(ProtocolError) as caught:
        decode()
    assert caught.value.name == vector["error"]


@pytest.mark.parametrize("vector", VECTORS["sessions"], ids=lambda v: v["name"])
def test_session_transcripts_byte_by_byte(vector: dict[str, Any]) -> None:
    session = SyncSession()
    session.send(GEN.message_from_json(vector["our_hello"]))
    data = bytes.fromhex(vector["frames"])
    events: list[dict[str, Any]] = []
    error = None
    try:
        for chunk in [data[i : i + 1] for i in range(len(data))] + ([b""] if vector["eof"] else []):
            session.receive_data(chunk)
            while (event := session.next_event()) is not NEED_DATA:
                events.append(GEN.message_json(event))
                if isinstance(event, Closed):
                    break
    except ProtocolError as exc:
        error = exc.name
    assert events == vector["events"]
    assert error == vector["error"]
