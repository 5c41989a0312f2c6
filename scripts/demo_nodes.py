"""The demo's community: one home and one ``samoorg node run`` process per person.

:class:`Community` runs every command through the real CLI in a child process
(``python -m samoorg.cli.main --home HOME ...``), prints it as a reader would
type it, then prints what the command itself printed (stdout and stderr, as
on a terminal 120 columns wide). Values the story needs later (an entry id,
an invite code) are read from that same output. Daemons are
:class:`~samoorg.node.processes.NodeProcess` children listening on
127.0.0.1 only, mDNS off, each in its own home under one temporary folder.

:meth:`Community.converge` is the demo's proof of convergence: it reads every
running node's feed heads from its store (read-only, every 50 ms) until all
are equal, timing that from the newest entry, then runs ``samoorg status
--digests --json`` of every node side by side and requires the same digest
of every view. Every wait is bounded: CLI commands, daemon start and stop,
and each convergence check.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samoorg.node.errors import NodeError
from samoorg.node.home import Home
from samoorg.node.processes import NodeProcess, cli_command, stop_all
from samoorg.node.store import Store
from samoorg.protocol.feed import FeedHead

COMMAND_TIMEOUT = 60.0
"""Seconds one CLI command may take."""
POLL_PAUSE = 0.05
"""Seconds between two looks at the nodes' feed heads."""
SHOWN_ARG = 8
"""Invite codes are printed by their last characters only."""
SHORT_DIGEST = 8
"""Hex digits of a view digest the demo prints."""
SHORT = 8
"""Digits of an entry id the demo passes back to the CLI (a prefix it accepts)."""
INDENT = "   "
COLUMNS = "120"
"""Terminal width the commands lay their tables out for."""
HEX_ID = re.compile(r"\b[0-9a-f]{64}\b")
SHORT_ID = re.compile(r"\b[0-9a-f]{12}\b")
INVITE_CODE = re.compile(r"samoorg-invite:\S+")


class DemoFailure(Exception):
    """Something the demo shows did not happen: the demo exits non-zero."""


@dataclass
class Person:
    """One participant: a home, an identity, and (while online) a daemon."""

    name: str
    home: Path
    id: str = ""
    node: NodeProcess | None = None
    listen: str | None = None
    """The address its daemon first listened on (a kept node listens there again)."""


@dataclass
class Check:
    """One convergence check: which act, how many nodes, and how long it took."""

    label: str
    nodes: int
    entries: int
    seconds: float | None
    """From the newest write (or node start) until all held it; ``None``: not timed."""
    passed: bool


@dataclass
class Status:
    """What ``samoorg status --digests --json`` said about one node."""

    entries: int
    digests: dict[str, str] = field(default_factory=dict)


