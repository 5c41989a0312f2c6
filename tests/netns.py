"""A small lab of network namespaces: hosts on bridges, which can be cut off and healed.

Needs root and iproute2; :func:`unavailable` says why not otherwise. Each
network is a bridge in one hub namespace; host ``i`` on network ``n`` has
address ``10.77.n.(i+1)``. A host on two networks does not forward between
them, so two networks joined only by one host model peers that cannot reach
each other directly. Names carry the pid, so concurrent runs on one machine
do not collide, and :meth:`Lab.close` removes everything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
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
    """``hosts`` namespaces attached to ``networks`` (lists of host indexes; default: one)."""

    hosts: int
    networks: Sequence[Sequence[int]] | None = None
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}")
    names: list[str] = field(default_factory=list)

    @property
    def hub(self) -> str:
        return f"so-hub-{self.tag}"

    def ip(self, index: int, net: int = 0) -> str:
        """The address of host ``index`` (0-based) on network ``net``."""
        return f"10.77.{net}.{index + 1}"

    def _port(self, index: int, net: int) -> str:
        return f"so{net}v{index}-{self.tag}"[:15]

    def _nets(self) -> list[list[int]]:
        return [list(n) for n in self.networks] if self.networks else [list(range(self.hosts))]

    def open(self) -> Lab:
        _ip("netns", "add", self.hub)
        for index in range(self.hosts):
            name = f"so-h{index}-{self.tag}"
            _ip("netns", "add", name)
            self.names.append(name)
            _ip("-n", name, "link", "set", "lo", "up")
        for net, members in enumerate(self._nets()):
            bridge = f"br{net}"
            _ip("-n", self.hub, "link", "add", bridge, "type", "bridge")
            _ip("-n", self.hub, "link", "set", bridge, "up")
            for index in members:
                port, inner = self._port(index, net), f"so{net}e{index}-{self.tag}"[:15]
                _ip("link", "add", port, "type", "veth", "peer", "name", inner)
                _ip("link", "set", port, "netns", self.hub)
                _ip("link", "set", inner, "netns", self.names[index])
                _ip("-n", self.hub, "link", "set", port, "master", bridge)
                _ip("-n", self.hub, "link", "set", port, "up")
                _ip(
                    "-n",
                    self.names[index],
                    "addr",
                    "add",
                    f"{self.ip(index, net)}/24",
                    "dev",
                    inner,
                )
                _ip("-n", self.names[index], "link", "set", inner, "up")
        return self

    def route(self, index: int, cidr: str, via: str) -> None:
        """Give host ``index`` a route to ``cidr`` through ``via``."""
        _ip("-n", self.names[index], "route", "add", cidr, "via", via)

    def cut(self, index: int, net: int = 0) -> None:
        """Cut host ``index`` off network ``net``."""
        _ip("-n", self.hub, "link", "set", self._port(index, net), "down")

    def heal(self, index: int, net: int = 0) -> None:
        """Reconnect host ``index`` to network ``net``."""
        _ip("-n", self.hub, "link", "set", self._port(index, net), "up")

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
