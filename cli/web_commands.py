"""``samoorg web``: a one-time link to the web organizer of the running daemon.

The daemon serves the pages (``node/web/``); this command only asks it, over
the API with the home's token, for a link that opens a browser session
(``POST /api/v1/web/login``), and prints it (``--open`` also opens it). The
standard library's HTTP client and ``webbrowser`` only: no web stack is
imported here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from samoorg.cli.context import session
from samoorg.cli.output import print_json
from samoorg.node.errors import NodeError


class NoDaemon(NodeError):
    """The home's daemon does not run (or serves no API): there is no organizer to open."""


def web(
    ctx: typer.Context,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Also open the link in the default browser.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Print a one-time link to the web organizer of the running node (it needs 'node run')."""
    from samoorg.cli.daemon_client import DaemonUnavailable, connect

    state = session(ctx)
    daemon = connect(state.home)
    if daemon is None:
        raise NoDaemon(
            "no daemon runs for this home: start 'samoorg node run' (it serves the organizer)"
        )
    try:
        answer = daemon.post("/web/login", {})
    except DaemonUnavailable as exc:
        raise NoDaemon(f"the daemon did not answer: {exc}") from None
    url = str(answer["url"])
    if as_json:
        print_json({"url": url, "expires_in": answer["expires_in"]})
    else:
        typer.echo(url)
        typer.echo(
            f"open it within {answer['expires_in'] // 60} minutes; it works once "
            "(run 'samoorg web' again for another browser)",
            err=True,
        )
    if open_browser:
        import webbrowser

        webbrowser.open(url)


def register(app: typer.Typer) -> None:
    """Attach ``web`` to the root app."""
    app.command("web")(web)
