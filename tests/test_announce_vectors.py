"""The head-announcement vectors (tests/vectors/announcements/) against this implementation."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest

from samoorg.protocol import dcbor
from samoorg.protocol.announce import MAX_ANNOUNCE_SIZE, decode_announcement, encode_announcement
from samoorg.protocol.entry import MAX_ENTRY_SIZE
from samoorg.protocol.errors import RemoteProtocolError, TooLarge

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "tests" / "vectors" / "announcements" / "announcements.json"
TEXT = PATH.read_text(encoding="utf-8")
VECTORS = json.loads(TEXT)


def test_committed_vectors_equal_the_generator_output() -> None:
    generator = runpy.run_path(str(ROOT / "scripts" / "gen_announce_vectors.py"))
    assert generator["render"](generator["build"]()) == TEXT, (
        "run scripts/gen_announce_vectors.py (make vectors) and commit the result"
    )


def test_vectors_cover_both_error_names() -> None:
    assert len(VECTORS["valid"]) >= 4
    assert {v["error"] for v in VECTORS["invalid"]} == {"MalformedFrame", "TooLarge"}


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_announcements(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["announcement"])
    entries = [bytes.fromhex(e) for e in vector["entries"]]
    assert decode_announcement(data) == entries
    assert encode_announcement(entries) == data


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_announcements(vector: dict[str, Any]) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        decode_announcement(bytes.fromhex(vector["announcement"]))
    assert caught.value.name == vector["error"]


def test_the_worked_example_has_the_documented_layout() -> None:
    """§7.12: the 170-byte entry of §2.5 gives a 185-byte announcement, header a2 6176 01 ..."""
    first = VECTORS["valid"][0]
    data = bytes.fromhex(first["announcement"])
    assert len(data) == 185
    assert data[:15] == bytes.fromhex("a2" + "6176" + "01" + "67656e7472696573" + "81" + "58aa")
    assert data[15:] == bytes.fromhex(first["entries"][0])


def _exactly(size: int) -> bytes:
    """An announcement of exactly ``size`` bytes: seven 64 KiB items and one to fill up."""
    full = [bytes(MAX_ENTRY_SIZE)] * 7
    base = len(dcbor.encode({"v": 1, "entries": [*full, b""]}))
    last = size - base - 2  # an item of 256..65535 bytes has a 3-byte head, b"" a 1-byte one
    assert 256 <= last < 65536
    data = dcbor.encode({"v": 1, "entries": [*full, bytes(last)]})
    assert len(data) == size
    return data


def test_the_payload_limit_is_512_kib_exactly() -> None:
    assert len(decode_announcement(_exactly(MAX_ANNOUNCE_SIZE))) == 8
    with pytest.raises(TooLarge):
        decode_announcement(_exactly(MAX_ANNOUNCE_SIZE + 1))
