"""The social story end to end through the CLI: several homes exchanging bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samoorg.node import store
from tests.conftest import CliRunner


class Community:
    """Homes under one temporary folder, exchanging bundles through files."""

    def __init__(self, root: Path, cli: CliRunner, names: list[str]) -> None:
        self.root, self.cli = root, cli
        self.ids: dict[str, str] = {}
        for name in names:
            self.ok(name, "init")
            self.ids[name] = self.ok(name, "whoami").strip()

    def run(self, name: str, *args: str):  # type: ignore[no-untyped-def]
        return self.cli(self.root / name, *args)

    def ok(self, name: str, *args: str) -> str:
        result = self.run(name, *args)
        assert result.code == 0, (args, result.err)
        return result.out

    def refused(self, name: str, *args: str) -> str:
        result = self.run(name, *args)
        assert result.code == 1, (args, result.out)
        assert result.err.count("\n") == 1
        assert result.err.startswith("error: ")
        return result.err

    def json(self, name: str, *args: str):  # type: ignore[no-untyped-def]
        return json.loads(self.ok(name, *args, "--json"))

    def sync(self, *names: str) -> None:
        """Everyone in ``names`` ends up holding everyone's entries."""
        bundles = []
        for name in names:
            path = self.root / f"{name}.bundle"
            self.ok(name, "export", str(path))
            bundles.append(path)
        for name in names:
            for path in bundles:
                self.ok(name, "import", str(path))

    def befriend(self, inviter: str, invitee: str) -> None:
        code = self.ok(inviter, "invite", "create", "--amount", "100", "--currency", "EUR")
        self.sync(inviter, invitee)
        self.ok(invitee, "invite", "accept", code.split()[0])


def last_word(text: str) -> str:
    return text.rsplit(maxsplit=1)[-1]


def test_forum_ratings_utility_distribution_and_poll(tmp_path: Path, cli: CliRunner) -> None:
    homes = ["alice", "bob", "carol", "dave", "sybil1", "sybil2", "sybil3"]
    c = Community(tmp_path, cli, homes)
    c.befriend("alice", "bob")
    c.befriend("bob", "carol")
    c.befriend("alice", "dave")
    c.sync(*homes)

    # Forum: an idea, a comment, ratings of the idea and of people.
    idea = last_word(c.ok("carol", "idea", "post", "Portal of goods", "--body", "A catalogue."))
    c.sync(*homes)
    comment = last_word(c.ok("alice", "comment", idea[:10], "I can help build it"))
    assert len(comment) == 64
    c.ok("alice", "rate", idea[:8], "5", "--comment", "let's do it")
    c.ok("bob", "rate", idea, "4")
    c.ok("bob", "rate", c.ids["alice"][-8:], "3")  # a unique suffix of a participant id
    c.ok("dave", "rate", c.ids["bob"], "2")
    c.ok("dave", "rate", c.ids["bob"], "4")  # revised: the latest counts
    c.ok("alice", "rate", c.ids["dave"], "1")
    assert "own idea" in c.refused("carol", "rate", idea, "5")
    assert "themselves" in c.refused("bob", "rate", c.ids["bob"], "5")
    assert "0..5" in c.refused("bob", "rate", c.ids["carol"], "6")
    c.sync("alice", "bob")
    assert "expected the id of a forum.idea entry" in c.refused("bob", "rate", comment[:10], "5")

    # A ring of accounts outside the trust list rates itself and dave at the top.
    for rater in ("sybil1", "sybil2", "sybil3"):
        for other in ("sybil1", "sybil2", "sybil3", "dave"):
            if other != rater:
                c.ok(rater, "rate", c.ids[other], "5")
    c.sync(*homes)

    views = {name: c.json(name, "utility") for name in ("alice", "bob", "carol", "dave")}
    assert len({json.dumps(v, sort_keys=True) for v in views.values()}) == 1  # same on every node
    utility = {row["id"]: row for row in views["alice"]["members"]}
    assert set(utility) == {c.ids[n] for n in ("alice", "bob", "carol", "dave")}
    assert utility[c.ids["carol"]]["utility"] > 0  # credited through her idea
    assert views["alice"]["converged"] is True
    # The ring gains nothing: dropping its ratings changes no one's utility.
    outsider = c.json("sybil1", "utility")
    assert [row["id"] for row in outsider["members"]] == [c.ids["sybil1"]]

    shares = c.json("bob", "distribute", "1000.01", "EUR")
    assert shares["amount"] == "1000.01"
    assert sum(int(s["share"].replace(".", "")) for s in shares["shares"]) == 100001
    assert {s["id"] for s in shares["shares"]} == set(utility)
    table = c.ok("bob", "distribute", "10", "EUR")
    assert "total 10.00 EUR" in table

    ideas = c.json("dave", "idea", "list", "--sort", "utility")
    assert (ideas[0]["id"], ideas[0]["ratings"], ideas[0]["comments"]) == (idea, 2, 1)
    shown = c.json("dave", "idea", "show", idea[:12])
    assert {r["score"] for r in shown["rating_list"]} == {4, 5}
    assert shown["comment_list"][0]["text"] == "I can help build it"
    assert "Portal of goods" in c.ok("dave", "idea", "show", idea[:12])

    # A poll to choose a spokesperson: one vote per trust-list member.
    poll = last_word(
        c.ok("alice", "poll", "new", "Spokesperson?", "--option", "bob", "--option", "carol")
    )
    c.sync(*homes)
    c.ok("bob", "vote", poll[:8], "carol")
    c.ok("carol", "vote", poll[:8], "1")
    c.ok("carol", "vote", poll[:8], "2")  # changed her mind
    c.ok("dave", "vote", poll[:8], "carol")
    c.ok("sybil1", "vote", poll[:8], "bob")  # not counted: outside the trust list
    assert "1..2" in c.refused("bob", "vote", poll[:8], "3")
    c.sync(*homes)
    result = c.json("alice", "poll", "show", poll[:8])
    assert [o["votes"] for o in result["options"]] == [0, 3]
    assert result["leading"] == ["carol"]
    assert result["votes_not_counted"] == 1
    assert c.json("carol", "poll", "list")[0]["id"] == poll
    assert "leading: carol" in c.ok("bob", "poll", "show", poll[:8])


def test_polls_close_and_distribution_needs_utility(
    tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = Community(tmp_path, cli, ["alice"])
    poll = last_word(
        c.ok("alice", "poll", "new", "Q?", "--option", "a", "--option", "b", "--closes", "1h")
    )
    c.ok("alice", "vote", poll[:8], "a")
    later = store.now_ms() + 2 * 3_600_000
    monkeypatch.setattr(store, "now_ms", lambda: later)
    assert "closed" in c.refused("alice", "vote", poll[:8], "b")
    shown = c.json("alice", "poll", "show", poll[:8])
    assert shown["open"] is False
    assert [o["votes"] for o in shown["options"]] == [1, 0]
    assert "no member of the trust list has any utility" in c.refused(
        "alice", "distribute", "100", "EUR"
    )
    assert "future" in c.refused(
        "alice", "poll", "new", "Late?", "--option", "a", "--option", "b", "--closes", "2001-01-01"
    )
    assert "distinct" in c.refused("alice", "poll", "new", "Q", "--option", "a", "--option", "a")
    assert "unknown currency" in c.refused("alice", "distribute", "100", "XYZ")
