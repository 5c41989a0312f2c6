"""The notice that our own feed is forked: a small file in the home, read by every command.

Theory of operation. A fork proof about our own key (a copied home or key
file wrote a second history) closes our feed: nothing more can be signed with
this key, and every node ignores what it wrote from the cut of the fork on
(``docs/protocol.md`` §4.4). The user must hear it before anything else, from
every command, and cheaply: ``samoorg whoami`` opens neither SQLite nor
libsodium. So the :class:`~samoorg.node.store.Store` writes a notice file
(:data:`NOTICE_NAME`, beside the store, holding the cut) whenever it stores a
proof about the key of its own-head record, and the CLI's root callback reads
that file (one ``stat``) and prints :func:`notice_text` first.
:func:`reconcile` (run when a command opens the store) writes or removes the
file to match the store, for stores that got their proof before the notice
existed, or a store replaced by another.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

NOTICE_NAME: Final = "own-feed-forked"
"""The notice file, in the home beside ``store.sqlite``; its text is the cut (a seq)."""

WAY_OUT: Final = (
    "what you wrote before entry {cut} stays valid on every node; this key can write no more. "
    "Go on with a new key in a new home: if you have another device, run 'samoorg device add' "
    "there and 'samoorg init --join-identity CODE' here; with no device left, if you named "
    "guardians ('samoorg recovery set'), run 'samoorg --home NEW-HOME recovery request ID' "
    "and ask them to approve; otherwise run 'samoorg init' and ask a friend to invite the new key"
)


def notice_path(home: Path) -> Path:
    """Where the notice of the home at ``home`` lives."""
    return home / NOTICE_NAME


def write_notice(path: Path, cut: int) -> None:
    """Record that our feed is forked from seq ``cut`` (atomically: write, then rename)."""
    part = path.with_name(path.name + ".part")
    part.write_text(f"{cut}\n", "ascii")
    os.replace(part, path)


def clear_notice(path: Path) -> None:
    """Remove the notice (the store holds no proof about our key)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def read_notice(path: Path) -> int | None:
    """The cut recorded in the notice, or ``None`` without one (a damaged notice: 1).

    A notice that cannot be read (no home yet, a home that is a file) counts as none.
    """
    try:
        text = path.read_text("ascii")
    except OSError:
        return None
    except UnicodeDecodeError:
        return 1
    return int(text) if text.strip().isdigit() else 1


def notice_text(cut: int) -> str:
    """The plain sentence every command prints first while our feed is forked."""
    return (
        "warning: your own feed is forked: this key signed two different histories "
        "(was the home or its key file copied to another machine?); " + WAY_OUT.format(cut=cut)
    )


def reconcile(path: Path, cut: int | None) -> None:
    """Make the notice match the store: ``cut`` is our key's cut there, or ``None``."""
    if cut is None:
        clear_notice(path)
    elif read_notice(path) != cut:
        write_notice(path, cut)
