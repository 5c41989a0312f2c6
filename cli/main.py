"""Entry point of the ``samoorg`` command.

Every failure a user can cause ends as one line on stderr and a non-zero exit
code: 2 for bad usage (what click rejects while parsing, and the malformed
values of :data:`USAGE_ERRORS`: amounts, currencies, dates, durations, ids,
addresses, invite codes), 1 when the node, the protocol or a community rule
refuses a well-formed request, 130 after Ctrl-C.
Command modules register themselves on :data:`app`; they import heavy modules
(libp2p above all) inside the commands that need them. Only the module that
owns the command being run is imported (:data:`COMMAND_MODULES`), so that
``samoorg whoami`` does not pay for the other forty commands' definitions.
"""

from __future__ import annotations

import errno
import importlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from typer._click.exceptions import NoSuchOption

from samoorg.cli.context import Session
from samoorg.cli.help_topics import TopicGroup, use_full_help
from samoorg.cli.output import fail_line
from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
from samoorg.node.errors import NodeError
from samoorg.node.home import HOME_ENV, resolve_home
from samoorg.node.transport import BadAddress
from samoorg.protocol.errors import ProtocolError
from samoorg.protocol.ids import BadIdentifier

app = typer.Typer(
    name="samoorg",
    help="Samoorg: a peer-to-peer node for self-organizing communities.",
    cls=TopicGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"samoorg {version('samoorg')}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar=HOME_ENV,
            help="Node home directory (default: the platform's user data dir).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            envvar="SAMOORG_OFFLINE",
            help="Work on the store directly even while this home's daemon runs.",
        ),
    ] = False,
) -> None:
    """Samoorg: signed feeds, a mutual-guarantee trust list, pledges, ratings, agreements."""
    ctx.obj = Session(resolve_home(home), offline=offline)
    ctx.call_on_close(ctx.obj.close)
    from samoorg.node.own_fork import notice_path, notice_text, read_notice

    cut = read_notice(notice_path(ctx.obj.home.path))
    if cut is not None:  # our own feed is forked: say so before anything else
        sys.stderr.write(notice_text(cut) + "\n")


COMMAND_MODULES: Final[dict[str, tuple[str, ...]]] = {
    "feed_commands": ("init", "whoami", "log", "verify", "export", "import"),
    "network_commands": ("node", "peer", "status", "peers", "sync", "follow", "unfollow"),
    "trust_commands": ("invite", "trust"),
    "pledge_commands": ("pledge", "ledger", "request", "initiative"),
    "social_commands": (
        "rate",
        "ratings",
        "utility",
        "distribute",
        "comment",
        "vote",
        "idea",
        "poll",
    ),
    "agreement_commands": ("agreement", "members"),
    "inbox_commands": ("inbox",),
    "device_commands": ("device",),
    "backup_commands": ("backup", "restore"),
    "recovery_commands": ("recovery",),
    "name_commands": ("name",),
    "profile_commands": ("profile",),
    "portal_commands": ("listing", "review"),
    "org_commands": ("org",),
    "web_commands": ("web",),
}
"""Each ``samoorg.cli`` module and the top-level commands its ``register`` adds
(a test checks that the two agree)."""
_registered: set[str] = set()


def register_commands(argv: Sequence[str] = ()) -> None:
    """Register the module owning the command named in ``argv``, or every module.

    Every module is registered when no known command is named (``--help``,
    a typo), so that help and "no such command" see the whole CLI.
    """
    word = _command_word(argv)
    owners = [m for m, names in COMMAND_MODULES.items() if word in names]
    for name in owners or COMMAND_MODULES:
        if name not in _registered:
            importlib.import_module(f"samoorg.cli.{name}").register(app)
            _registered.add(name)
    use_full_help(app)


def _command_word(argv: Sequence[str]) -> str | None:
    # The root takes only --home VALUE (or --home=VALUE) and flags (--version, --help,
    # --install-completion, --show-completion).
    args = iter(argv)
    for arg in args:
        if arg == "--home":
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


USAGE_ERRORS: Final = (MalformedInput, BadIdentifier, BadAddress)
"""Malformed values typed on the command line: bad usage (exit 2), not a refusal (exit 1)."""
_NEGATIVE: Final = re.compile(r"-\d+(?:\.\d+)?")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code (also used by the tests)."""
    register_commands(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        try:
            return _invoke(command, argv)
        except NoSuchOption as exc:
            # "-5" looks like an option to the parser; hand it to the command's
            # own arguments instead, whose parser says what is wrong with it.
            if exc.ctx is None or not _NEGATIVE.fullmatch(exc.option_name):
                raise
            exc.ctx.command.ignore_unknown_options = True
            return _invoke(command, argv)
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        return 130
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except (NodeError, ProtocolError, RuleViolation) as exc:
        sys.stderr.write(fail_line(str(exc)) + "\n")
        return 2 if _is_usage_error(exc) else 1
    except typer.TyperException as exc:
        return _usage_failure(exc)
    except OSError as exc:
        sys.stderr.write(fail_line(os_error_text(exc)) + "\n")
        return 1


def _is_usage_error(exc: Exception) -> bool:
    if isinstance(exc, USAGE_ERRORS):
        return True
    # A damaged invite code can only come from a module already imported.
    codes = sys.modules.get("samoorg.protocol.invite_code")
    return codes is not None and isinstance(exc, codes.BadInviteCode)


def _invoke(command: Any, argv: list[str] | None) -> int:
    # Without standalone mode click *returns* the code of a typer.Exit
    # raised inside a command (it raises only from eager callbacks).
    result = command.main(args=argv, prog_name="samoorg", standalone_mode=False)
    return result if isinstance(result, int) else 0


def _usage_failure(exc: typer.TyperException) -> int:
    if type(exc).__name__ == "NoArgsIsHelpError":
        sys.stderr.write(str(exc.format_message() if hasattr(exc, "format_message") else exc))
        sys.stderr.write("\n")
        return 2
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if isinstance(exc, typer.BadParameter) and exc.param is None and exc.param_hint is None:
        message = exc.message  # raised by a command about a combination of options
    hint = ""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        hint = f" (see '{ctx.command_path} --help')"
    sys.stderr.write(fail_line(message) + hint + "\n")
    return int(getattr(exc, "exit_code", 2))


_OS_ERRORS: Final = {
    errno.EEXIST: "{name} already exists: choose another name or remove it first",
    errno.EISDIR: "{name} is a directory: give the path of a file",
    errno.ENOTDIR: "{name}: a part of this path is a file, not a directory",
    errno.ENOENT: "{name} does not exist",
    errno.EACCES: "{name}: permission denied",
    errno.ENOSPC: "no space left on the device while writing {name}",
}


def os_error_text(exc: OSError) -> str:
    """What a user can do about a failed file operation, in one line."""
    name = f"'{exc.filename}'" if exc.filename else "the file"
    template = _OS_ERRORS.get(exc.errno or 0)
    if template is not None:
        return template.format(name=name)
    return f"{exc.strerror or exc}: {exc.filename or ''}".strip()


def run() -> None:  # pragma: no cover - console script shim
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
