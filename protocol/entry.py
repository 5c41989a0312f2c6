"""The signed entry: one record in an author's append-only feed.

Wire form (``docs/protocol.md`` §2 is normative)::

    entry    = [version, author, seq, prev, timestamp, kind, body, signature]
    unsigned = [version, author, seq, prev, timestamp, kind, body]
    signature = Ed25519(author, b"samoorg/entry/v1\\x00" || dcbor(unsigned))
    entry id  = SHA-256(dcbor(entry))

Both arrays are deterministic CBOR, so ``dcbor(entry)`` is ``0x88`` followed
by ``dcbor(unsigned)[1:]`` and then ``0x58 0x40 || signature``; the signing
input of a received entry is recovered by slicing, never by re-encoding.

Validation here is about one entry on its own (shape, limits, signature).
Whether an entry extends its author's feed is :mod:`samoorg.protocol.feed`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import cbor2

from samoorg.protocol import dcbor
from samoorg.protocol.crypto import (
    HASH_SIZE,
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    Signer,
    digest,
    verify,
)
from samoorg.protocol.errors import (
    LocalProtocolError,
    MalformedEntry,
    TooLarge,
    UnsupportedVersion,
)
from samoorg.protocol.ids import peer_id

VERSION: Final = 1
MAX_ENTRY_SIZE: Final = 65536
"""An encoded signed entry is at most 64 KiB."""
MAX_SEQ: Final = 2**53 - 1
MAX_TIMESTAMP: Final = 2**53 - 1
MAX_KIND_LENGTH: Final = 64
SIGNING_DOMAIN: Final = b"samoorg/entry/v1\x00"
KIND_PATTERN: Final = re.compile(r"[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*")
_SIGNATURE_TAIL: Final = 2 + SIGNATURE_SIZE  # 0x58 0x40 + 64 bytes
_KIND_MEMORY: Final = 1024
_VALID_KINDS: set[str] = set()
"""Kinds already found valid (few in practice; bounded, so hostile input cannot grow it)."""
_FIELDS: Final = ("version", "author", "seq", "prev", "timestamp", "kind", "body", "signature")


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    """A decoded entry. Equality and hashing are by :attr:`id`.

    Instances come from :func:`decode_entry` or :func:`create_entry`; ``raw``
    is the exact signed encoding and ``id`` its SHA-256. ``body`` must be
    treated as read-only.
    """

    author: bytes
    seq: int
    prev: bytes | None
    timestamp: int
    kind: str
    body: Mapping[str, dcbor.Value]
    signature: bytes
    raw: bytes
    id: bytes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def author_id(self) -> str:
        """The author's peer id string."""
        return peer_id(self.author)

    @property
    def signing_input(self) -> bytes:
        """The exact bytes the author signed."""
        return SIGNING_DOMAIN + b"\x87" + self.raw[1:-_SIGNATURE_TAIL]

    def verify(self) -> None:
        """Raise :class:`~samoorg.protocol.errors.BadSignature` unless the signature is valid."""
        verify(self.author, self.signing_input, self.signature)

    def __repr__(self) -> str:
        return f"Entry({self.author_id[:16]}…#{self.seq} {self.kind} {self.id.hex()[:12]})"


def decode_entry(raw: bytes, *, verify_signature: bool = True) -> Entry:
    """Decode and (by default) verify one signed entry.

    Raises :class:`TooLarge`, :class:`MalformedEntry`,
    :class:`UnsupportedVersion` or :class:`BadSignature`, and nothing else,
    whatever the bytes.
    """
    if len(raw) > MAX_ENTRY_SIZE:
        raise TooLarge(f"expected an entry of at most {MAX_ENTRY_SIZE} bytes, found {len(raw)}")
    entry = _decode_valid(raw if type(raw) is bytes else bytes(raw))
    if entry is None:
        entry = _decode_checked(raw)
    if verify_signature:
        entry.verify()
    return entry


def _decode_valid(raw: bytes) -> Entry | None:
    """The entry if ``raw`` passes every check of §2.6 but the signature, else ``None``.

    The hot path of ingest and replication: the one-pass byte check of
    :func:`samoorg.protocol.dcbor.scan` (tags, lengths, heads, key order,
    depth, all before any value exists), one ``cbor2.loads``, and the field
    rules of the fixed layout checked inline. It accepts exactly what
    :func:`_decode_checked` accepts (a property test compares them); anything
    else, including every invalid input, goes to :func:`_decode_checked`,
    which names the first problem.
    """
    try:
        dcbor.scan(raw, dcbor.MAX_DEPTH)
        value = cbor2.loads(raw)
    except Exception:  # noqa: BLE001 (any failure: the checked path reports it)
        return None
    if type(value) is not list or len(value) != 8:
        return None
    version, author, seq, prev, timestamp, kind, body, signature = value
    if (
        type(version) is not int
        or version != VERSION
        or type(author) is not bytes
        or len(author) != PUBLIC_KEY_SIZE
        or type(seq) is not int
        or not 1 <= seq <= MAX_SEQ
        or (prev is not None if seq == 1 else type(prev) is not bytes or len(prev) != HASH_SIZE)
        or type(timestamp) is not int
        or not 0 <= timestamp <= MAX_TIMESTAMP
        or type(kind) is not str
        or type(body) is not dict
        or type(signature) is not bytes
        or len(signature) != SIGNATURE_SIZE
    ):
        return None
    if kind not in _VALID_KINDS:
        if len(kind) > MAX_KIND_LENGTH or not KIND_PATTERN.fullmatch(kind):
            return None
        if len(_VALID_KINDS) < _KIND_MEMORY:
            _VALID_KINDS.add(kind)
    # Positional arguments: this is the hot path of ingest (keywords cost ~1 us).
    return Entry(author, seq, prev, timestamp, kind, body, signature, raw, digest(raw))


