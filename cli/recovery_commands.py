"""``samoorg recovery ...``: social recovery of an identity with no device left (§8.13).

``recovery set`` names guardians from your trust list, a threshold and a
waiting period; ``recovery request ID`` in a new home creates a new key whose
first entry asks to become a device of the lost identity; guardians run
``recovery approve``; any device of the identity can ``recovery veto`` before
the wait is over. ``recovery show`` lists the guardians, the requests for your
identity and those you guard, with when each takes effect. The writes are the
``recovery.*`` actions (``node/actions/recovery.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from samoorg.cli.community import act, actor, now, print_notes
from samoorg.cli.context import session
from samoorg.cli.output import format_time, print_json

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

recovery_app = typer.Typer(
    help="Get your identity back through guardians when every device is lost.",
    no_args_is_help=True,
)


@recovery_app.command("set")
def recovery_set(
    ctx: typer.Context,
    guardians: Annotated[
        str,
        typer.Option("--guardians", metavar="A,B,C", help="Guardians from your trust list."),
    ],
    threshold: Annotated[
        int, typer.Option("--threshold", min=1, help="How many guardians must approve.")
    ],
    wait: Annotated[
        str,
        typer.Option("--wait", help="How long devices may veto after the approvals (72h, 7d)."),
    ] = "72h",
    as_json: JsonFlag = False,
) -> None:
    """Name your guardians, how many must approve, and how long your devices may veto."""
    from samoorg.cli.when import parse_duration

    names = [g.strip() for g in guardians.split(",") if g.strip()]
    body = {"guardians": names, "threshold": threshold, "wait_ms": parse_duration(wait)}
    done = act(session(ctx), "recovery.set", body)
    if as_json:
        print_json(done.shape)
        return
    print_notes(done)
    typer.echo(
        f"guardians set: {threshold} of {len(names)} can recover your identity, "
        f"after a wait of {wait} during which your devices can veto"
    )


@recovery_app.command("request")
def recovery_request(
    ctx: typer.Context,
    identity: Annotated[str, typer.Argument(metavar="ID", help="The lost identity's id.")],
    addr: Annotated[
        list[str] | None,
        typer.Option("--addr", help="A multiaddr of a guardian's node to fetch from."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """In a new home, make a new key that asks to become a device of a lost identity."""
    from samoorg.node.keystore import create_key_file, env_passphrase
    from samoorg.node.peerbook import PeerBook
    from samoorg.node.store import Store
    from samoorg.protocol.ids import parse_peer_id, peer_id

    state = session(ctx)
    home = state.home
    key = parse_peer_id(identity.strip())
    if not home.key_file.exists():  # a new home, as 'samoorg init' makes one
        signer = create_key_file(home.key_file, env_passphrase() or None)
        Store(home.store_file).close()
        typer.echo(f"created key {peer_id(signer.public_key)} in {home.path}", err=True)
    done = act(state, "recovery.request", {"identity": peer_id(key)})
    with PeerBook.open(home) as book:
        book.follow([key])
        if addr:
            book.add(key, addr, "invite")
    print_notes(done)
    if as_json:
        print_json(done.shape)
        return
    typer.echo(
        f"asked to recover {peer_id(key)} (request {done.shape['id'][:16]}); give your guardians "
        "the request id, and sync with them"
    )


RequestArg = Annotated[str, typer.Argument(metavar="REQUEST", help="The request's id.")]


@recovery_app.command("approve")
def recovery_approve(ctx: typer.Context, request: RequestArg, as_json: JsonFlag = False) -> None:
    """Approve a recovery request as a guardian (check with the person first!)."""
    _write(ctx, "recovery.approve", request, as_json, "approved")


@recovery_app.command("veto")
def recovery_veto(ctx: typer.Context, request: RequestArg, as_json: JsonFlag = False) -> None:
    """Stop a recovery request for your own identity."""
    _write(ctx, "recovery.veto", request, as_json, "vetoed")


def _write(ctx: typer.Context, name: str, request: str, as_json: bool, verb: str) -> None:
    done = act(session(ctx), name, {}, request)
    if as_json:
        print_json(done.shape)
        return
    print_notes(done)
    shown = done.shape.get("request")
    line = f"{verb} request {request[:16]}"
    if shown:
        line += f": {_status_text(shown)}"
    typer.echo(line)


def _status_text(request: dict[str, Any]) -> str:
    status = request["status"]
    if status == "pending":
        return f"{len(request['approvals'])} of {request['threshold']} approvals"
    if status == "waiting":
        return f"takes effect at {format_time(request['effective_at'])} unless vetoed"
    if status == "recovered":
        return f"took effect at {format_time(request['effective_at'])}"
    return str(status)


@recovery_app.command("show")
def recovery_show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Your guardians, requests for your identity, and requests you guard."""
    from samoorg.cli.output import jsonable
    from samoorg.node.actions import recovery

    state = session(ctx)
    shown = jsonable(recovery.show(actor(state), now()))
    if as_json:
        print_json(shown)
        return
    names = state.names()
    typer.echo(f"identity {shown['identity']}")
    if shown["guardians"]:
        labels = ", ".join(names.label_text(g) for g in shown["guardians"])
        wait = _duration(shown["wait_ms"])
        typer.echo(f"guardians: {labels}; {shown['threshold']} must approve; wait {wait}")
    else:
        typer.echo("no guardians: name some with 'samoorg recovery set --guardians A,B,C'")
    for title, rows in (
        ("requests for your identity", shown["requests"]),
        ("requests you guard", shown["guarding"]),
    ):
        if not rows:
            continue
        typer.echo(title + ":")
        for row in rows:
            typer.echo(
                f"  {row['id'][:16]}  by {names.label_text(row['key'])} for "
                f"{names.label_text(row['identity'])}: {_status_text(row)}"
            )


def _duration(ms: int) -> str:
    """``259200000`` as ``3d``: the largest unit that divides it (else milliseconds)."""
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms} ms"


def register(app: typer.Typer) -> None:
    """Attach these commands to the root app."""
    app.add_typer(recovery_app, name="recovery")