class Community:
    """The people of the demo, their commands, their daemons, and the checks."""

    def __init__(self, root: Path, names: Sequence[str], timeout: float, *, mesh: bool) -> None:
        self.root = root
        self.timeout = timeout
        self.mesh = mesh
        self.people = {name: Person(name, root / name) for name in names}
        self.checks: list[Check] = []
        self._since = time.monotonic()
        self._started = 0.0
        self._digests: dict[str, str] = {}

    def __getitem__(self, name: str) -> Person:
        return self.people[name]

    @property
    def online(self) -> list[Person]:
        """People whose daemon runs."""
        return [p for p in self.people.values() if p.node is not None]

    # Commands -----------------------------------------------------------------

    def _invoke(self, who: Person, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        shown = " ".join(_shown(arg) for arg in args)
        print(f"{INDENT}{who.name}$ samoorg {shown}")
        try:
            result = subprocess.run(
                cli_command(who.home, *args),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=self.root,
                env={**os.environ, "COLUMNS": COLUMNS, "PYTHONUNBUFFERED": "1"},
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DemoFailure(f"samoorg {shown} took more than {COMMAND_TIMEOUT:g} s") from exc
        self._since = time.monotonic()
        for line in result.stdout.rstrip().splitlines():
            print(f"{INDENT}  {line}".rstrip())
        return result

    def run(self, who: Person, command: str) -> str:
        """Run a command that must succeed, print what it printed; return that output."""
        result = self._invoke(who, shlex.split(command))
        if result.returncode != 0:
            raise DemoFailure(f"{who.name}: samoorg {command} exited {result.returncode}")
        return result.stdout

    def made(self, who: Person, command: str) -> str:
        """Run a command that records something; the id it printed (full or 12 digits)."""
        out = self.run(who, command)
        found = HEX_ID.search(out) or SHORT_ID.search(out)
        if found is None:
            raise DemoFailure(f"samoorg {command} printed no id: {out!r}")
        return found.group()

    def json(self, who: Person, command: str) -> Any:
        """Run a command with ``--json`` quietly (for the checks); return the parsed JSON."""
        result = subprocess.run(
            cli_command(who.home, *shlex.split(command), "--json"),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise DemoFailure(f"{who.name}: samoorg {command}: {result.stderr.strip()}")
        return json.loads(result.stdout)

    def refused(self, who: Person, command: str) -> None:
        """Run a command the rules must refuse; it must print one ``error:`` line."""
        result = self._invoke(who, shlex.split(command))
        error = result.stdout.strip()
        if result.returncode == 0 or "\n" in error or not error.startswith("error: "):
            raise DemoFailure(
                f"expected a one-line refusal from samoorg {command}, "
                f"found exit {result.returncode}: {error!r}"
            )
        print(f"{INDENT}  (refused: exit code {result.returncode})")

    # Daemons ------------------------------------------------------------------

    def addresses(self) -> list[str]:
        """The addresses of every running daemon."""
        return [addr for p in self.online if p.node is not None for addr in p.node.addrs]

    def start(self, people: Sequence[Person]) -> None:
        """Start a daemon for each person, one after the other, each ready before the next.

        With ``mesh``, each dials every node already running (``--bootstrap``);
        without, nodes meet only through the addresses in invite codes.
        """
        for person in people:
            known = self.addresses() if self.mesh else []
            node = NodeProcess(person.home, listen="/ip4/127.0.0.1/tcp/0", bootstrap=known)
            try:
                node.start()
            except NodeError as exc:
                raise DemoFailure(str(exc)) from exc
            person.node = node
            person.listen = node.addrs[0].split("/p2p/")[0] if node.addrs else None
        self._since = time.monotonic()
        self._started = time.time()  # a restarted node's catch-up is timed from here

    def stop(self, person: Person) -> int:
        """Stop one person's daemon (SIGTERM, bounded); return its exit code."""
        node, person.node = person.node, None
        return node.stop() if node is not None else 0

    def detach(self, person: Person, timeout: float) -> int:
        """Restart ``person``'s stopped daemon in a session of its own, to outlive the demo.

        It listens on the address it had (peers remember it), logs to its
        ``node.log``; returns its pid once its API is published.
        """
        from samoorg.node.daemon_state import read_state

        listen = person.listen or "/ip4/127.0.0.1/tcp/0"
        log = (person.home / "node.log").open("a", encoding="utf-8")
        process = subprocess.Popen(
            cli_command(person.home, "node", "run", "--no-mdns", "--listen", listen),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = read_state(Home(person.home))
            if state is not None and state.get("api") and process.poll() is None:
                return process.pid
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise DemoFailure(f"{person.name}'s node did not start again (see its node.log)")

    def stop_everyone(self) -> dict[str, int]:
        """Stop every running daemon; return the exit codes by name."""
        online = self.online
        codes = stop_all([p.node for p in online if p.node is not None])
        for person in online:
            person.node = None
        return {p.name: code for p, code in zip(online, codes, strict=True)}

    # Convergence --------------------------------------------------------------

    def status(self, people: Sequence[Person], deadline: float) -> list[Status]:
        """``status --digests --json`` of every given node, run side by side."""
        children = [
            subprocess.Popen(
                cli_command(p.home, "status", "--digests", "--json"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for p in people
        ]
        answers: list[Status] = []
        try:
            for person, child in zip(people, children, strict=True):
                wait = max(deadline - time.monotonic(), COMMAND_TIMEOUT / 10)
                out, err = child.communicate(timeout=wait)
                if child.returncode != 0:
                    raise DemoFailure(f"{person.name}: samoorg status: {err.strip()}")
                parsed = json.loads(out)
                answers.append(Status(parsed["store"]["entries"], parsed["digests"]))
        except subprocess.TimeoutExpired as exc:
            raise DemoFailure("samoorg status did not answer in time") from exc
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        return answers

    def converge(self, label: str) -> Check:
        """Wait until every running node holds the same entries and views; record the check.

        Two steps, both bounded by ``timeout``: read each node's feed heads
        from its store every :data:`POLL_PAUSE` seconds (read-only queries,
        so replication is timed closely, from the newest entry's timestamp)
        until all are equal; then confirm with ``samoorg status --digests
        --json`` of every node that the views agree too.
        """
        people = self.online
        deadline = self._since + self.timeout
        shown_progress = False
        while True:
            looks = [_look(p) for p in people]
            origin = max(self._started, max(look.newest for look in looks) / 1000)
            seconds = max(0.0, time.time() - origin)
            if all(look.heads == looks[0].heads for look in looks):
                answers = self.status(people, deadline)
                if all(a == answers[0] for a in answers):
                    check = Check(label, len(people), answers[0].entries, seconds, passed=True)
                    self._report(check, answers[0].digests)
                    return check
            elif not shown_progress:
                known = _union(looks)
                counts = ", ".join(
                    f"{p.name} {look.entries}/{known}"
                    for p, look in zip(people, looks, strict=True)
                )
                print(f"{INDENT}  .. after {seconds:.2f} s: {counts} entries")
                shown_progress = True
            if time.monotonic() >= deadline:
                self._report_failure(label, people)
            time.sleep(POLL_PAUSE)

    def _report(self, check: Check, digests: dict[str, str]) -> None:
        changed = [
            f"{k} {v[:SHORT_DIGEST]}" for k, v in digests.items() if self._digests.get(k) != v
        ]
        self._digests = digests
        self.checks.append(check)
        print(
            f"{INDENT}  CONVERGED in {check.seconds or 0.0:.2f} s: {check.nodes} nodes, "
            f"{check.entries} entries, same view digests"
            + (f" (changed: {', '.join(changed)})" if changed else "")
        )

    def _report_failure(self, label: str, people: Sequence[Person]) -> None:
        self.checks.append(Check(label, len(people), -1, self.timeout, passed=False))
        answers = self.status(people, time.monotonic() + COMMAND_TIMEOUT)
        print(f"{INDENT}  NOT CONVERGED within {self.timeout:g} s:")
        for person, answer in zip(people, answers, strict=True):
            views = " ".join(f"{k} {v[:SHORT_DIGEST]}" for k, v in answer.digests.items())
            print(f"{INDENT}    {person.name:<6} {answer.entries:>3} entries  {views}")
        raise DemoFailure(f"the nodes did not converge after: {label}")

    def baseline(self) -> None:
        """Check that every running node starts with the same (empty) views."""
        answers = self.status(self.online, time.monotonic() + COMMAND_TIMEOUT)
        if any(a != answers[0] for a in answers):
            raise DemoFailure(f"the nodes start with different views: {answers}")
        self._digests = answers[0].digests
        print(f"{INDENT}{len(answers)} nodes, {answers[0].entries} entries, same view digests")

    def same_as_network(self, person: Person, label: str) -> None:
        """Check that ``person``'s node (no daemon) shows the network's last converged state."""
        answer = self.status([person], time.monotonic() + COMMAND_TIMEOUT)[0]
        entries = self.checks[-1].entries if self.checks else -1
        passed = answer.entries == entries and answer.digests == self._digests
        self.checks.append(Check(label, 1, answer.entries, None, passed))
        if not passed:
            raise DemoFailure(f"{label} differs from the network: {answer}")
        print(
            f"{INDENT}  SAME STATE: {label} holds the network's {entries} entries and view digests"
        )

    def logs_clean(self) -> dict[str, bool]:
        """Whether each daemon's log is free of tracebacks."""
        return {
            name: "Traceback" not in _read(person.home / "node.log")
            for name, person in self.people.items()
        }


def _shown(arg: str) -> str:
    if arg.startswith("samoorg-invite:"):  # long, and alike at the start
        return f"samoorg-invite:...{arg[-SHOWN_ARG:]}"
    return shlex.quote(arg)


@dataclass
class Look:
    """A node's feed heads, read from its store, and the time of its newest head entry."""

    heads: list[FeedHead]
    newest: int
    """Milliseconds, the entry timestamp (0 for an empty store)."""

    @property
    def entries(self) -> int:
        """How many entries the node holds (feeds are held as unbroken prefixes)."""
        return sum(head.seq for head in self.heads)


def _look(person: Person) -> Look:
    """Read ``person``'s feed heads (read-only queries; the daemon keeps writing)."""
    with Store(Home(person.home).store_file) as store:
        heads = store.heads()
        times = [store.get(h.author, h.seq) for h in heads]
        return Look(heads, max((e.timestamp for e in times if e is not None), default=0))


def _union(looks: Sequence[Look]) -> int:
    """How many entries the nodes hold together (the longest prefix of each feed)."""
    longest: dict[bytes, int] = {}
    for look in looks:
        for head in look.heads:
            longest[head.author] = max(longest.get(head.author, 0), head.seq)
    return sum(longest.values())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
