"""Head announcements: the live-gossip message (sans-IO encode and decode).

A node that appends to a feed it replicates announces the new head on the
community gossip topic (``/samoorg/heads/1``) so that online peers learn of it
at once instead of at their next sync. The message carries the head *entries*
themselves, not just ``(author, seq, id)``: an entry already names its author,
sequence number and predecessor, and a peer that is one entry behind, the
common case, can store it with no further round trip.

Wire format (``docs/protocol.md`` §7.12 is normative): deterministic CBOR
(see :mod:`samoorg.protocol.dcbor`)::

    {"v": 1, "entries": [bstr, ...]}      1 <= len(entries) <= MAX_ANNOUNCED

Each ``bstr`` is one signed entry, encoded as in section 2 of
``docs/protocol.md``; the whole message is at most :data:`MAX_ANNOUNCE_SIZE`
bytes. Announcements are advisory: a receiver verifies each entry like any
other input (signature, hash link) and stores only those that extend a feed
in its replication scope. An entry that does not extend (a gap) tells the
receiver that the sender is ahead; pull sync over ``/samoorg/sync/1.0.0``
fills the gap. Nothing is lost if an announcement is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from samoorg.protocol import dcbor
from samoorg.protocol.entry import MAX_ENTRY_SIZE
from samoorg.protocol.errors import MalformedFrame, TooLarge

ANNOUNCE_VERSION: Final = 1
MAX_ANNOUNCED: Final = 16
"""Most entries in one announcement."""
MAX_ANNOUNCE_SIZE: Final = 512 * 1024
"""Largest encoded announcement (gossipsub itself caps messages at 1 MiB)."""
_OVERHEAD: Final = 32


def encode_announcement(entries: Sequence[bytes]) -> bytes:
    """Encode the newest of ``entries`` (oldest first) that fit the limits.

    At most :data:`MAX_ANNOUNCED` entries and :data:`MAX_ANNOUNCE_SIZE` bytes;
    the newest entry always fits, older ones are left to pull sync.
    """
    if not entries:
        raise ValueError("an announcement needs at least one entry")
    kept: list[dcbor.Value] = []
    size = _OVERHEAD
    for raw in reversed(entries[-MAX_ANNOUNCED:]):
        if len(raw) > MAX_ENTRY_SIZE:
            raise ValueError(f"entry of {len(raw)} bytes exceeds {MAX_ENTRY_SIZE}")
        size += len(raw) + 5
        if kept and size > MAX_ANNOUNCE_SIZE:
            break
        kept.append(raw)
    kept.reverse()
    return dcbor.encode({"v": ANNOUNCE_VERSION, "entries": kept})


def decode_announcement(data: bytes) -> list[bytes]:
    """The raw entries of an announcement.

    Raises :class:`~samoorg.protocol.errors.TooLarge` or
    :class:`~samoorg.protocol.errors.MalformedFrame` (both
    ``RemoteProtocolError``) for anything that is not a well-formed
    announcement. The entries themselves are not decoded here.
    """
    try:
        value = dcbor.decode(data, max_size=MAX_ANNOUNCE_SIZE, max_depth=3)
    except dcbor.MalformedCBOR as exc:
        raise MalformedFrame(f"announcement: {exc}") from None
    if not isinstance(value, dict) or set(value) != {"v", "entries"}:
        raise MalformedFrame("expected an announcement map with keys 'v' and 'entries'")
    if type(value["v"]) is not int or value["v"] != ANNOUNCE_VERSION:
        raise MalformedFrame(f"expected announcement version 1, found {value['v']!r}")
    entries = value["entries"]
    if not isinstance(entries, list) or not entries:
        raise MalformedFrame("expected a non-empty list of entries")
    if len(entries) > MAX_ANNOUNCED:
        raise TooLarge(f"expected at most {MAX_ANNOUNCED} entries, found {len(entries)}")
    raws: list[bytes] = []
    for item in entries:
        if not isinstance(item, bytes):
            raise MalformedFrame(
                f"expected each entry as a byte string, found {type(item).__name__}"
            )
        if len(item) > MAX_ENTRY_SIZE:
            raise TooLarge(f"expected entries of at most {MAX_ENTRY_SIZE} bytes, found {len(item)}")
        raws.append(item)
    return raws
