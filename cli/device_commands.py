"""``samoorg device ...``: the devices of one person (docs/protocol.md §8.11).

``device add`` records a ``device.add`` and prints a one-time device code;
``samoorg init --join-identity CODE`` on the new machine makes its key's first
entry the ``device.accept``. ``device list`` shows the devices of our
identity, ``device revoke`` voids another device's entries from a seq on.
The writes are actions (:mod:`samoorg.node.actions.devices`), run through the
daemon when one runs; ``device list`` reads ``GET /api/v1/devices`` then.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samoorg.cli.community import act, load_views, print_notes
from samoorg.cli.context import session
from samoorg.cli.output import print_json
from samoorg.crdt.kinds.devices import MAX_SEQ

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

device_app = typer.Typer(help="Your devices: one person, several keys.", no_args_is_help=True)


@device_app.command("add")
def device_add(
    ctx: typer.Context,
    addr: Annotated[
        list[str] | None,
        typer.Option("--addr", help="A multiaddr where the new device can reach this one."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a new device's one-time key and print its code; use it once, privately."""
    body: dict[str, Any] = {"addrs": addr} if addr else {}
    done = act(session(ctx), "device.add", body)
    print_notes(done)
    if as_json:
        print_json(done.shape)
        return
    typer.echo(done.shape["code"])
    typer.echo(
        "on the new device run: samoorg init --join-identity CODE (or, on a machine restored "
        "from a backup, samoorg restore FILE --join CODE), then sync the two "
        "(a daemon on both, or 'samoorg sync'). The code is shown only once.",
        err=True,
    )


@device_app.command("list")
def device_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The devices of your identity, and which are revoked from which entry on."""
    from samoorg.node.actions.devices import devices_shape

    state = session(ctx)
    shape: dict[str, Any] = state.ask(
        lambda daemon: daemon.get("/devices"),
        lambda: devices_shape(load_views(state), state.public_key()),
    )
    if as_json:
        print_json(shape)
        return
    typer.echo(f"identity {shape['identity']}")
    for row in shape["devices"]:
        notes = [n for n, on in (("founder", row["founder"]), ("this device", row["this"])) if on]
        if row["revoked_from"] is not None:
            notes.append(f"revoked from entry {row['revoked_from']}")
        typer.echo(f"  {row['id']}" + (f"  ({', '.join(notes)})" if notes else ""))


@device_app.command("revoke")
def device_revoke(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="The device's participant id.")],
    from_seq: Annotated[
        int | None,
        typer.Option(
            "--from-seq",
            min=1,
            max=MAX_SEQ,
            help="First entry of that device to void (default: the one after what we hold).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke another device of yours: every view ignores its entries from --from-seq on."""
    body: dict[str, Any] = {"device": ident}
    if from_seq is not None:
        body["from_seq"] = from_seq
    done = act(session(ctx), "device.revoke", body)
    print_notes(done)
    shape = done.shape
    if as_json:
        print_json(shape)
        return
    typer.echo(
        f"revoked {shape['device']} from entry {shape['from']} (entry {shape['revocation'][:12]})"
    )


def join_identity(ctx: typer.Context, code_text: str, *, quiet: bool = False) -> dict[str, Any]:
    """``init --join-identity`` (and ``restore --join``): our first entry accepts the code's add.

    Returns the action's shape (``quiet``: without printing the line that says so).
    """
    done = act(session(ctx), "device.accept", {"code": code_text})
    print_notes(done)
    shape = done.shape
    if quiet:
        return shape
    typer.echo(
        f"joined identity {shape['identity']} as a new device (entry {shape['accept'][:12]}); "
        "sync with the device that added you to complete it"
    )
    return shape


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(device_app, name="device")
