"""Replication messages and their deterministic-CBOR payloads.

Each frame payload (``docs/protocol.md`` §7.3 is normative) is one
deterministic-CBOR array whose first element names the message::

    hello     = ["hello", version, credit, live, [head*], [author*]]
    entries   = ["entries", [entry-bytes+]]
    fork      = ["fork", fork-proof-bytes]
    ack       = ["ack", count]
    caught-up = ["caught-up"]
    want      = ["want", [head+]]
    head      = [author, seq, id]      ; id is null exactly when seq is 0

Lists of heads and authors are strictly ascending by author bytes, so every
message has one encoding. This module checks each message on its own (shape,
types, limits, and for ``entries`` that every entry decodes and that each
author's entries form one hash-linked run). Whether a message is allowed *now*
(state, credit, scope) is :mod:`samoorg.protocol.sync`.

Received ``entries`` decode to :class:`Batch` (decoded, signature not yet
checked: the store authenticates runs); we send :class:`Entries` (raw bytes
straight from the store, not decoded again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from samoorg.protocol import dcbor
from samoorg.protocol.crypto import HASH_SIZE, PUBLIC_KEY_SIZE
from samoorg.protocol.entry import MAX_SEQ, Entry, decode_entry
from samoorg.protocol.errors import (
    LocalProtocolError,
    MalformedFrame,
    RemoteProtocolError,
    TooLarge,
    UnsupportedVersion,
)
from samoorg.protocol.fork import ForkProof
from samoorg.protocol.framing import MAX_FRAME_SIZE

PROTOCOL_ID: Final = "/samoorg/sync/1.0.0"
PROTOCOL_VERSION: Final = 1
MAX_HEADS: Final = 8192
"""Most heads in one ``hello`` or ``want``, and most authors in ``hello``'s fork list."""
MAX_BATCH_ENTRIES: Final = 4096
"""Most entries in one ``entries`` message."""
MAX_CREDIT: Final = 64
"""Largest credit a ``hello`` may grant (``entries`` frames in flight)."""
_AUTHOR_AT: Final = 4
"""Offset of the author key in every encoded entry: array(8), version 1, a 32-byte string head."""
MAX_DEPTH: Final = 4
"""Nesting of the deepest message, counted as in :mod:`~samoorg.protocol.dcbor`
(``hello``: message array > list of heads > head > seq)."""


@dataclass(frozen=True, slots=True)
class Head:
    """What one side holds of a feed: its latest seq and that entry's id (seq 0: nothing)."""

    author: bytes
    seq: int
    id: bytes | None


@dataclass(frozen=True, slots=True)
class Hello:
    """The first message each way: version, credit granted, live or one-shot, heads, forks."""

    version: int
    credit: int
    live: bool
    heads: tuple[Head, ...]
    forks: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Entries:
    """Entries we send: raw signed entries from our store, runs grouped by author."""

    raws: tuple[bytes, ...]

    @property
    def authors(self) -> tuple[bytes, ...]:
        """Each entry's author, read where every entry holds it (§2.2: after ``88 01 58 20``)."""
        return tuple(raw[_AUTHOR_AT : _AUTHOR_AT + PUBLIC_KEY_SIZE] for raw in self.raws)


@dataclass(frozen=True, slots=True)
class Batch:
    """Entries we received: decoded and run-checked, signatures not yet verified."""

    entries: tuple[Entry, ...]

    @property
    def raws(self) -> tuple[bytes, ...]:
        """The entries' exact bytes."""
        return tuple(e.raw for e in self.entries)

    @property
    def authors(self) -> tuple[bytes, ...]:
        """Each entry's author."""
        return tuple(e.author for e in self.entries)


@dataclass(frozen=True, slots=True)
class Fork:
    """A fork proof (verified on receipt)."""

    proof: ForkProof


@dataclass(frozen=True, slots=True)
class Ack:
    """``count`` more ``entries`` frames were processed: the sender regains that much credit."""

    count: int


@dataclass(frozen=True, slots=True)
class CaughtUp:
    """The sender has sent everything the receiver lacked when the hellos crossed."""


@dataclass(frozen=True, slots=True)
class Want:
    """Live phase only: the sender now also replicates these feeds (it holds ``heads``)."""

    heads: tuple[Head, ...]


Message: TypeAlias = Hello | Entries | Batch | Fork | Ack | CaughtUp | Want
"""Anything :func:`encode_message` accepts (``Batch`` re-encodes as ``entries``)."""
Received: TypeAlias = Hello | Batch | Fork | Ack | CaughtUp | Want
"""Anything :func:`decode_message` returns."""


# -- encoding ------------------------------------------------------------------


def _head_value(head: Head) -> dcbor.Value:
    return [head.author, head.seq, head.id]


