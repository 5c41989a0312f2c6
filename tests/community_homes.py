"""Helpers for CLI tests with several homes that exchange bundles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.node.indexer import load_index
from samoorg.node.keystore import load_signer
from samoorg.node.store import Store
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry
from samoorg.protocol.invite_code import parse_invite_code
from tests.conftest import CliRunner


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A settable clock for the CLI (``clock[0]`` is now, in ms; each reading ticks 1 ms)."""
    now = [1_760_000_000_000]

    def tick() -> int:
        now[0] += 1
        return now[0]

    monkeypatch.setattr("samoorg.node.store.now_ms", tick)
    return now


class Homes:
    """Named homes under one temporary folder, driven through the CLI."""

    def __init__(self, cli: CliRunner, root: Path, *names: str) -> None:
        self.cli = cli
        self.root = root
        self.ids: dict[str, str] = {}
        self.marks: dict[str, str] = {}
        """Ids a test or fixture wants to remember by name."""
        for name in names:
            assert cli(root / name, "init").code == 0
            self.ids[name] = json.loads(cli(root / name, "whoami", "--json").out)["id"]

    def run(self, name: str, *args: str) -> str:
        """Run a command that must succeed; return its stdout."""
        result = self.cli(self.root / name, *args)
        assert result.code == 0, f"{name} {' '.join(args)}: {result.err}"
        return result.out

    def json(self, name: str, *args: str) -> Any:
        """Run a command with ``--json`` and parse its output."""
        return json.loads(self.run(name, *args, "--json"))

    def items(self, name: str, *args: str) -> list[Any]:
        """Every item of a listing command (``--all --json``, the page's items)."""
        page = self.json(name, *args, "--all")
        assert page["next_cursor"] is None
        return list(page["items"])

    def refused(self, name: str, *args: str) -> str:
        """Run a command that a rule must refuse (exit 1); return its one error line."""
        return self._failed(1, name, *args)

    def misused(self, name: str, *args: str) -> str:
        """Run a command with bad usage (exit 2); return its one error line."""
        return self._failed(2, name, *args)

    def _failed(self, code: int, name: str, *args: str) -> str:
        before = self.count(name)
        result = self.cli(self.root / name, *args)
        assert result.code == code, f"expected exit {code}, got {result.code}: {result.err}"
        assert result.err.count("\n") == 1, result.err
        assert result.err.startswith("error: ")
        assert self.count(name) == before, "a refused command stored something"
        return result.err[len("error: ") :].strip()

    def count(self, name: str) -> int:
        """Entries stored in a home."""
        with Store(self.root / name / "store.sqlite") as store:
            return store.stats().entries

    def sync(self, *names: str) -> None:
        """Every home exports a bundle, every other home imports it."""
        for name in names:
            assert self.cli(self.root / name, "export", str(self.root / f"{name}.bundle")).code == 0
        for source in names:
            for target in names:
                if source != target:
                    result = self.cli(
                        self.root / target, "import", str(self.root / f"{source}.bundle")
                    )
                    assert result.code == 0, result.err

    def force(self, name: str, kind: str, body: dict[str, dcbor.Value], **kw: int) -> Entry:
        """Sign and store an entry with no rule checks: what a faulty or hostile peer writes."""
        signer = load_signer(self.root / name / "identity.key", lambda: "")
        with Store(self.root / name / "store.sqlite") as store:
            return store.append(signer, kind, body, **kw)

    def views(self, name: str) -> Views:
        """The views of a home, loaded straight from its store."""
        with Store(self.root / name / "store.sqlite") as store:
            index: EntryIndex = load_index(store)
        return Views(index)

    def invalid(self, name: str) -> dict[str, str]:
        """``samoorg log --invalid --json`` as ``{entry id: reason}``."""
        rows = self.items(name, "log", "--invalid")
        return {row["id"]: row["invalid"] for row in rows}


def invite(homes: Homes, inviter: str, invitee: str, amount: str = "100") -> str:
    """``inviter`` invites ``invitee``, who accepts after syncing; returns the invite id."""
    code = homes.run(inviter, "invite", "create", "--amount", amount, "--currency", "EUR").strip()
    homes.sync(inviter, invitee)
    homes.run(invitee, "invite", "accept", code)
    return parse_invite_code(code).invite.hex()


def exchange(homes: Homes, source: str, target: str) -> int:
    """``source`` exports a bundle, ``target`` imports it; the import's exit code."""
    bundle = homes.root / f"{source}.bundle"
    assert homes.cli(homes.root / source, "export", str(bundle)).code == 0
    return homes.cli(homes.root / target, "import", str(bundle)).code


def chain_with_commitment(tmp_path: Path, cli: CliRunner) -> tuple[Homes, str, str]:
    """alice invites bob, bob invites carol, bob commits 20 EUR to carol, all synced:
    the homes, carol's id and the pledge's id."""
    homes = Homes(cli, tmp_path, "alice", "bob", "carol")
    invite(homes, "alice", "bob")
    invite(homes, "bob", "carol")
    homes.sync("alice", "bob", "carol")
    carol = homes.ids["carol"]
    pledge = homes.json("bob", "pledge", "intend", "20", "EUR", "--to", carol)["id"]
    homes.run("bob", "pledge", "commit", pledge, "--yes")
    homes.sync("alice", "bob", "carol")
    return homes, carol, str(pledge)


def backed_up(homes: Homes, name: str) -> tuple[Path, dict[str, Any]]:
    """``name`` writes its backup to ``ROOT/NAME.backup``: the file and the ``--json`` answer."""
    file = homes.root / f"{name}.backup"
    return file, homes.json(name, "backup", str(file))


def restore_refused(cli: CliRunner, root: Path, file: Path) -> str:
    """A restore of ``file`` that must be refused: exit 1, one line, no home, no leftovers."""
    before = sorted(p.name for p in root.iterdir())
    result = cli(root / "restored", "restore", str(file))
    assert result.code == 1, f"expected exit 1, got {result.code}: {result.err}"
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("error: ")
    assert not (root / "restored").exists()
    assert sorted(p.name for p in root.iterdir()) == before, "a refused restore left files"
    return result.err[len("error: ") :].strip()
