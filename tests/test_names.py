"""Names: the one short id, the one resolver, petnames, names beside ids in tables and JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.node.errors import Ambiguous, NotFound
from samoorg.node.names import (
    MIN_PARTIAL,
    Names,
    check_petname,
    directory,
    short_id,
    with_names,
)
from samoorg.protocol.ids import BadIdentifier, peer_id
from tests.community_homes import Homes, clock_fixture  # noqa: F401 (the clock fixture)
from tests.conftest import CliRunner

KEYS = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=8, unique=True)


def _key() -> bytes:
    return os.urandom(32)


@given(KEYS, st.data())
def test_any_unique_fragment_of_six_or_more_characters_resolves(
    keys: list[bytes], data: st.DataObject
) -> None:
    names = Names(known=frozenset(keys))
    key = data.draw(st.sampled_from(keys))
    ident = peer_id(key)
    width = data.draw(st.integers(MIN_PARTIAL, len(ident)))
    for fragment in (ident[-width:], "…" + ident[-width:], ident[:width]):
        matching = [k for k in keys if peer_id(k).endswith(fragment.lstrip("…"))] + [
            k for k in keys if peer_id(k).startswith(fragment)
        ]
        if set(matching) == {key}:
            assert names.resolve(fragment) == key
        elif len(set(matching)) > 1:
            with pytest.raises(Ambiguous):
                names.resolve(fragment)
    # The short form a table prints is itself accepted back.
    if sum(peer_id(k).endswith(short_id(key)[1:]) for k in keys) == 1:
        assert names.resolve(short_id(key)) == key


def test_petnames_win_self_chosen_names_collide_and_ambiguity_names_candidates() -> None:
    ana, ben, fake = _key(), _key(), _key()
    names = Names(
        me=None,
        petnames={ana: "Ana"},
        chosen={ana: "ana", ben: "Ben", fake: "ben"},
        known=frozenset({ana, ben, fake}),
    )
    assert names.resolve("ana") == ana  # the petname, though ana also chose "ana"
    assert names.label(ana) == f"Ana {short_id(ana)}"  # ana's own chosen name is no collision
    assert names.label(ben) == f"~Ben! {short_id(ben)}"
    with pytest.raises(Ambiguous) as refused:
        names.resolve("BEN")
    assert peer_id(ben) in str(refused.value)
    assert peer_id(fake) in str(refused.value)
    assert "~Ben!" in str(refused.value)
    with pytest.raises(BadIdentifier):
        names.resolve("zed")  # too short for an id fragment, and nobody's name
    with pytest.raises(NotFound):
        names.resolve("zzzzzzzz")
    rows = directory(names)
    assert rows[0]["name"] == "Ana"
    assert not rows[0]["collides"]
    assert sorted((r["name"], r["collides"]) for r in rows[1:]) == [("Ben", True), ("ben", True)]


def test_names_go_beside_every_peer_id_field_once() -> None:
    ana = _key()
    names = Names(petnames={ana: "ana"})
    value = {"id": "ab" * 32, "items": [{"from": peer_id(ana), "to": None, "chain": []}]}
    named = with_names(value, names)
    assert named == {
        "id": "ab" * 32,
        "items": [{"from": peer_id(ana), "from_name": "ana", "to": None, "chain": []}],
    }
    assert with_names(named, Names()) == named  # existing fields are never changed
    calls: list[int] = []
    with_names({"n": 1}, lambda: calls.append(1) or names)  # type: ignore[func-returns-value]
    assert calls == []  # no peer id: the names are never read


@pytest.mark.parametrize(
    "bad", ["", " ana", "x" * 41, "a\nb", "~ana", "…ana", "ana!", peer_id(bytes(32))]
)
def test_bad_petnames_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        check_petname(bad)


def test_petnames_in_tables_json_and_every_command(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob", "carol")
    bob, carol = homes.ids["bob"], homes.ids["carol"]
    for name in ("bob", "carol"):
        homes.run(name, "idea", "post", f"{name} was here")
    homes.sync("alice", "bob", "carol")
    assert homes.run("alice", "name", "set", bob[-8:], "Bobby").strip() == f"Bobby is now {bob}"
    assert "a petname names one participant" in homes.refused(
        "alice", "name", "set", carol, "bobby"
    )
    assert homes.misused("alice", "name", "set", carol, "~carol").startswith("expected a name")
    homes.run("alice", "name", "set", carol, "Carol")
    listed = homes.json("alice", "name", "list")["items"]
    assert [(r["name"], r["id"], r["collides"]) for r in listed] == [
        ("Bobby", bob, False),
        ("Carol", carol, False),
    ]
    # A name works wherever a participant is typed.
    pledge = homes.json("alice", "pledge", "intend", "5", "EUR", "--to", "bobby")
    assert (pledge["to"], pledge["to_name"]) == (bob, "Bobby")
    homes.json("alice", "pledge", "intend", "7", "EUR", "--to", "…" + carol[-8:])
    table = homes.run("alice", "pledge", "list")
    assert f"Bobby …{bob[-8:]}" in table
    assert f"Carol …{carol[-8:]}" in table
    logged = homes.items("alice", "log", "--author", "Carol")
    assert {e["author"] for e in logged} == {carol}
    assert {e["author_name"] for e in logged} == {"Carol"}
    assert homes.json("alice", "ledger", "--with", "bobby")["outstanding"] == []
    homes.run("alice", "follow", "carol")
    assert json.loads(cli(tmp_path / "alice", "follow", "--json").out) == [carol]
    homes.run("alice", "unfollow", "Carol")
    homes.run("alice", "name", "remove", "bobby")
    assert [r["name"] for r in homes.json("alice", "name", "list")["items"]] == ["Carol"]
    assert "no known participant is called 'bobby1'" in homes.refused(
        "alice", "pledge", "intend", "1", "EUR", "--to", "bobby1"
    )


def test_an_entry_prefix_is_matched_among_the_expected_kinds_only(tmp_path: Path) -> None:
    from samoorg.node.names import resolve_entry
    from samoorg.node.store import Store
    from tests.feed_fixtures import signer

    ana = signer("ana")
    with Store(tmp_path / "store.sqlite") as store:
        with store.own_feed(ana) as feed:
            made = [feed.sign("a" if n % 2 else "b", {"n": n}) for n in range(2400)]
        by_prefix: dict[str, list[str]] = {}
        for entry in made:
            by_prefix.setdefault(entry.id.hex()[:4], []).append(entry.kind)
        # 2,400 ids over 65,536 prefixes: about 22 prefixes are shared by an "a" and
        # a "b" (birthday bound); the chance of none is below 1e-9.
        mixed = next(p for p, kinds in by_prefix.items() if sorted(kinds) == ["a", "b"])
        names = Names(me=ana.public_key, petnames={})
        found = resolve_entry(store, lambda: names, mixed, ("a",))
        assert (found.kind, found.id.hex()[:4]) == ("a", mixed)
        with pytest.raises(Ambiguous) as refused:
            resolve_entry(store, lambda: names, mixed)
        assert "(a by you)" in str(refused.value)
        assert "(b by you)" in str(refused.value)
        with pytest.raises(NotFound, match="expected the id of a c entry, found an entry of kind"):
            resolve_entry(store, lambda: names, mixed, ("c",))


def test_a_pledge_to_a_participant_never_seen_needs_force(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob")
    stranger = peer_id(_key())
    refusal = homes.refused("alice", "pledge", "intend", "5", "EUR", "--to", stranger)
    assert "never seen here and is not on your trust list" in refusal
    forced = homes.json("alice", "pledge", "intend", "5", "EUR", "--to", stranger, "--force")
    assert "never seen" in homes.refused("alice", "pledge", "commit", forced["id"], "--yes")
    homes.run("alice", "pledge", "commit", forced["id"], "--yes", "--force")
    homes.run("bob", "idea", "post", "hello")
    homes.sync("alice", "bob")
    seen = homes.json("alice", "pledge", "intend", "5", "EUR", "--to", homes.ids["bob"])
    assert seen["to"] == homes.ids["bob"]


@pytest.mark.slow
@pytest.mark.network
def test_the_daemon_resolves_and_names_as_the_cli_does(tmp_path: Path) -> None:
    from samoorg.node.processes import run_cli
    from tests.api_fixtures import start_api_node

    ana_home, ben_home = tmp_path / "ana", tmp_path / "ben"
    run_cli(ben_home, "init")
    ben = json.loads(run_cli(ben_home, "whoami", "--json").stdout)["id"]
    run_cli(ben_home, "idea", "post", "hello")
    run_cli(ben_home, "export", str(tmp_path / "ben.bundle"))
    run_cli(ana_home, "init")
    run_cli(ana_home, "import", str(tmp_path / "ben.bundle"))
    node = start_api_node(ana_home)
    try:
        # A petname set while the daemon runs is seen by its next answer.
        run_cli(ana_home, "name", "set", ben[-7:], "Ben")
        assert node.api.get("/names").json()["items"] == [
            {"id": ben, "name": "Ben", "petname": "Ben", "chosen": None, "collides": False}
        ]
        logged = node.api.get("/log?author=ben").json()["items"]
        assert [(e["author"], e["author_name"]) for e in logged] == [(ben, "Ben")]
        assert node.api.get("/log?author=" + ben[-9:]).json()["items"] == logged
        assert node.api.get("/log?author=nobody1").json()["error"] == "not_found"
        # The CLI asks the daemon, which resolves the same forms.
        answered = json.loads(run_cli(ana_home, "log", "--author", "Ben", "--json").stdout)
        assert answered["items"] == logged
        table = run_cli(ana_home, "log", "--author", "…" + ben[-8:]).stdout
        assert f"Ben …{ben[-8:]}" in table
    finally:
        assert node.process.stop() == 0
