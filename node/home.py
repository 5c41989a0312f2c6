"""The home directory of a node: where its key, store and runtime files live.

Resolution order: ``--home DIR``, then ``$SAMOORG_HOME``, then the platform's
user data directory (``~/.local/share/samoorg`` on Linux).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from samoorg.node.errors import HomeError

HOME_ENV = "SAMOORG_HOME"


@dataclass(frozen=True, slots=True)
class Home:
    """Paths inside one node's home directory."""

    path: Path

    @property
    def key_file(self) -> Path:
        """The Ed25519 identity (mode 0600)."""
        return self.path / "identity.key"

    @property
    def store_file(self) -> Path:
        """The SQLite store (WAL mode; ``-wal`` and ``-shm`` files beside it)."""
        return self.path / "store.sqlite"

    @property
    def joined_file(self) -> Path:
        """The peer id of the identity this device joined (``init --join-identity``), as the
        device code named it: what ``whoami`` shows without opening the store."""
        return self.path / "joined-identity"

    @property
    def own_head_file(self) -> Path:
        """The head of our own feed, written before every own append (node/own_head.py)."""
        return self.path / "own-head.json"

    @property
    def daemon_lock(self) -> Path:
        """Held (``flock``) by a running ``samoorg node run``."""
        return self.path / "daemon.lock"

    @property
    def daemon_state(self) -> Path:
        """JSON written by the running daemon: pid, addresses, peers."""
        return self.path / "daemon.json"

    def require_initialised(self) -> None:
        """Raise :class:`HomeError` unless ``samoorg init`` has run here."""
        if not self.key_file.exists():
            raise HomeError(
                f"no Samoorg identity in {self.path}: run 'samoorg init' first "
                f"(or pass --home / set {HOME_ENV})"
            )


def resolve_home(option: str | Path | None) -> Home:
    """The home chosen by option, environment, or platform default."""
    if option:
        return Home(Path(option).expanduser().absolute())
    env = os.environ.get(HOME_ENV)
    if env:
        return Home(Path(env).expanduser().absolute())
    from platformdirs import user_data_dir  # imported lazily: not needed with --home

    return Home(Path(user_data_dir("samoorg", appauthor=False)))
