"""Per-invocation state shared by commands: the home, the store, the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from samoorg.node.home import Home, resolve_home

if TYPE_CHECKING:
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.store import Store
    from samoorg.protocol.crypto import Signer


@dataclass
class Session:
    """Opened lazily, so that ``whoami`` touches neither SQLite nor libsodium."""

    home: Home
    _store: Store | None = field(default=None, repr=False)
    _signer: Signer | None = field(default=None, repr=False)
    _live: StoreViews | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The node's store (requires ``samoorg init``)."""
        if self._store is None:
            from samoorg.node.store import Store

            self.home.require_initialised()
            self._store = Store(self.home.store_file)
        return self._store

    def signer(self) -> Signer:
        """The node's identity, asking for the passphrase on a terminal if needed."""
        if self._signer is None:
            from samoorg.node.keystore import load_signer

            self.home.require_initialised()
            self._signer = load_signer(
                self.home.key_file,
                lambda: typer.prompt("Passphrase", hide_input=True),
            )
        return self._signer

    def public_key(self) -> bytes:
        """Our public key without decrypting the seed."""
        from samoorg.node.keystore import read_public_key

        if self._signer is not None:
            return self._signer.public_key
        self.home.require_initialised()
        return read_public_key(self.home.key_file)

    def live(self) -> StoreViews:
        """The views of the store: from the checkpoint plus the entries after it, or rebuilt.

        Saves a new checkpoint when many entries had to be applied, so the
        next command starts from it (``node/checkpoint.py``).
        """
        if self._live is None:
            from samoorg.node.checkpoint import open_views, save_if_behind

            self._live = open_views(self.store())
            save_if_behind(self._live)
        return self._live

    def close(self) -> None:
        """Release the store."""
        if self._store is not None:
            self._store.close()
            self._store = None
            self._live = None


def session(ctx: typer.Context) -> Session:
    """The :class:`Session` of the running command."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Session):
        obj = Session(resolve_home(None))
        ctx.find_root().obj = obj
    return obj
