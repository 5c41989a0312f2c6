"""Reading the small files of a home (the key, the own-head record) safely.

A path may name a FIFO, a device or a directory (through a symlink, say):
opening one for reading could block forever or read without end. The file is
opened with ``O_NONBLOCK`` (a FIFO then opens at once), checked to be a regular
file with ``fstat`` on the open descriptor (no race with a rename), and read
up to a bound.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from samoorg.node.errors import NodeError

_KINDS = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "special file")


def read_regular_file(
    path: Path,
    limit: int,
    what: str,
    error: Callable[[str], NodeError],
    check: Callable[[os.stat_result], None] | None = None,
) -> bytes:
    """The bytes of the regular file at ``path`` (at most ``limit``).

    ``FileNotFoundError`` propagates (callers say what a missing file means);
    any other problem raises ``error(message)`` naming ``what`` the file is.
    ``check(fstat)`` runs on the open file before anything is read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(
                f"{what} {path} is a {_kind(info.st_mode)}, not a regular file: "
                "replace it with the file itself"
            )
        if check is not None:
            check(info)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 16, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise error(f"{what} {path}: expected at most {limit} bytes, found more")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