def encode_message(message: Message) -> bytes:
    """The deterministic-CBOR payload of ``message``.

    Checks the same shape rules as :func:`decode_message` and raises
    :class:`LocalProtocolError` where they fail, so we never send what a peer
    must reject.
    """
    value: dcbor.Value
    if isinstance(message, Hello):
        _check_local(
            message.version == PROTOCOL_VERSION, "version", PROTOCOL_VERSION, message.version
        )
        _check_local(
            1 <= message.credit <= MAX_CREDIT, "credit", f"1..{MAX_CREDIT}", message.credit
        )
        _check_heads_local(message.heads, allow_empty=True)
        _check_authors_local(message.forks)
        value = [
            "hello",
            message.version,
            message.credit,
            message.live,
            [_head_value(h) for h in message.heads],
            list(message.forks),
        ]
    elif isinstance(message, Entries | Batch):
        raws = message.raws
        _check_local(
            1 <= len(raws) <= MAX_BATCH_ENTRIES,
            "entries per batch",
            f"1..{MAX_BATCH_ENTRIES}",
            len(raws),
        )
        value = ["entries", list(raws)]
    elif isinstance(message, Fork):
        value = ["fork", message.proof.to_bytes()]
    elif isinstance(message, Ack):
        _check_local(message.count >= 1, "ack count", ">= 1", message.count)
        value = ["ack", message.count]
    elif isinstance(message, CaughtUp):
        value = ["caught-up"]
    else:
        _check_heads_local(message.heads, allow_empty=False)
        value = ["want", [_head_value(h) for h in message.heads]]
    try:
        payload = dcbor.encode(value)
    except dcbor.UnencodableValue as exc:
        raise LocalProtocolError(f"{type(message).__name__}: {exc}") from None
    if len(payload) > MAX_FRAME_SIZE:
        raise LocalProtocolError(
            f"expected a {type(message).__name__} payload of at most {MAX_FRAME_SIZE} bytes, "
            f"this one would be {len(payload)}"
        )
    return payload


def _check_local(ok: bool, what: str, expected: object, found: object) -> None:
    if not ok:
        raise LocalProtocolError(f"expected {what} {expected}, found {found!r}")


def _check_heads_local(heads: Sequence[Head], *, allow_empty: bool) -> None:
    try:
        _check_heads(heads, allow_empty=allow_empty)
    except RemoteProtocolError as exc:
        raise LocalProtocolError(str(exc)) from None


def _check_authors_local(authors: Sequence[bytes]) -> None:
    try:
        _check_authors(list(authors), "fork list")
    except RemoteProtocolError as exc:
        raise LocalProtocolError(str(exc)) from None


# -- decoding ------------------------------------------------------------------


def decode_message(payload: bytes) -> Received:
    """Decode and check one frame payload.

    Raises :class:`MalformedFrame`, :class:`TooLarge`,
    :class:`UnsupportedVersion`, or (inside ``entries`` and ``fork``) the
    entry and fork-proof errors; all are :class:`RemoteProtocolError`, and
    nothing else leaves this function, whatever the bytes.
    """
    try:
        value = dcbor.decode(payload, max_size=MAX_FRAME_SIZE, max_depth=MAX_DEPTH)
    except dcbor.MalformedCBOR as exc:
        raise MalformedFrame(f"frame payload: {exc}") from None
    if type(value) is not list or not value or type(value[0]) is not str:
        raise MalformedFrame(
            f"expected an array starting with a message name, found {_describe(value)}"
        )
    name, fields = value[0], value[1:]
    decoder = _DECODERS.get(name)
    if decoder is None:
        raise MalformedFrame(
            f"expected one of {', '.join(sorted(_DECODERS))} as the message name, "
            f"found {name[:40]!r}"
        )
    return decoder(fields)


def _describe(value: object) -> str:
    if type(value) is bytes:
        return f"a {len(value)}-byte string"
    if type(value) is list:
        return f"an array of {len(value)}"
    return type(value).__name__


def _arity(name: str, fields: list[dcbor.Value], count: int) -> None:
    if len(fields) != count:
        raise MalformedFrame(
            f"expected {count} field{'s' * (count != 1)} after {name!r}, found {len(fields)}"
        )


def _decode_hello(fields: list[dcbor.Value]) -> Hello:
    # The version is checked first, so a later version with another shape is
    # reported as UnsupportedVersion rather than as a malformed hello.
    if fields and type(fields[0]) is int and fields[0] != PROTOCOL_VERSION:
        raise UnsupportedVersion(f"expected protocol version {PROTOCOL_VERSION}, found {fields[0]}")
    _arity("hello", fields, 5)
    version, credit, live, heads, forks = fields
    if type(version) is not int:
        raise MalformedFrame(f"expected the version as an integer, found {_describe(version)}")
    if type(credit) is not int or not 1 <= credit <= MAX_CREDIT:
        raise MalformedFrame(
            f"expected credit as an integer in 1..{MAX_CREDIT}, found {_describe_int(credit)}"
        )
    if type(live) is not bool:
        raise MalformedFrame(f"expected live as true or false, found {_describe(live)}")
    return Hello(
        version=version,
        credit=credit,
        live=live,
        heads=_decode_heads(heads, allow_empty=True),
        forks=tuple(_check_authors(forks, "fork list")),
    )


def _describe_int(value: object) -> str:
    return repr(value) if type(value) is int else _describe(value)


