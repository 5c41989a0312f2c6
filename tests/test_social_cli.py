"""The social story end to end through the CLI: several homes exchanging bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samoorg.crdt.kinds import forum, polls, ratings
from samoorg.node import store
from samoorg.protocol.ids import parse_peer_id
from tests.community_homes import Homes, invite
from tests.conftest import CliRunner

DAY = 86_400_000


def last_word(text: str) -> str:
    return text.rsplit(maxsplit=1)[-1]


def test_forum_ratings_utility_distribution_and_poll(tmp_path: Path, cli: CliRunner) -> None:
    homes = ["alice", "bob", "carol", "dave", "sybil1", "sybil2", "sybil3"]
    c = Homes(cli, tmp_path, *homes)
    invite(c, "alice", "bob")
    invite(c, "bob", "carol")
    invite(c, "alice", "dave")
    c.sync(*homes)

    # Forum: an idea, a comment, ratings of the idea and of people.
    idea = last_word(c.run("carol", "idea", "post", "Portal of goods", "--body", "A catalogue."))
    c.sync(*homes)
    comment = last_word(c.run("alice", "comment", idea[:10], "I can help build it"))
    assert len(comment) == 64
    c.run("alice", "rate", idea[:8], "5", "--comment", "let's do it")
    c.run("bob", "rate", idea, "4")
    c.run("bob", "rate", c.ids["alice"][-8:], "3")  # a unique suffix of a participant id
    c.run("dave", "rate", c.ids["bob"], "2")
    c.run("dave", "rate", c.ids["bob"], "4")  # revised: the latest counts
    c.run("alice", "rate", c.ids["dave"], "1")
    assert "own idea" in c.refused("carol", "rate", idea, "5")
    assert "themselves" in c.refused("bob", "rate", c.ids["bob"], "5")
    assert "0..5" in c.refused("bob", "rate", c.ids["carol"], "6")
    c.sync("alice", "bob")
    assert "expected the id of a forum.idea entry" in c.refused("bob", "rate", comment[:10], "5")

    # A ring of accounts outside the trust list rates itself and dave at the top.
    for rater in ("sybil1", "sybil2", "sybil3"):
        for other in ("sybil1", "sybil2", "sybil3", "dave"):
            if other != rater:
                c.run(rater, "rate", c.ids[other], "5")
    c.sync(*homes)

    views = {name: c.json(name, "utility") for name in ("alice", "bob", "carol", "dave")}
    assert len({json.dumps(v, sort_keys=True) for v in views.values()}) == 1  # same on every node
    utility = {row["id"]: row for row in views["alice"]["items"]}
    assert set(utility) == {c.ids[n] for n in ("alice", "bob", "carol", "dave")}
    assert utility[c.ids["carol"]]["utility"] > 0  # credited through her idea
    assert views["alice"]["converged"] is True
    assert (views["alice"]["total"], views["alice"]["next_cursor"]) == (4, None)
    first = c.json("alice", "utility", "--limit", "3")
    assert first["items"] == views["alice"]["items"][:3]
    rest = c.json("alice", "utility", "--cursor", first["next_cursor"])
    assert rest["items"] == views["alice"]["items"][3:]
    assert "(showing 3; next page: samoorg utility --cursor" in c.run(
        "alice", "utility", "--limit", "3"
    )
    rows = c.items("alice", "ratings")
    rated = {(r["rater"], r["about"], r["subject"]): r["score"] for r in rows}
    assert rated[c.ids["dave"], "member", c.ids["bob"]] == 4  # the latest of dave's two
    assert rated[c.ids["alice"], "idea", idea] == 5
    assert c.json("alice", "ratings", "--limit", "2")["items"] == rows[:2]
    # The ring gains nothing: dropping its ratings changes no one's utility.
    outsider = c.json("sybil1", "utility")
    assert [row["id"] for row in outsider["items"]] == [c.ids["sybil1"]]

    shares = c.json("bob", "distribute", "1000.01", "EUR")
    assert shares["amount"] == "1000.01"
    assert sum(int(s["share"].replace(".", "")) for s in shares["shares"]) == 100001
    assert {s["id"] for s in shares["shares"]} == set(utility)
    table = c.run("bob", "distribute", "10", "EUR")
    assert "total 10.00 EUR" in table

    ideas = c.items("dave", "idea", "list", "--sort", "utility")
    assert (ideas[0]["id"], ideas[0]["ratings"], ideas[0]["comments"]) == (idea, 2, 1)
    shown = c.json("dave", "idea", "show", idea[:12])
    assert {r["score"] for r in shown["rating_list"]} == {4, 5}
    assert shown["comment_list"][0]["text"] == "I can help build it"
    assert "Portal of goods" in c.run("dave", "idea", "show", idea[:12])

    # A poll to choose a spokesperson: one vote per trust-list member.
    poll = last_word(
        c.run("alice", "poll", "new", "Spokesperson?", "--option", "bob", "--option", "carol")
    )
    c.sync(*homes)
    c.run("bob", "vote", poll[:8], "carol")
    c.run("carol", "vote", poll[:8], "1")
    c.run("carol", "vote", poll[:8], "2")  # changed her mind
    c.run("dave", "vote", poll[:8], "carol")
    c.run("sybil1", "vote", poll[:8], "bob")  # not counted: outside the trust list
    assert "1..2" in c.refused("bob", "vote", poll[:8], "3")
    c.sync(*homes)
    result = c.json("alice", "poll", "show", poll[:8])
    assert [o["votes"] for o in result["options"]] == [0, 3]
    assert result["leading"] == ["carol"]
    assert result["votes_not_counted"] == 1
    assert c.items("carol", "poll", "list")[0]["id"] == poll
    assert "leading: carol" in c.run("bob", "poll", "show", poll[:8])


def test_polls_close_and_distribution_needs_utility(
    tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = Homes(cli, tmp_path, "alice")
    poll = last_word(
        c.run("alice", "poll", "new", "Q?", "--option", "a", "--option", "b", "--closes", "1h")
    )
    c.run("alice", "vote", poll[:8], "a")
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
    assert "unknown currency" in c.misused("alice", "distribute", "100", "XYZ")


def test_peer_violations_are_ignored_with_reasons(tmp_path: Path, cli: CliRunner) -> None:
    c = Homes(cli, tmp_path, "alice", "bob")
    invite(c, "alice", "bob")
    posted = c.json("alice", "idea", "post", "Catalogue")
    assert posted["kind"] == forum.IDEA_KIND
    idea = bytes.fromhex(posted["id"])
    poll = bytes.fromhex(
        last_word(
            c.run("alice", "poll", "new", "Q?", "--option", "a", "--option", "b", "--closes", "1d")
        )
    )
    alice, bob = parse_peer_id(c.ids["alice"]), parse_peer_id(c.ids["bob"])
    c.run("bob", "rate", c.ids["alice"], "3")
    c.sync("alice", "bob")
    before = {n: c.run("alice", *n.split()) for n in ("utility --json", "poll list --json")}
    member, idea_kind = ratings.ABOUT_MEMBER, ratings.ABOUT_IDEA
    forged = {
        c.force("bob", ratings.KIND, {"about": member, "subject": alice, "score": 9}): (
            "malformed rating: expected 'score' as an integer 0..5, found 9"
        ),
        c.force("bob", ratings.KIND, {"about": member, "subject": bob, "score": 5}): (
            "a member cannot rate themselves"
        ),
        c.force("alice", ratings.KIND, {"about": idea_kind, "subject": idea, "score": 5}): (
            "a member cannot rate their own idea"
        ),
        c.force("bob", ratings.KIND, {"about": idea_kind, "subject": poll, "score": 5}): (
            "the rated entry is not a valid idea"
        ),
        c.force("bob", forum.COMMENT_KIND, {"on": poll, "text": "hi"}): (
            "the entry commented on is not a valid idea"
        ),
        c.force("bob", forum.IDEA_KIND, {"title": ""}): (
            "malformed forum.idea: expected a non-empty 'title'"
        ),
        c.force("bob", polls.VOTE_KIND, {"poll": poll, "option": 5}): (
            "vote for option 6, but the poll has 2 options"
        ),
        c.force("bob", polls.VOTE_KIND, {"poll": idea, "option": 0}): (
            "the entry voted on is not a valid poll"
        ),
        c.force("bob", polls.POLL_KIND, {"question": "Q", "options": ["x"]}): (
            "malformed poll.new: expected 'options' as a list of 2..20 texts"
        ),
        c.force(
            "bob", polls.VOTE_KIND, {"poll": poll, "option": 0}, timestamp=store.now_ms() + 2 * DAY
        ): "vote cast after the poll closed",
    }
    c.sync("alice", "bob")
    for name in ("alice", "bob"):
        reasons = c.invalid(name)
        assert set(reasons) == {e.id.hex() for e in forged}
        for entry, reason in forged.items():
            assert reasons[entry.id.hex()].startswith(reason)
    assert {n: c.run("alice", *n.split()) for n in before} == before
    assert "a member cannot rate themselves" in c.run("bob", "log", "--invalid")
