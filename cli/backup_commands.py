"""``samoorg backup FILE`` and ``samoorg restore FILE``: a backup that cannot fork.

The file and the rules are :mod:`samoorg.node.backup`. ``restore`` makes the
machine a **new device** of the backed-up identity: it writes nothing until it
joins, with a code from the original device (``--join CODE``, the path of
``init --join-identity``) or, once the user confirms the original is lost
(``--original-lost``), by adding itself with the backed-up key once and
revoking that key from the entry after the add.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from samoorg.cli.context import on_terminal, session
from samoorg.cli.output import print_json
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    from samoorg.cli.context import Session
    from samoorg.node.backup import Backup

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write one file with your key (as stored), the store and the peer book.

    Safe while a daemon runs (the store is copied in one read transaction).
    """
    from samoorg.cli.community import load_views, now
    from samoorg.crdt.kinds.devices import DevicesState
    from samoorg.node.api.times import rfc3339
    from samoorg.node.backup import write_backup

    state = session(ctx)
    me = state.public_key()
    identity = load_views(state).domain(DevicesState).view().identity(me)
    manifest = write_backup(
        state.home, file, identity=identity, device=me, force=force, created=rfc3339(now())
    )
    size = file.stat().st_size
    shape = {
        "file": str(file.absolute()),
        "bytes": size,
        "identity": peer_id(identity),
        "device": peer_id(me),
        "head": manifest["head"],
        "created": manifest["created"],
    }
    if as_json:
        print_json(shape)
        return
    typer.echo(
        f"backup of {shape['device']} (own feed at entry {shape['head']}) written to "
        f"{shape['file']} ({size} bytes)"
    )
    typer.echo(
        "keep it private: it holds your key (sealed only if it has a passphrase). Restore it "
        "on another machine with 'samoorg restore FILE': that machine becomes a new device.",
        err=True,
    )


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by 'samoorg backup'.")],
    join: Annotated[
        str | None,
        typer.Option(
            "--join",
            metavar="CODE",
            help="Join with the code of 'samoorg device add' run on the original device.",
        ),
    ] = None,
    original_lost: Annotated[
        bool,
        typer.Option(
            "--original-lost",
            help="The original device is gone: add this device with the backed-up key once, "
            "then revoke that key (a later write of a surviving copy is void).",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask to confirm --original-lost.")
    ] = False,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="The new home to create (default: the root --home)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Make this machine a new device of a backed-up identity (it never writes the old feed)."""
    from samoorg.node.backup import BackupError, pending_key, read_backup
    from samoorg.node.errors import HomeError
    from samoorg.node.home import resolve_home
    from samoorg.node.keystore import env_passphrase

    if join is not None and original_lost:
        raise typer.BadParameter("give either --join CODE or --original-lost, not both")
    code = None
    if join is not None:
        from samoorg.protocol.device_code import parse_device_code

        code = parse_device_code(join)  # a bad code creates nothing
    state = session(ctx)
    if home is not None:
        state.home = resolve_home(home)
    where = state.home
    loaded = read_backup(file)
    if code is not None and code.identity != loaded.identity:
        raise BackupError(
            f"this device code is for identity {peer_id(code.identity)}, "
            f"the backup's is {peer_id(loaded.identity)}"
        )
    if original_lost and not yes:
        if not on_terminal():
            raise typer.BadParameter("--original-lost needs a confirmation: pass --yes")
        typer.confirm(
            f"Is the device {peer_id(loaded.device)} lost for good? Anything it writes after "
            "this will be void (if it still writes, its feed forks)",
            abort=True,
        )
    finishing = where.key_file.exists()
    if finishing:
        pending = pending_key(where)
        if pending is None:
            raise HomeError(f"{where.path} already holds an identity ({where.key_file})")
        if pending != loaded.device:
            raise BackupError(f"{where.path} holds the unfinished restore of another backup")
        new = state.public_key()
    else:
        from samoorg.node.backup import restore as restored

        new = restored(loaded, where, env_passphrase() or None)
    shape: dict[str, Any] = {
        "home": str(where.path),
        "device": peer_id(new),
        "identity": peer_id(loaded.identity),
        "backed_up": peer_id(loaded.device),
        "state": "pending",
    }
    lines = [f"restored the backup of {shape['backed_up']} as the new device {shape['device']}"]
    if finishing:
        lines[0] = f"finishing the restore of the backup of {shape['backed_up']} on this device"
    if code is not None and join is not None:
        from samoorg.cli.device_commands import join_identity

        if not as_json:
            typer.echo(lines[0])
        accepted = join_identity(ctx, join, quiet=as_json)
        if as_json:
            print_json({**shape, "state": "joined", "accept": accepted["accept"]})
        return
    if original_lost:
        lines.append(_replace_lost(state, loaded, shape))
    else:
        from samoorg.node.backup import HOW_TO_FINISH

        lines.append(
            "it " + HOW_TO_FINISH + " (sync with a peer first, so that the add follows the "
            "last entry the original wrote)"
        )
    if as_json:
        print_json(shape)
        return
    typer.echo(lines[0])
    typer.echo(lines[1], err=shape["state"] == "pending")


def _replace_lost(state: Session, loaded: Backup, shape: dict[str, Any]) -> str:
    """``--original-lost``: the backed-up key adds this device once; this device revokes it."""
    from samoorg.node.backup import backed_up_signer, join_as_lost_original

    prompt = (
        (lambda: typer.prompt("Passphrase of the backed-up key", hide_input=True))
        if on_terminal()
        else None
    )
    with backed_up_signer(loaded, state.home, prompt) as old:
        added, made = join_as_lost_original(state.home, old, state.signer())
    shape.update(state="revoked_original", add=added.id.hex(), revoked_from=added.seq + 1)
    return (
        f"the backed-up key added this device (its entry {added.seq}) and this device revoked "
        f"it from entry {added.seq + 1} on (entry {made[-1].id.hex()[:12]}): anything a "
        "surviving copy of the original writes after the add is void"
    )


def register(app: typer.Typer) -> None:
    """Attach ``backup`` and ``restore`` to the root app."""
    app.command("backup")(backup)
    app.command("restore")(restore)
