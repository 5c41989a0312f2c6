"""Crafted CBOR that attacks decoders, and every decoder of untrusted bytes.

The testing kit for the remote-denial-of-service class of bugs: a corpus of
small inputs whose naive decoding costs exponential time or memory (value
sharing, tags 28/29; string references, tags 256/25), unbounded recursion
(deep nesting, indefinite lengths) or huge allocations (claimed counts and
lengths far beyond the bytes present), and :data:`DECODERS`, each decoder of
untrusted bytes wrapped so that it can be fed one of those items in the place
where a peer would put it. ``tests/test_hostile_cbor.py`` asserts that every
decoder refuses every item with our own error before building any value, and
``bench/decode_bench.py`` prints the worst time per input byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from samoorg.protocol.announce import decode_announcement
from samoorg.protocol.crypto import digest
from samoorg.protocol.entry import decode_entry
from samoorg.protocol.fork import FORK_PROOF_TAG, ForkProof
from samoorg.protocol.framing import encode_frame
from samoorg.protocol.ids import b58encode
from samoorg.protocol.invite_code import CODE_PREFIX, parse_invite_code
from samoorg.protocol.sync import SyncSession
from samoorg.protocol.sync_messages import decode_message
from tests.feed_fixtures import head, reference_encode

_SHAREABLE: Final = 28
_SHARED_REF: Final = 29


def _tag(number: int, item: bytes) -> bytes:
    return head(6, number) + item


def shared_amplifier(levels: int, refs: int) -> bytes:
    """``levels`` shareable arrays, each holding ``refs`` references to the one below.

    About ``3 * levels * refs`` bytes that stand for ``refs ** levels`` leaves:
    a decoder that honours value sharing and then walks or re-encodes the value
    does that much work.
    """
    # Shared values are numbered in order of appearance, so the levels sit
    # side by side in one array, each referring back to the one before.
    items = [_tag(_SHAREABLE, reference_encode(["x"]))]
    for level in range(levels):
        items.append(_tag(_SHAREABLE, head(4, refs) + _tag(_SHARED_REF, head(0, level)) * refs))
    return head(4, len(items)) + b"".join(items)


def shared_square(refs: int) -> bytes:
    """``[28([0] * refs), 29(0) * refs]``: ``refs ** 2`` leaves within 3 levels.

    Fits under shallow nesting limits (sync messages allow 4 levels), where
    deep amplifiers are cut off early: the shape of the 80 kB first frame.
    """
    row = _tag(_SHAREABLE, head(4, refs) + b"\x00" * refs)
    return head(4, refs + 1) + row + _tag(_SHARED_REF, head(0, 0)) * refs


def shared_string(size: int, refs: int) -> bytes:
    """One shared ``size``-byte string referenced ``refs`` times, within 2 levels.

    Re-encoding the decoded value writes ``size * refs`` bytes: the shape of
    the gossip announcement that exhausted a node's memory.
    """
    item = _tag(_SHAREABLE, reference_encode(b"x" * size))
    return head(4, refs + 1) + item + _tag(_SHARED_REF, head(0, 0)) * refs


def string_references(count: int) -> bytes:
    """A stringref namespace (tag 256) whose references (tag 25) repeat one long string."""
    body = reference_encode("s" * 64) + _tag(25, head(0, 0)) * count
    return _tag(256, head(4, count + 1) + body)


CORPUS: Final[dict[str, bytes]] = {
    "shared 6x13": shared_amplifier(6, 13),
    "shared 4x12": shared_amplifier(4, 12),
    "shared 3x3000 (27 kB, 2.7e10 leaves)": shared_amplifier(3, 3000),
    "shared square 13000 (52 kB, 1.7e8 leaves)": shared_square(13_000),
    "shared string 20 kB x 150000 (470 kB, 3 GB re-encoded)": shared_string(20_000, 150_000),
    "string references": string_references(4000),
    "cyclic shared value": bytes.fromhex("d81c81d81d00"),
    "bignum": _tag(2, reference_encode(b"\xff" * 64)),
    "deep arrays": b"\x81" * 100_000 + b"\x00",
    "deep maps": b"\xa1\x61a" * 30_000 + b"\x00",
    "deep indefinite arrays": b"\x9f" * 100_000,
    "indefinite text": b"\x7f" + b"\x61a" * 1000 + b"\xff",
    "claimed 2**64-1 items": b"\x9b" + b"\xff" * 8 + b"\x00" * 16,
    "claimed 2**63 map pairs": b"\xbb\x80" + b"\x00" * 7 + b"\x61a\x00",
    "claimed 2**63-byte string": b"\x5b\x7f" + b"\xff" * 7 + b"abc",
    "long head": b"\x9b" + b"\x00" * 7 + b"\x01\x00",
    "half float": b"\xf9\x7e\x00",
}
"""Hostile items by name. Every one is outside the data model."""


def _entry_with_body_value(item: bytes) -> bytes:
    # [1, author, 1, null, 0, "note", {"x": item}, signature]
    fields = reference_encode([1, b"\x01" * 32, 1, None, 0, "note"])[1:]
    return b"\x88" + fields + b"\xa1\x61x" + item + reference_encode(b"\x00" * 64)


def _fork_proof(item: bytes) -> bytes:
    return b"\x83" + reference_encode(FORK_PROOF_TAG) + item + reference_encode(b"")


def _message(item: bytes) -> bytes:
    return b"\x86" + reference_encode("hello") + item + reference_encode([1, True, [], []])[1:]


def _first_frame(frame: bytes) -> None:
    session = SyncSession()
    session.receive_data(frame)
    session.next_event()


def _announcement(item: bytes) -> bytes:
    return b"\xa2" + reference_encode("v") + b"\x01" + reference_encode("entries") + item


def _invite_code(item: bytes) -> str:
    # A code is at most MAX_CODE_LENGTH characters, so a peer can place at
    # most about 2.9 kB of CBOR in one; longer items are cut to that.
    payload = b"\xa1" + reference_encode("inviter") + item[:2900]
    return CODE_PREFIX + b58encode(payload + digest(payload)[:4])


@dataclass(frozen=True)
class Decoder:
    """A decoder of untrusted input and how a peer places a hostile item in that input."""

    wrap: Callable[[bytes], Any]
    decode: Callable[[Any], object]

    def __call__(self, item: bytes) -> object:
        return self.decode(self.wrap(item))


DECODERS: Final[dict[str, Decoder]] = {
    "entry": Decoder(_entry_with_body_value, partial(decode_entry, verify_signature=False)),
    "fork proof": Decoder(_fork_proof, ForkProof.from_bytes),
    "sync message": Decoder(_message, decode_message),
    "first frame": Decoder(lambda i: encode_frame(_message(i)), _first_frame),
    "announcement": Decoder(_announcement, decode_announcement),
    "invite code": Decoder(_invite_code, parse_invite_code),
}
"""Each decoder of untrusted bytes, fed a hostile item where a peer would place it."""
