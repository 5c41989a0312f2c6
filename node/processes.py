"""Start and stop ``samoorg node run`` as child processes (demo, tests, benchmarks).

Usage::

    with NodeProcess(home, listen="/ip4/127.0.0.1/tcp/0") as node:
        node.addrs          # dialable multiaddrs printed by the daemon
        run_cli(home, "peer", "add", other.addrs[0])

    nodes = start_mesh([home_a, home_b, home_c])   # each bootstraps to the earlier ones
    ...                                            # act through run_cli(home, ...)
    view_digests(home_a) == view_digests(home_b)   # converged?
    stop_all(nodes)                                # [0, 0, 0] on clean shutdowns

:meth:`NodeProcess.start` waits for the daemon's ``ready`` line, so the node
is listening when it returns. :meth:`NodeProcess.stop` sends SIGTERM and
waits for the exit code (0 on a clean shutdown), killing the process only if
it does not exit in time. The daemon's stderr goes to ``node.log`` in its
home, where a test can look for tracebacks.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from samoorg.node.errors import NodeError

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def cli_command(home: Path, *args: str) -> list[str]:
    """The argv that runs ``samoorg --home HOME ARGS...`` with this interpreter."""
    return [sys.executable, "-m", "samoorg.cli.main", "--home", str(home), *args]


def run_cli(
    home: Path, *args: str, check: bool = True, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run one CLI command in a child; with ``check``, raise :class:`NodeError` on failure."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        cli_command(home, *args), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise NodeError(
            f"samoorg {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}"
        )
    return result


class NodeProcess:
    """One ``samoorg node run`` child process."""

    def __init__(
        self,
        home: Path,
        *,
        listen: str | Sequence[str] = "/ip4/127.0.0.1/tcp/0",
        bootstrap: Sequence[str] = (),
        mdns_interface: str | None = None,
        hops: int | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        netns: str | None = None,
    ) -> None:
        self.home = Path(home)
        listens = [listen] if isinstance(listen, str) else list(listen)
        args = ["node", "run"]
        for addr in listens:
            args += ["--listen", addr]
        for addr in bootstrap:
            args += ["--bootstrap", addr]
        if mdns_interface is None:
            args.append("--no-mdns")
        else:
            args += ["--mdns-interface", mdns_interface]
        if hops is not None:
            args += ["--hops", str(hops)]
        args += list(extra_args)
        command = cli_command(self.home, *args)
        self.command = ["ip", "netns", "exec", netns, *command] if netns else command
        self.env = {**os.environ, **(env or {})}
        self.log_path = self.home / "node.log"
        self.addrs: list[str] = []
        self.peer_id: str | None = None
        self.api_url: str | None = None
        """The local API's URL (``api on URL``), unless started with ``--no-api``."""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[str] | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self._process.pid if self._process else None

    def start(self, timeout: float = START_TIMEOUT) -> list[str]:
        """Start the daemon and wait until it prints ``ready``; return its addresses."""
        if self._process is not None:
            raise NodeError("node process already started")
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8")
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.command,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=self.env,
        )
        assert self._process.stdout is not None
        self.addrs = []
        fd = self._process.stdout.fileno()
        pending = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.kill()
                    raise NodeError(f"node in {self.home} did not start within {timeout:g} s")
                chunk = os.read(fd, 4096)
                if not chunk:
                    code = self._process.wait()
                    self._close()
                    raise NodeError(
                        f"node in {self.home} exited with {code} at start: {self.log_tail()}"
                    )
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").strip()
                    if line.startswith("node "):
                        self.peer_id = line.split()[1]
                    elif line.startswith("listening on "):
                        self.addrs.append(line.removeprefix("listening on "))
                    elif line.startswith("api on "):
                        self.api_url = line.removeprefix("api on ")
                    elif line == "ready":
                        return self.addrs

    def stop(self, timeout: float = STOP_TIMEOUT, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` (SIGTERM) and return the exit code; kill after ``timeout``."""
        process = self._process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(sig)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self._close()
        return code

    def kill(self) -> None:
        """SIGKILL the daemon (a crash, as far as the node can tell)."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        self._close()

    def _close(self) -> None:
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the daemon's stderr log."""
        try:
            text = self.log_path.read_text(encoding="utf-8")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> NodeProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_mesh(homes: Sequence[Path], **options: object) -> list[NodeProcess]:
    """Start one daemon per home, each bootstrapping to every one started before it.

    ``options`` go to :class:`NodeProcess` (``listen``, ``mdns_interface``,
    ``hops``, ``extra_args``...). If one fails to start, those already
    started are stopped before the error propagates.
    """
    nodes: list[NodeProcess] = []
    try:
        for home in homes:
            earlier = [addr for node in nodes for addr in node.addrs]
            node = NodeProcess(home, bootstrap=earlier, **options)  # type: ignore[arg-type]
            node.start()
            nodes.append(node)
    except BaseException:
        stop_all(nodes)
        raise
    return nodes


def stop_all(nodes: Sequence[NodeProcess]) -> list[int]:
    """SIGTERM every node (last started first); return their exit codes in start order."""
    return list(reversed([node.stop() for node in reversed(nodes)]))


def view_digests(home: Path) -> dict[str, str]:
    """``samoorg status --digests`` of ``home``: equal on nodes that have converged."""
    import json

    return dict(json.loads(run_cli(home, "status", "--digests", "--json").stdout)["digests"])
