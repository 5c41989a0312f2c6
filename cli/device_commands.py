"""``samoorg device ...``: the devices of one person (docs/protocol.md §8.11).

``device add`` records a ``device.add`` and prints a one-time device code;
``samoorg init --join-identity CODE`` on the new machine makes its key's first
entry the ``device.accept``. ``device list`` shows the devices of our
identity, ``device revoke`` voids another device's entries from a seq on.
"""

from __future__ import annotations

from typing import Annotated

import typer

from samoorg.cli.community import actor, load_views
from samoorg.cli.context import session
from samoorg.cli.output import print_json
from samoorg.protocol.ids import peer_id

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
    from samoorg.cli.community import act

    done = act(session(ctx), "device.add", {"addrs": list(addr)} if addr else {})
    if as_json:
        print_json(done.shape)
        return
    typer.echo(done.shape["code"])
    typer.echo(
        "on the new device run: samoorg init --join-identity CODE, then sync the two "
        "(a daemon on both, or 'samoorg sync'). The code is shown only once.",
        err=True,
    )


@device_app.command("list")
def device_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The devices of your identity, and which are revoked from which entry on."""
    from samoorg.node.actions.devices import devices_json

    state = session(ctx)
    answer = state.ask(
        lambda daemon: daemon.get("/devices"),
        lambda: devices_json(load_views(state), state.public_key()),
    )
    if as_json:
        print_json(answer)
        return
    typer.echo(f"identity {answer['identity']}")
    for row in answer["devices"]:
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
            help="First entry of that device to void (default: the one after what we hold).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke another device of yours: every view ignores its entries from --from-seq on."""
    from samoorg.cli.community import act

    body: dict[str, object] = {"id": ident}
    if from_seq is not None:
        body["from_seq"] = from_seq
    done = act(session(ctx), "device.revoke", body)
    if as_json:
        print_json(done.shape)
        return
    shape = done.shape
    typer.echo(
        f"revoked {shape['device']} from entry {shape['from']} (entry {shape['revocation'][:12]})"
    )


def join_identity(ctx: typer.Context, code_text: str) -> None:
    """``init --join-identity``: the new key's first entry accepts the code's add."""
    from samoorg.crdt.kinds.devices import DEVICE_ACCEPT, accept_body
    from samoorg.node.peerbook import PeerBook
    from samoorg.protocol.device_code import parse_device_code, sign_device_acceptance

    state = session(ctx)
    code = parse_device_code(code_text)
    me = state.public_key()
    entry = actor(state).write(
        DEVICE_ACCEPT,
        accept_body(code.add, sign_device_acceptance(code.secret, code.add, me)),
    )
    with PeerBook.open(state.home) as book:
        book.follow([code.device, code.identity])
        if code.addrs:
            book.add(code.device, code.addrs, "invite")
    typer.echo(
        f"joined identity {peer_id(code.identity)} as a new device (entry {entry.id.hex()[:12]}); "
        "sync with the device that added you to complete it"
    )


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(device_app, name="device")
