"""Regenerate the sessions of docs/user-guide.md by running them (``make guide``).

Every console block of the guide is the real output of real ``samoorg``
processes, run in fresh homes. Its source is the HTML comment just above it
(invisible on a rendered page)::

    <!-- session identity
    $ samoorg --home alice init
    -->
    ```console
    (generated: each $ line and what it printed, stdout and stderr)
    ```

Blocks with the same session name share one folder of homes, in the order
they appear; sessions run side by side. Lines of a source comment:

* ``$ COMMAND``: run with bash in the session folder, shown with its output
  (``samoorg`` on the PATH is :mod:`guide_cli`: the real CLI with a fixed
  clock and seeded keys). A ``node run`` command starts a daemon that keeps
  running: shown is what it printed until ``ready``;
* ``> COMMAND``: run the same way but not shown (set-up); it must succeed;
* an empty line: an empty line in the block;
* ``@var NAME REGEX``: ``NAME`` is what REGEX matched in the last command's
  output (group 1 if it has one). ``$NAME`` in a command is expanded by bash
  (shown as typed); ``{NAME}``, ``{NAME:8}`` (first 8 characters) and
  ``{NAME:-12}`` (last 12) are replaced before the command is shown;
* ``@share HOME...``: afterwards every one of those homes holds the feeds
  any of them held (real ``export`` and ``import`` of one bundle passed along);
* ``@send FROM HOME...``: FROM exports a bundle and each HOME imports it;
* ``@wait HOME...``: until those homes hold the same feeds (bounded);
* ``@stop HOME``: SIGTERM to that home's daemon, which must exit 0;
* ``@log HOME [REGEX]``: stop that daemon (if still running) and show its
  stderr log, the lines matching REGEX, without the time that starts each;
* ``@unsigned FILE``: write a bundle of Mallory's feed whose entry 2 carries
  a garbage signature that entry 3 signs over (no command writes that).

Every command advances the session's clock by one second, so every run
prints the same ids, times and digests. What still differs per run
(daemon ports and pids, the session folder, sync durations, log times, the
secret of a ``samoorg web`` link) is
replaced by stable stand-ins, the same way on every run.

``--check`` exits 1 (with a diff) if the committed guide differs from a
fresh run; ``tests/test_user_guide.py`` does the same.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hashlib
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "user-guide.md"
LAUNCHER = Path(__file__).resolve().parent / "guide_cli.py"

START_MS = 1_795_849_200_000
"""2026-11-28 07:00:00 UTC: every session's clock starts here."""
STEP_MS = 1000
"""How far each command moves a session's clock."""
COLUMNS = 120
"""Terminal width the commands see (tables are laid out for it)."""
SHOWN_ROOT = "/tmp/guide"
"""The session folder, as the guide shows it."""
FIRST_PORT = 41001
FIRST_PID = 4101
COMMAND_TIMEOUT = 60.0
"""Seconds one command, one daemon start or one wait may take."""
SETTLE = 1.5
"""Seconds for daemons to publish their state (every 0.5 s) after a wait."""
WORKERS = 3
"""Sessions run at the same time."""

BLOCK = re.compile(
    r"<!-- session (?P<name>[\w-]+)\n(?P<source>.*?)-->\n```console\n(?P<output>.*?)```\n",
    re.DOTALL,
)
DAEMON = re.compile(r"\bnode run\b")
LISTENING = re.compile(r"127\.0\.0\.1(?:/tcp/|:)(\d+)")
"""A port a daemon prints: in a multiaddr (``/ip4/127.0.0.1/tcp/P``) or a URL."""
SUBSTITUTION = re.compile(r"\{([A-Z][A-Z0-9_]*)(?::(-?\d+))?\}")
DURATION = re.compile(r"\bin \d+\.\d\d s\b")
LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ")
INVITE_CODE = re.compile(r"samoorg-invite:[1-9A-HJ-NP-Za-km-z]+")
LOGIN_SECRET = re.compile(r"once=[A-Za-z0-9_-]+")
"""The one-time secret of a ``samoorg web`` link (random on every run)."""
SHOWN_SECRET = "once=Q2FtZS1mcm9tLXNhbW9vcmctd2ViLWd1aWRlLXNlc3Npb24"


class GuideError(Exception):
    """A session could not be run as its source says."""


@dataclass(frozen=True)
class Block:
    """One generated console block: its session and source lines."""

    session: str
    source: tuple[str, ...]