def _decode_checked(raw: bytes) -> Entry:
    """Decode one entry step by step, raising the error of the first failed check."""
    try:
        value = dcbor.decode(raw, max_size=MAX_ENTRY_SIZE)
    except dcbor.MalformedCBOR as exc:
        raise MalformedEntry(str(exc)) from None
    if type(value) is not list:
        raise MalformedEntry(f"expected an 8-element array, found {type(value).__name__}")
    if value and type(value[0]) is int and value[0] != VERSION:
        raise UnsupportedVersion(f"expected entry version {VERSION}, found {value[0]}")
    if len(value) != len(_FIELDS):
        raise MalformedEntry(f"expected an 8-element array, found {len(value)} elements")
    version, author, seq, prev, timestamp, kind, body, signature = value
    if type(version) is not int:
        raise MalformedEntry(f"expected version as an unsigned integer, found {_kind(version)}")
    _check_fields(author, seq, prev, timestamp, kind, body, MalformedEntry)
    if type(signature) is not bytes or len(signature) != SIGNATURE_SIZE:
        raise MalformedEntry(f"expected signature as a 64-byte string, found {_kind(signature)}")
    raw = bytes(raw)
    return Entry(author, seq, prev, timestamp, kind, body, signature, raw, digest(raw))  # type: ignore[arg-type]


def create_entry(
    signer: Signer,
    *,
    seq: int,
    prev: bytes | None,
    timestamp: int,
    kind: str,
    body: Mapping[str, dcbor.Value],
) -> Entry:
    """Build and sign a new entry; raises :class:`LocalProtocolError` on bad fields."""
    body = dict(body)
    _check_fields(signer.public_key, seq, prev, timestamp, kind, body, LocalProtocolError)
    try:
        unsigned = dcbor.encode([VERSION, signer.public_key, seq, prev, timestamp, kind, body])
    except dcbor.UnencodableValue as exc:
        raise LocalProtocolError(f"entry body: {exc}") from None
    signature = signer.sign(SIGNING_DOMAIN + unsigned)
    raw = b"\x88" + unsigned[1:] + b"\x58\x40" + signature
    if len(raw) > MAX_ENTRY_SIZE:
        raise LocalProtocolError(
            f"expected an entry of at most {MAX_ENTRY_SIZE} bytes, this one would be {len(raw)}"
        )
    return Entry(
        author=signer.public_key,
        seq=seq,
        prev=prev,
        timestamp=timestamp,
        kind=kind,
        body=body,
        signature=signature,
        raw=raw,
        id=digest(raw),
    )


def _kind(value: object) -> str:
    if type(value) is bytes:
        return f"{len(value)}-byte string"
    return type(value).__name__


def _check_fields(
    author: object,
    seq: object,
    prev: object,
    timestamp: object,
    kind: object,
    body: object,
    error: type[Exception],
) -> None:
    if type(author) is not bytes or len(author) != PUBLIC_KEY_SIZE:
        raise error(f"expected author as a 32-byte Ed25519 key, found {_kind(author)}")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        raise error(f"expected seq as an integer in [1, 2**53-1], found {seq!r}")
    if seq == 1:
        if prev is not None:
            raise error(f"expected prev to be null at seq 1, found {_kind(prev)}")
    elif type(prev) is not bytes or len(prev) != HASH_SIZE:
        raise error(f"expected prev as a 32-byte hash at seq {seq}, found {_kind(prev)}")
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise error(f"expected timestamp in milliseconds in [0, 2**53-1], found {timestamp!r}")
    if type(kind) is not str:
        raise error(f"expected kind as a text string, found {_kind(kind)}")
    if len(kind) > MAX_KIND_LENGTH or not KIND_PATTERN.fullmatch(kind):
        raise error(
            f"expected kind matching [a-z][a-z0-9]*([._-][a-z0-9]+)* "
            f"of at most {MAX_KIND_LENGTH} characters, found {kind[:80]!r}"
        )
    if type(body) is not dict:
        raise error(f"expected body as a map, found {_kind(body)}")
