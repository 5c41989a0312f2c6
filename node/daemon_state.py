"""The running daemon's lock and its published state (``daemon.lock``, ``daemon.json``).

One daemon per home: ``samoorg node run`` holds an exclusive ``flock`` on
:attr:`Home.daemon_lock` for its whole life. The kernel drops the lock when
the process dies, however it dies, so a stale lock never blocks a restart.

The daemon publishes what ``samoorg status``, ``samoorg peers`` and
``samoorg invite create`` need in :attr:`Home.daemon_state` (JSON, replaced
atomically by rename). Readers trust the file only while the lock is held:
a file left by a killed daemon is reported as "not running".
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from typing import Any

from samoorg.node.errors import HomeError
from samoorg.node.home import Home


class DaemonRunning(HomeError):
    """Another daemon already serves this home."""


class DaemonLock:
    """The exclusive lock of a running daemon; use as a context manager."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._fd: int | None = None

    def acquire(self, wait: float = 1.0) -> None:
        """Take the lock or raise :class:`DaemonRunning`.

        Retries for ``wait`` seconds, because ``samoorg status`` briefly takes a
        shared lock to probe whether a daemon runs.
        """
        self.home.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.home.daemon_lock, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    state = read_state(self.home, check_lock=False) or {}
                    pid = state.get("pid", "?")
                    raise DaemonRunning(
                        f"a daemon is already running for {self.home.path} (pid {pid}); "
                        "stop it first or use another --home"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Remove the state file and drop the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.home.daemon_state.unlink()
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def daemon_running(home: Home) -> bool:
    """Whether a daemon holds the lock of ``home`` right now."""
    try:
        fd = os.open(home.daemon_lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def daemon_pid(home: Home) -> int | None:
    """The pid of the daemon holding the lock of ``home`` now, or ``None``.

    The pid is the one the daemon wrote into its lock file when it took the lock.
    """
    if not daemon_running(home):
        return None
    try:
        text = home.daemon_lock.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def stop_daemon(home: Home, timeout: float) -> int:
    """SIGTERM the daemon of ``home`` and wait until it has released its lock; return its pid.

    Raises :class:`HomeError` if no daemon runs, or if it is still running after ``timeout``.
    """
    pid = daemon_pid(home)
    if pid is None:
        raise HomeError(f"no daemon is running for {home.path}")
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while daemon_running(home):
        if time.monotonic() >= deadline:
            raise HomeError(f"the daemon (pid {pid}) did not stop within {timeout:g} s")
        time.sleep(0.05)
    return pid


def write_state(home: Home, state: dict[str, Any]) -> None:
    """Replace the published state atomically (write a temporary file, rename)."""
    tmp = home.daemon_state.with_name(home.daemon_state.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, home.daemon_state)


def read_state(home: Home, *, check_lock: bool = True) -> dict[str, Any] | None:
    """The running daemon's state, or ``None`` if no daemon runs (or it has not written yet)."""
    if check_lock and not daemon_running(home):
        return None
    try:
        data = json.loads(home.daemon_state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def advertised_addrs(home: Home) -> list[str]:
    """The running daemon's dialable addresses (for invite codes), or none."""
    state = read_state(home) or {}
    addrs = state.get("addrs", [])
    return [a for a in addrs if isinstance(a, str)] if isinstance(addrs, list) else []
