"""``samoorg --help``: commands grouped by topic, each with its whole first sentence.

Click shortens each command's description to fit one line ("Create a new
identity and an empty store in the home..."). :class:`HelpGroup` lists the
first sentence in full instead, wrapped to the terminal, and
:class:`TopicGroup` (the root) lists the commands in sections, one per topic
of :data:`TOPICS`, in that order. Command modules need not know their topic:
the root sets :class:`HelpGroup` on every sub-group it holds
(:func:`use_full_help`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from typer.core import TyperGroup

if TYPE_CHECKING:
    import typer
    from typer import _click as click  # typer 0.27 vendors click

TOPICS: Final[dict[str, tuple[str, ...]]] = {
    "Identity and store": (
        "init",
        "whoami",
        "status",
        "inbox",
        "log",
        "verify",
        "export",
        "import",
        "device",
        "backup",
        "restore",
        "recovery",
    ),
    "People": ("profile", "name"),
    "Trust": ("invite", "trust"),
    "Pledges": ("pledge", "request", "initiative", "ledger"),
    "Social": ("idea", "comment", "rate", "ratings", "utility", "distribute", "poll", "vote"),
    "Agreements": ("agreement", "members"),
    "Portal": ("listing", "review", "org"),
    "Network": ("node", "peer", "peers", "sync", "follow", "unfollow"),
    "Web organizer": ("web",),
}
"""Every top-level command under one topic (a test checks them against the registry)."""
_WHOLE: Final = 10_000
"""A short-help length limit no first sentence reaches: never shorten."""


def _rows(group: TyperGroup, ctx: click.Context, names: Sequence[str]) -> list[tuple[str, str]]:
    rows = []
    for name in names:
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            rows.append((name, command.get_short_help_str(_WHOLE)))
    return rows


class HelpGroup(TyperGroup):
    """A command group whose help lists each sub-command's first sentence in full."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = _rows(self, ctx, self.list_commands(ctx))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class TopicGroup(HelpGroup):
    """The root group: commands in one section per topic, then any without a topic."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = self.list_commands(ctx)
        placed = {name for names in TOPICS.values() for name in names}
        sections = [(topic, [n for n in names if n in listed]) for topic, names in TOPICS.items()]
        sections.append(("Other commands", [n for n in listed if n not in placed]))
        for topic, names in sections:
            rows = _rows(self, ctx, names)
            if rows:
                with formatter.section(topic):
                    formatter.write_dl(rows)


def use_full_help(app: typer.Typer) -> None:
    """Make every sub-group of ``app`` (recursively) a :class:`HelpGroup`."""
    for info in app.registered_groups:
        info.cls = HelpGroup
        if info.typer_instance is not None:
            use_full_help(info.typer_instance)
