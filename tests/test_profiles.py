"""Profiles (docs/protocol.md §8.12): the field rules, last write wins, and the commands."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.profiles import PROFILE_KIND, profile_body
from samoorg.protocol.ids import peer_id
from tests.community_fixtures import Author
from tests.community_homes import Homes, clock_fixture  # noqa: F401 (the clock fixture)
from tests.conftest import CliRunner

BROKEN = [
    ({"name": ""}, "expected a non-empty 'name'"),
    ({"name": "   "}, "expected a non-empty 'name'"),
    ({"name": "x" * 65}, "at most 64 characters"),
    ({"name": "two\nlines"}, "without control characters"),
    ({"name": 5}, "expected 'name' as non-empty text"),
    ({"name": "a", "about": "x" * 501}, "'about' of at most 500"),
    ({"name": "a", "status": "sad"}, "one of fine, support, urgent"),
    ({"name": "a", "message": "x" * 281}, "'message' of at most 280"),
    ({"name": "a", "contacts": "ana@example.org"}, "'contacts' as a list"),
    ({"name": "a", "contacts": [["email"]]}, "each contact as [type, value]"),
    ({"name": "a", "contacts": [["fax", "1"]]}, "'type' as one of email"),
    ({"name": "a", "contacts": [["url", ""]]}, "non-empty 'value'"),
    ({"name": "a", "contacts": [["url", "x" * 201]]}, "'value' of at most 200"),
    ({"name": "a", "contacts": [["phone", "1"], ["phone", "1"]]}, "distinct contacts"),
    ({"name": "a", "contacts": [["email", "a@b"]] * 9}, "at most 8 items"),
]


@pytest.mark.parametrize(("body", "why"), BROKEN, ids=lambda v: str(v)[:30])
def test_a_broken_profile_is_void_and_the_previous_one_counts(body: object, why: str) -> None:
    ana = Author(1)
    good = ana.write(PROFILE_KIND, profile_body("Ana", "baker", [("email", "ana@example.org")]))
    bad = ana.write(PROFILE_KIND, body)  # type: ignore[arg-type]
    views = Views(EntryIndex([bad, good]))
    reason = views.invalid()[bad.id]
    assert (reason.code.value, why in reason.text) == ("malformed", True), reason.text
    counted = views.profiles.profile(ana.key)
    assert counted is not None
    assert (counted.entry_id, counted.name) == (good.id, "Ana")


def test_a_peer_id_is_not_a_name() -> None:
    ben = Author(2)
    with pytest.raises(RuleViolation, match="found a peer id"):
        profile_body(peer_id(ben.key))


def test_the_latest_profile_by_seq_wins_whole_in_any_order() -> None:
    ana = Author(1)
    first = ana.write(PROFILE_KIND, profile_body("Ana", "baker", [("phone", "+33 1")]))
    second = ana.write(PROFILE_KIND, profile_body("Ana B", status="urgent", message="flooded"))
    for order in ([first, second], [second, first], [second, first, second]):
        views = Views(EntryIndex(order))
        counted = views.profiles.profile(ana.key)
        assert counted is not None
        assert (counted.name, counted.about, counted.contacts) == ("Ana B", "", ())
        assert (counted.status, counted.message) == ("urgent", "flooded")
        assert views.invalid() == {}
        assert views.profiles.display_names() == {ana.key: "Ana B"}
    # The views go into checkpoints (node/checkpoint.py) as pickles.
    assert pickle.loads(pickle.dumps(views)).profiles.display_names() == {ana.key: "Ana B"}


def test_profile_set_show_and_names(tmp_path: Path, cli: CliRunner, clock: list[int]) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob", "carol")
    alice, bob, carol = homes.ids["alice"], homes.ids["bob"], homes.ids["carol"]
    assert "expected a name" in homes.misused("bob", "profile", "set", "--about", "x")
    shown = homes.json(
        "bob",
        "profile",
        "set",
        "--name",
        "Bob",
        "--about",
        "plumber",
        "--contact",
        "email=bob@example.org",
        "--contact",
        "telegram=@bob",
        "--status",
        "support",
        "--message",
        "looking for work",
    )
    assert shown["display_name"] == "Bob"
    assert shown["contacts"] == [
        {"type": "email", "value": "bob@example.org"},
        {"type": "telegram", "value": "@bob"},
    ]
    assert (shown["status"], shown["status_label"]) == ("support", "needs regular support")
    # Options left out keep their values.
    again = homes.json("bob", "profile", "set", "--status", "fine", "--message", "")
    assert (again["about"], len(again["contacts"]), again["status"]) == ("plumber", 2, "fine")
    assert homes.misused("bob", "profile", "set", "--status", "sad").startswith("expected status")
    assert "'type' as one of" in homes.misused("bob", "profile", "set", "--contact", "fax=1")
    homes.json("carol", "profile", "set", "--name", "bob")  # the same name, chosen by Carol
    homes.sync("alice", "bob", "carol")
    text = homes.run("alice", "profile", "show", bob[-8:])
    assert "~Bob! …" in text  # self-chosen, and carried by two participants
    assert "plumber" in text
    assert "telegram @bob" in text
    assert "'bob' names 2 participants" in homes.refused("alice", "profile", "show", "bob")
    homes.run("alice", "name", "set", carol, "Cleo")
    assert homes.json("alice", "profile", "show", "cleo")["display_name"] == "bob"
    homes.run("alice", "name", "set", bob, "bob")  # a petname wins over chosen names
    assert homes.json("alice", "profile", "show", "bob")["id"] == bob
    listed = {r["id"]: r for r in homes.json("alice", "name", "list")["items"]}
    assert (listed[carol]["name"], listed[carol]["chosen"], listed[carol]["collides"]) == (
        "Cleo",
        "bob",
        False,  # the name shown, "Cleo", is nobody else's
    )
    assert homes.json("alice", "profile", "show")["entry"] is None
    assert homes.json("alice", "profile", "show")["id"] == alice