@dataclass
class Daemon:
    """A ``node run`` started by a session."""

    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Session:
    """The homes of one session, its clock, variables and daemons."""

    name: str
    folder: Path
    shim: Path
    clock: int = START_MS
    count: int = 0
    last: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    daemons: dict[str, Daemon] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)
    pids: dict[str, str] = field(default_factory=dict)

    # Running ----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of the next command, with the clock moved on."""
        self.clock += STEP_MS
        self.count += 1
        # A small environment of our own: nothing of the caller's (SAMOORG_HOME,
        # FORCE_COLOR, a locale) may change what the commands print.
        return {
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            **self.variables,
            "PATH": f"{self.shim}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "COLUMNS": str(COLUMNS),
            "LINES": "50",
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",
            "SAMOORG_GUIDE_NOW_MS": str(self.clock),
            "SAMOORG_GUIDE_SEED": f"{self.name}/{self.count}",
            # The command's own clock and seed: a running daemon would sign the
            # writes with its own (the output is the same either way, see
            # tests/test_cli_daemon*.py, but the ids would change from run to run).
            "SAMOORG_OFFLINE": "1",
        }

    def shell(self, command: str) -> tuple[int, str]:
        """Run one command line with bash; its exit code and its output (both streams)."""
        try:
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=self.folder,
                env=self.env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GuideError(f"{self.name}: {command!r} took over {COMMAND_TIMEOUT:g} s") from exc
        self.last = done.stdout
        return done.returncode, done.stdout

    def hidden(self, command: str) -> None:
        code, out = self.shell(command)
        if code != 0:
            raise GuideError(f"{self.name}: set-up {command!r} failed ({code}): {out.strip()}")

    def start_daemon(self, command: str) -> list[str]:
        """Start ``node run``; return what it printed until ``ready`` (or until it exited)."""
        home = _home_of(command)
        out, log = (self.folder / f"{home}.{self.count}.{name}" for name in ("out", "log"))
        with out.open("wb") as stdout, log.open("wb") as stderr:
            process = subprocess.Popen(
                ["bash", "-c", f"exec {command.removesuffix('&').strip()}"],
                cwd=self.folder,
                env=self.env(),
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
        printed = _wait_ready(process, out, COMMAND_TIMEOUT)
        if printed[-1:] != ["ready"]:  # it exited: show why, as a terminal would
            return printed + _output_lines(log.read_text(encoding="utf-8"))
        self.daemons[home] = Daemon(process, log)
        self.pids[str(process.pid)] = str(FIRST_PID + len(self.pids))
        for line in printed:
            for port in LISTENING.findall(line):
                if port not in self.ports:
                    self.ports[port] = str(FIRST_PORT + len(self.ports))
        return printed

    def stop(self, home: str) -> None:
        daemon = self.daemons[home]
        daemon.process.send_signal(signal.SIGTERM)
        try:
            code = daemon.process.wait(COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            daemon.process.wait()
            raise GuideError(f"{self.name}: {home}'s daemon did not stop") from None
        if code != 0:
            raise GuideError(f"{self.name}: {home}'s daemon exited with {code}")

    def stop_all(self) -> None:
        for daemon in self.daemons.values():
            if daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait()

    def substitute(self, line: str) -> str:
        def value(match: re.Match[str]) -> str:
            name, cut = match.group(1), match.group(2)
            if name not in self.variables:
                raise GuideError(f"{self.name}: no variable {name} (set it with @var)")
            text = self.variables[name]
            if cut is None:
                return text
            size = int(cut)
            return text[size:] if size < 0 else text[:size]

        return SUBSTITUTION.sub(value, line)

    # Blocks -----------------------------------------------------------------

    def run(self, block: Block) -> str:
        """Run a block's source; return the block's text."""
        shown: list[str] = []
        for raw in block.source:
            line = self.substitute(raw)
            if not line.strip():
                shown.append("")
            elif line.startswith("$ "):
                command = line[2:]
                shown.append(line)
                if DAEMON.search(command):
                    shown += self.start_daemon(command)
                else:
                    shown += _output_lines(self.shell(command)[1])
            elif line.startswith("> "):
                self.hidden(line[2:])
            elif line.startswith("@"):
                shown += self.directive(line[1:].split(maxsplit=2))
            else:
                raise GuideError(f"{self.name}: cannot read source line {raw!r}")
        return "".join(f"{self.normalize(line)}\n" for line in shown)

    def directive(self, words: list[str]) -> list[str]:
        """Run one ``@`` line; return what it adds to the block."""
        name, args = words[0], words[1:]
        if name == "var":
            found = re.search(args[1], self.last, re.MULTILINE)
            if found is None:
                raise GuideError(f"{self.name}: @var {args[0]}: no match in {self.last!r}")
            self.variables[args[0]] = found.group(1 if found.groups() else 0)
        elif name == "share":
            homes = " ".join(args).split()
            # Each home adds its feeds to a bundle passed along; then all take the last.
            for n, home in enumerate(homes):
                if n:
                    self.hidden(f"samoorg --home {home} import shared.bundle")
                self.hidden(f"samoorg --home {home} export shared.bundle")
            for home in homes[:-1]:
                self.hidden(f"samoorg --home {home} import shared.bundle")
        elif name == "send":
            source, *targets = " ".join(args).split()
            self.hidden(f"samoorg --home {source} export {source}.bundle")
            for target in targets:
                self.hidden(f"samoorg --home {target} import {source}.bundle")
        elif name == "wait":
            args = " ".join(args).split()
            _wait_same_feeds([self.folder / home for home in args], COMMAND_TIMEOUT)
            time.sleep(SETTLE)  # until the daemons' state files show it too
        elif name == "stop":
            self.stop(args[0])
        elif name == "log":
            if self.daemons[args[0]].process.poll() is None:
                self.stop(args[0])
            text = self.daemons[args[0]].log.read_text(encoding="utf-8")
            wanted = re.compile(args[1]) if len(args) > 1 else None
            return [
                LOG_TIME.sub("", line)
                for line in text.splitlines()
                if wanted is None or wanted.search(line)
            ]
        elif name == "unsigned":
            _write_unsigned_bundle(self.folder / args[0], f"{self.name}/mallory")
        else:
            raise GuideError(f"{self.name}: unknown directive @{name}")
        return []

    def normalize(self, line: str) -> str:
        """Replace what differs on every run by stable stand-ins."""
        line = line.replace(str(self.folder), SHOWN_ROOT).rstrip()
        line = self._ports(INVITE_CODE.sub(lambda m: self._code(m.group()), line))
        line = LOGIN_SECRET.sub(SHOWN_SECRET, line)
        if self.pids:  # one pass, so that a stand-in is never replaced again
            line = re.sub(
                r"(pid\"?:? )(\d+)",
                lambda m: m.group(1) + self.pids.get(m.group(2), m.group(2)),
                line,
            )
        return DURATION.sub("in 0.25 s", line)

    def _code(self, text: str) -> str:
        """An invite code with the daemon ports it carries replaced (still a valid code)."""
        if not self.ports:
            return text
        from samoorg.protocol.invite_code import parse_invite_code

        code = parse_invite_code(text)
        addrs = tuple(self._ports(addr) for addr in code.addrs)
        return dataclasses.replace(code, addrs=addrs).format()

    def _ports(self, text: str) -> str:
        if not self.ports:
            return text
        return re.sub(r"(?<!\d)\d{2,5}(?!\d)", lambda m: self.ports.get(m.group(), m.group()), text)


def _home_of(command: str) -> str:
    words = shlex.split(command)
    if "--home" not in words:
        raise GuideError(f"expected --home HOME in {command!r}")
    return words[words.index("--home") + 1]


def _output_lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _wait_ready(process: subprocess.Popen[bytes], out: Path, timeout: float) -> list[str]:
    """The lines a daemon printed up to ``ready``, or all of them if it exited first."""
    deadline = time.monotonic() + timeout
    while True:
        exited = process.poll() is not None
        lines = _output_lines(out.read_text(encoding="utf-8", errors="replace"))
        if "ready" in lines:
            return lines[: lines.index("ready") + 1]
        if exited:
            return lines
        if time.monotonic() >= deadline:
            process.kill()
            process.wait()
            raise GuideError(f"the daemon did not print ready within {timeout:g} s")
        time.sleep(0.05)


def _wait_same_feeds(homes: Sequence[Path], timeout: float) -> None:
    """Return once every home's store holds the same feed heads."""
    from samoorg.node.home import Home
    from samoorg.node.store import Store

    deadline = time.monotonic() + timeout
    while True:
        heads = []
        for home in homes:
            with Store(Home(home).store_file) as store:
                heads.append(sorted((h.author, h.seq) for h in store.heads()))
        if all(h == heads[0] for h in heads):
            return
        if time.monotonic() >= deadline:
            raise GuideError(f"{[h.name for h in homes]} did not converge in {timeout:g} s")
        time.sleep(0.1)


def _write_unsigned_bundle(path: Path, seed: str) -> None:
    """Mallory's feed of 4 entries: #2 has a garbage signature, #3 signs over it."""
    from samoorg.protocol.bundle import Record, RecordType, encode_bundle
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.entry import create_entry, decode_entry

    mallory = Signer(hashlib.sha256(seed.encode()).digest())
    entries = []
    for seq in range(1, 5):
        entry = create_entry(
            mallory,
            seq=seq,
            prev=entries[-1].id if entries else None,
            timestamp=START_MS + seq * STEP_MS,
            kind="forum.comment" if seq > 1 else "forum.idea",
            body={"title": "Free bikes", "text": "Ask me"} if seq == 1 else {"text": f"#{seq}"},
        )
        if seq == 2:
            entry = decode_entry(entry.raw[:-64] + b"\x01" * 64, verify_signature=False)
        entries.append(entry)
    path.write_bytes(encode_bundle(Record(RecordType.ENTRY, e.raw) for e in entries))


# The document ------------------------------------------------------------------


def blocks(text: str) -> list[Block]:
    """Every generated block of the guide, in order."""
    return [
        Block(m.group("name"), tuple(m.group("source").splitlines())) for m in BLOCK.finditer(text)
    ]


DIRECTIVES = frozenset({"var", "share", "send", "wait", "stop", "log", "unsigned"})


def check_sources(text: str) -> list[str]:
    """Mistakes in the blocks' sources found without running them (one line each)."""
    problems: list[str] = []
    known: dict[str, set[str]] = {}
    for block in blocks(text):
        names = known.setdefault(block.session, set())
        for line in block.source:
            where = f"session {block.session}: {line!r}"
            if line.startswith("@"):
                words = line[1:].split(maxsplit=2)
                if not words or words[0] not in DIRECTIVES:
                    problems.append(f"{where}: unknown directive")
                elif words[0] == "var":
                    names.add(words[1] if len(words) > 1 else "")
            elif line.strip() and not line.startswith(("$ ", "> ")):
                problems.append(f"{where}: expected '$ ', '> ', '@' or an empty line")
            for used in SUBSTITUTION.findall(line):
                if used[0] not in names:
                    problems.append(f"{where}: {{{used[0]}}} is used before any @var sets it")
    return problems


def _shim(root: Path) -> Path:
    """A folder whose ``samoorg`` runs :mod:`guide_cli` with this interpreter."""
    folder = root / "bin"
    folder.mkdir()
    script = folder / "samoorg"
    script.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(LAUNCHER))} "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return folder


