"""Per-invocation state shared by commands: the home, the store, the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import typer

from samoorg.node.errors import KeyFileError
from samoorg.node.home import Home, resolve_home

if TYPE_CHECKING:
    from collections.abc import Callable

    from samoorg.cli.daemon_client import DaemonClient
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.names import Names
    from samoorg.node.store import Store
    from samoorg.protocol.crypto import Signer


T = TypeVar("T")


@dataclass
class Session:
    """Opened lazily, so that ``whoami`` touches neither SQLite nor libsodium."""

    home: Home
    _store: Store | None = field(default=None, repr=False)
    _signer: Signer | None = field(default=None, repr=False)
    offline: bool = False
    """Work on the store even while a daemon runs (``--offline``)."""
    _daemon: DaemonClient | bool | None = field(default=False, repr=False)
    _live: StoreViews | None = field(default=None, repr=False)
    _names: Names | None = field(default=None, repr=False)
    _local_names: Names | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The node's store (requires ``samoorg init``)."""
        if self._store is None:
            from samoorg.node.own_head import OwnHeadRecord
            from samoorg.node.store import Store

            self.home.require_initialised()
            try:
                own_head = OwnHeadRecord(self.home.own_head_file, self.public_key())
            except KeyFileError:
                # Reading (and exporting) still works; nothing can be signed
                # with an unreadable key, so the record has nothing to guard.
                own_head = None
            self._store = Store(self.home.store_file, own_head=own_head)
            if own_head is not None:
                from samoorg.node.own_fork import notice_path, reconcile

                reconcile(notice_path(self.home.path), self.own_cut())
        return self._store

    def own_cut(self) -> int | None:
        """The cut of a fork of our own feed in the store (``docs/protocol.md`` §4.4), or None."""
        return self.store().fork_cuts().get(self.public_key())

    def signer(self) -> Signer:
        """The node's identity, asking for the passphrase on a terminal if needed."""
        if self._signer is None:
            from samoorg.node.keystore import load_signer

            self.home.require_initialised()
            self._signer = load_signer(
                self.home.key_file,
                # Without a terminal, getpass would read stdin and warn.
                (lambda: typer.prompt("Passphrase", hide_input=True)) if on_terminal() else None,
            )
        return self._signer

    def public_key(self) -> bytes:
        """Our public key without decrypting the seed."""
        from samoorg.node.keystore import read_public_key

        if self._signer is not None:
            return self._signer.public_key
        self.home.require_initialised()
        return read_public_key(self.home.key_file)

    def me(self) -> bytes:
        """Our identity: the founding key of this device's identity (§8.11.1), as the local
        views know it. Views are asked about ``me``; this device's key signs."""
        return self.live().views.identity(self.public_key())

    def live(self) -> StoreViews:
        """The views of the store: from the checkpoint plus the entries after it, or rebuilt.

        :meth:`close` saves a new checkpoint when many entries had to be
        applied, so the next command starts from it (``node/checkpoint.py``).
        """
        if self._live is None:
            from samoorg.node.checkpoint import open_views

            self._live = open_views(self.store(), freeze=True)
        return self._live

    def end_if_newly_forked(self, before: int | None) -> None:
        """After an import or sync: warn and exit 1 if it brought a fork proof about us.

        ``before`` is :meth:`own_cut` from before the command (a lower cut counts too).
        """
        self.end_if_cut_lowered(before, self.own_cut())

    def end_if_cut_lowered(self, before: int | None, after: int | None) -> None:
        """:meth:`end_if_newly_forked` with both cuts known (the daemon told them)."""
        if after is not None and (before is None or after < before):
            import sys

            from samoorg.node.own_fork import notice_text

            sys.stderr.write(notice_text(after) + "\n")
            raise typer.Exit(1)

    def daemon(self) -> DaemonClient | None:
        """A client of this home's running daemon, or ``None`` (none runs, or offline)."""
        if self._daemon is False:
            from samoorg.cli.daemon_client import connect

            self.home.require_initialised()
            self._daemon = connect(self.home, offline=self.offline)
        assert not isinstance(self._daemon, bool)
        return self._daemon

    def ask(self, remote: Callable[[DaemonClient], T], local: Callable[[], T]) -> T:
        """``remote(daemon)`` when the daemon runs, else (or if it does not answer) ``local()``."""
        from samoorg.cli.daemon_client import DaemonSkipped, DaemonUnavailable

        client = self.daemon()
        if client is not None:
            try:
                return remote(client)
            except DaemonSkipped:
                pass
            except DaemonUnavailable as exc:
                import sys

                sys.stderr.write(f"warning: the daemon did not answer ({exc}); using the store\n")
                self._daemon = None
        return local()

    def names(self) -> Names:
        """Who is called what (``node/names.py``): from the daemon when it runs, else local."""
        if self._names is None:
            self._names = self.ask(_daemon_names, self.local_names)
        return self._names

    def forget_names(self) -> None:
        """Read the names again when next asked (a petname was just set or removed)."""
        self._names = self._local_names = None

    def local_names(self) -> Names:
        """The names read from this home: petnames, profile names, the known participants."""
        if self._local_names is None:
            from samoorg.node.names import local_names

            try:
                me: bytes | None = self.public_key()
            except KeyFileError:
                me = None  # an altered key file: what the store holds stays readable
            self._local_names = local_names(self.home, self.store(), self.live().views, me)
        return self._local_names

    def resolve_member(self, text: str, *, device: bool = False) -> bytes:
        """The participant ``text`` names (id, id fragment or name), resolved locally: its
        identity, or with ``device`` the device key itself."""
        from samoorg.node.actions.refs import resolve_member

        return resolve_member(self.local_names(), text, device=device)

    def close(self) -> None:
        """Save the checkpoint once, if many entries were applied or the command derived
        something worth keeping (the netting: ``node/checkpoint.py`` ``save_if_behind``);
        release the store."""
        if self._live is not None:
            from samoorg.node.checkpoint import save_if_behind

            save_if_behind(self._live)
        if self._store is not None:
            self._store.close()
            self._store = None
            self._live = None


def _daemon_names(daemon: DaemonClient) -> Names:
    from samoorg.cli.paging import paging
    from samoorg.node.names import names_from_json

    page = daemon.page("/names", {}, paging(every=True))  # every page (a name per participant)
    return names_from_json({**page.extra, "items": page.items})


def on_terminal() -> bool:
    """Whether a person can answer a prompt (stdin and stderr are terminals)."""
    import sys

    return sys.stdin.isatty() and sys.stderr.isatty()


def session(ctx: typer.Context) -> Session:
    """The :class:`Session` of the running command."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Session):
        obj = Session(resolve_home(None))
        ctx.find_root().obj = obj
    return obj
