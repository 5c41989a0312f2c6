"""A small lab of network namespaces: hosts on one bridge, which can be cut off and healed.

Needs root and iproute2; :func:`unavailable` says why not otherwise. Names
carry the pid, so concurrent runs on one machine do not collide, and
:meth:`Lab.close` removes everything (deleting a namespace removes its veth).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field


def unavailable() -> str | None:
    """Why namespaces cannot be used here, or ``None`` if they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 ('ip') is not installed"
    probe = f"samoorg-probe-{os.getpid()}"
    made = subprocess.run(
        ["ip", "netns", "add", probe], check=False, capture_output=True, text=True
    )
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], check=False, capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=20)


@dataclass
class Lab:
    """Hosts ``10.77.0.1``, ``10.77.0.2``, ... on a bridge in a hub namespace."""

    hosts: int
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}")
    names: list[str] = field(default_factory=list)

    @property
    def hub(self) -> str:
        return f"so-hub-{self.tag}"

    def ip(self, index: int) -> str:
        """The address of host ``index`` (0-based)."""
        return f"10.77.0.{index + 1}"

    def _port(self, index: int) -> str:
        return f"sov{index}-{self.tag}"[:15]

    def open(self) -> Lab:
        _ip("netns", "add", self.hub)
        _ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.hub, "link", "set", "br0", "up")
        for index in range(self.hosts):
            name = f"so-h{index}-{self.tag}"
            inner = f"soe{index}-{self.tag}"[:15]
            _ip("netns", "add", name)
            self.names.append(name)
            _ip("link", "add", self._port(index), "type", "veth", "peer", "name", inner)
            _ip("link", "set", self._port(index), "netns", self.hub)
            _ip("link", "set", inner, "netns", name)
            _ip("-n", self.hub, "link", "set", self._port(index), "master", "br0")
            _ip("-n", self.hub, "link", "set", self._port(index), "up")
            _ip("-n", name, "addr", "add", f"{self.ip(index)}/24", "dev", inner)
            _ip("-n", name, "link", "set", inner, "up")
            _ip("-n", name, "link", "set", "lo", "up")
        return self

    def cut(self, index: int) -> None:
        """Partition host ``index`` from every other host."""
        _ip("-n", self.hub, "link", "set", self._port(index), "down")

    def heal(self, index: int) -> None:
        """Reconnect host ``index``."""
        _ip("-n", self.hub, "link", "set", self._port(index), "up")

    def close(self) -> None:
        for name in [*self.names, self.hub]:
            subprocess.run(
                ["ip", "netns", "del", name], check=False, capture_output=True, timeout=20
            )
        self.names.clear()

    def __enter__(self) -> Lab:
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