def _decode_heads(value: dcbor.Value, *, allow_empty: bool) -> tuple[Head, ...]:
    if type(value) is not list:
        raise MalformedFrame(f"expected an array of heads, found {_describe(value)}")
    _check_count(value, "heads")
    heads: list[Head] = []
    for item in value:
        if type(item) is not list or len(item) != 3:
            raise MalformedFrame(f"expected a head [author, seq, id], found {_describe(item)}")
        author, seq, head_id = item
        if type(seq) is not int:
            raise MalformedFrame(f"expected a head's seq as an integer, found {_describe(seq)}")
        heads.append(Head(author, seq, head_id))  # type: ignore[arg-type]
    _check_heads(heads, allow_empty=allow_empty)
    return tuple(heads)


def _check_heads(heads: Sequence[Head], *, allow_empty: bool) -> None:
    if not allow_empty and not heads:
        raise MalformedFrame("expected at least one head, found none")
    for head in heads:
        if not 0 <= head.seq <= MAX_SEQ:
            raise MalformedFrame(f"expected a head's seq in 0..2**53-1, found {head.seq}")
        if head.seq == 0:
            if head.id is not None:
                raise MalformedFrame(f"expected a null id at seq 0, found {_describe(head.id)}")
        elif type(head.id) is not bytes or len(head.id) != HASH_SIZE:
            raise MalformedFrame(
                f"expected a {HASH_SIZE}-byte head id at seq {head.seq}, found {_describe(head.id)}"
            )
    _check_authors([h.author for h in heads], "heads")


def _check_count(value: Sequence[object], what: str) -> None:
    # A list's length is checked before its items (docs/protocol.md §7.4, "Precedence").
    if len(value) > MAX_HEADS:
        raise TooLarge(f"expected at most {MAX_HEADS} items in {what}, found {len(value)}")


def _check_authors(value: dcbor.Value | list[bytes], what: str) -> list[bytes]:
    if type(value) is not list:
        raise MalformedFrame(f"expected {what} as an array, found {_describe(value)}")
    _check_count(value, what)
    previous = b""
    for author in value:
        if type(author) is not bytes or len(author) != PUBLIC_KEY_SIZE:
            raise MalformedFrame(
                f"expected {PUBLIC_KEY_SIZE}-byte author keys in {what}, found {_describe(author)}"
            )
        if author <= previous:
            raise MalformedFrame(
                f"expected {what} in strictly ascending author order, found "
                f"{author.hex()[:16]}… after {previous.hex()[:16]}…"
            )
        previous = author
    return value  # type: ignore[return-value]


def _decode_entries(fields: list[dcbor.Value]) -> Batch:
    _arity("entries", fields, 1)
    (raws,) = fields
    if type(raws) is not list or not raws:
        raise MalformedFrame(f"expected a non-empty array of entries, found {_describe(raws)}")
    if len(raws) > MAX_BATCH_ENTRIES:
        raise TooLarge(
            f"expected at most {MAX_BATCH_ENTRIES} entries in a batch, found {len(raws)}"
        )
    entries: list[Entry] = []
    finished: set[bytes] = set()
    for index, raw in enumerate(raws):
        if type(raw) is not bytes:
            raise MalformedFrame(f"expected entry {index} as a byte string, found {_describe(raw)}")
        entry = decode_entry(raw, verify_signature=False)
        if entries and entries[-1].author == entry.author:
            last = entries[-1]
            if entry.seq != last.seq + 1 or entry.prev != last.id:
                raise MalformedFrame(
                    f"expected entry {index} to follow seq {last.seq} of its author "
                    f"(seq {last.seq + 1}, prev {last.id.hex()[:16]}…), found seq {entry.seq}"
                )
        else:
            if entry.author in finished:
                raise MalformedFrame(
                    f"expected one run per author in a batch, found a second run at entry {index}"
                )
            if entries:
                finished.add(entries[-1].author)
        entries.append(entry)
    return Batch(tuple(entries))


def _decode_fork(fields: list[dcbor.Value]) -> Fork:
    _arity("fork", fields, 1)
    (data,) = fields
    if type(data) is not bytes:
        raise MalformedFrame(f"expected a fork proof as a byte string, found {_describe(data)}")
    return Fork(ForkProof.from_bytes(data))


def _decode_ack(fields: list[dcbor.Value]) -> Ack:
    _arity("ack", fields, 1)
    (count,) = fields
    if type(count) is not int or count < 1:
        raise MalformedFrame(f"expected an ack count >= 1, found {_describe_int(count)}")
    return Ack(count)


def _decode_caught_up(fields: list[dcbor.Value]) -> CaughtUp:
    _arity("caught-up", fields, 0)
    return CaughtUp()


def _decode_want(fields: list[dcbor.Value]) -> Want:
    _arity("want", fields, 1)
    return Want(_decode_heads(fields[0], allow_empty=False))


_DECODERS: Final[dict[str, Callable[[list[dcbor.Value]], Received]]] = {
    "hello": _decode_hello,
    "entries": _decode_entries,
    "fork": _decode_fork,
    "ack": _decode_ack,
    "caught-up": _decode_caught_up,
    "want": _decode_want,
}
