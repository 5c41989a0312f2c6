"""The one reason every view gives for ignoring a forked author's void entries.

An author flagged by a verified fork proof signed two histories, and honest
nodes may hold different ones. Every view ignores the author's entries from
the *cut* of the fork on (the lowest :attr:`~samoorg.protocol.fork.ForkProof.cut`
of the proofs a node knows; :class:`~samoorg.crdt.framework.views.Views` enforces it for
every domain); the entries before it are the common prefix and count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from samoorg.crdt.framework.reasons import Reason, ReasonCode

FORKED_REASON: Final = Reason(
    ReasonCode.FORKED_AUTHOR,
    "author is flagged as forked (a fork proof exists); every view ignores their entries "
    "from the fork on",
)


REVOKED_REASON: Final = Reason(
    ReasonCode.REVOKED_DEVICE,
    "written by a device at or after the seq it was revoked from (a device.revoke exists); "
    "every view ignores it",
)


def fork_marks(cuts: Mapping[bytes, int]) -> list[str]:
    """``["<key hex>:<cut>", ...]`` ascending: the forked authors and cuts behind a state."""
    return sorted(f"{author.hex()}:{cut}" for author, cut in cuts.items())


def device_marks(revoked: Mapping[bytes, int], identities: Mapping[bytes, bytes]) -> list[str]:
    """The revocation cuts (:func:`fork_marks`) and the identity map
    (``"<device hex>><identity hex>"``) behind a state, ascending."""
    links = (f"{key.hex()}>{root.hex()}" for key, root in identities.items())
    return sorted([*fork_marks(revoked), *links])