def _run_session(name: str, session_blocks: list[Block], root: Path, shim: Path) -> list[str]:
    folder = root / name
    folder.mkdir()
    session = Session(name, folder, shim)
    try:
        return [session.run(block) for block in session_blocks]
    finally:
        session.stop_all()


def render(text: str, workers: int = WORKERS) -> str:
    """The guide ``text`` with every console block regenerated from its source."""
    found = blocks(text)
    names = list(dict.fromkeys(block.session for block in found))
    with (
        tempfile.TemporaryDirectory(prefix="samoorg-guide-") as tmp,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        shim = _shim(Path(tmp))
        futures = {
            name: pool.submit(
                _run_session, name, [b for b in found if b.session == name], Path(tmp), shim
            )
            for name in names
        }
        outputs = {name: iter(future.result()) for name, future in futures.items()}
    rendered = iter([next(outputs[block.session]) for block in found])

    def replace(match: re.Match[str]) -> str:
        head = match.group(0)[: match.start("output") - match.start(0)]
        return f"{head}{next(rendered)}```\n"

    return BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    parser.add_argument("--workers", type=int, default=WORKERS, help="sessions run at once")
    args = parser.parse_args(argv)
    committed = GUIDE.read_text(encoding="utf-8")
    problems = check_sources(committed)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    began = time.monotonic()
    fresh = render(committed, args.workers)
    seconds = time.monotonic() - began
    if args.check:
        if fresh != committed:
            sys.stdout.writelines(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    fresh.splitlines(keepends=True),
                    "docs/user-guide.md (committed)",
                    "docs/user-guide.md (regenerated)",
                )
            )
            print(f"\nthe guide is stale: run 'make guide' ({seconds:.0f} s)", file=sys.stderr)
            return 1
        print(f"docs/user-guide.md is up to date ({seconds:.0f} s)")
        return 0
    GUIDE.write_text(fresh, encoding="utf-8")
    print(f"wrote docs/user-guide.md: {len(blocks(fresh))} sessions blocks in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
