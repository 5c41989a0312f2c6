"""The error taxonomy of the Samoorg protocol.

Every decoder in ``samoorg.protocol`` maps any input either to a valid value or
to a subclass of :class:`ProtocolError`; no other exception escapes.

``ProtocolError`` splits in two, as in h11:

* :class:`RemoteProtocolError`: the *bytes we received* are bad (a peer, a
  bundle file, a corrupted store row). Decoding and verification raise these.
* :class:`LocalProtocolError`: *we* were asked to do something invalid (append
  with a wrong key, send an event in the wrong state).

Messages always say what was expected and what was found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samoorg.protocol.fork import ForkProof


class ProtocolError(Exception):
    """Base of every error the protocol package raises."""

    @property
    def name(self) -> str:
        """The stable error name used in test vectors and reports."""
        return type(self).__name__


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol forbids."""


class RemoteProtocolError(ProtocolError):
    """Received bytes violate the protocol."""


class MalformedEntry(RemoteProtocolError):
    """Bytes are not a well-formed entry (CBOR, structure or field types)."""


class MalformedFrame(RemoteProtocolError):
    """Bytes are not a well-formed replication frame or bundle record."""


class UnsupportedVersion(RemoteProtocolError):
    """The entry or message declares a version this implementation does not know."""


class TooLarge(RemoteProtocolError):
    """An input exceeds a documented size, depth or count limit."""


class BadSignature(RemoteProtocolError):
    """An Ed25519 signature does not verify under the claimed author key."""


class FeedError(RemoteProtocolError):
    """An entry is valid on its own but does not extend its author's feed.

    :attr:`proof` is set when the conflict proves that the author forked.
    """

    def __init__(self, message: str, proof: ForkProof | None = None) -> None:
        super().__init__(message)
        self.proof = proof


class WrongSequence(FeedError):
    """The entry's sequence number is not the next one in its feed."""


class BrokenBacklink(FeedError):
    """The entry's ``prev`` hash is not the id of the entry before it."""


class ForkDetected(FeedError):
    """Two valid entries by the same author have the same sequence number.

    The :attr:`proof` can be stored, forwarded, and verified on its own.
    """

    proof: ForkProof

    def __init__(self, message: str, proof: ForkProof) -> None:
        super().__init__(message, proof)


class BadForkProof(RemoteProtocolError):
    """A fork proof does not prove a fork."""


class BadBundle(RemoteProtocolError):
    """A bundle file is truncated, corrupted, or not a bundle."""


# -- replication (docs/protocol.md §7) ----------------------------------------


class TruncatedFrame(MalformedFrame):
    """The stream ended inside a frame (often just a dropped connection)."""


class UnexpectedMessage(RemoteProtocolError):
    """A replication message arrived in a state where the protocol forbids it."""


class FlowControlError(RemoteProtocolError):
    """The peer sent data beyond the credit we granted, or acknowledged more than we sent."""


class OutOfScope(RemoteProtocolError):
    """The peer sent entries or a fork proof of an author we did not ask for."""


class PeerTimeout(RemoteProtocolError):
    """The peer made no progress within a documented time limit (a slow or stalled peer)."""


class RequestFlood(RemoteProtocolError):
    """The peer kept sending requests faster than the documented rate after we backed off."""


class WithheldEntries(RemoteProtocolError):
    """The peer finished catch-up without sending entries its handshake claimed to hold."""


class TooManyRejections(RemoteProtocolError):
    """The peer sent more entries that fail verification than a session tolerates."""
