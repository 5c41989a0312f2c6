"""Errors of the node layer: things a user can fix, reported in one line."""

from __future__ import annotations


class NodeError(Exception):
    """Base of the node's user-facing errors; the CLI prints the message and exits non-zero."""


class HomeError(NodeError):
    """The home directory is missing, not initialised, or unusable."""


class KeyFileError(NodeError):
    """The identity key file is missing, unreadable, too open, or cannot be decrypted."""


class StoreError(NodeError):
    """The store cannot be opened, or a request against it cannot be satisfied."""


class NotFound(StoreError):
    """No entry or author matches the given identifier."""


class Ambiguous(StoreError):
    """An id prefix matches more than one entry."""


class StoreDamaged(StoreError):
    """The store file is corrupt: SQLite cannot read it, or a row does not decode."""


class OwnFeedMissing(StoreError):
    """The store holds less of our own feed than we recorded signing: writing could fork it."""


class OwnHeadError(StoreError):
    """The record of our own feed's head (``own-head.json``) cannot be read or written."""


class PeerBookError(NodeError):
    """The peer book (``peers.sqlite``) cannot be opened, read or written."""
