"""The community story end to end through the CLI, with homes exchanging bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samoorg.node.api.pages import encode_cursor
from samoorg.protocol.ids import parse_peer_id
from samoorg.protocol.invite_code import parse_invite_code
from tests.community_homes import Homes, clock_fixture, invite  # noqa: F401 (the clock fixture)
from tests.conftest import CliRunner

DAY = 86_400_000


def _ledger_pages(homes: Homes, ledger: dict[str, Any]) -> None:
    """The ledger's lists are paged at once: pages of one row concatenate to ``--all``."""
    sections = ("outstanding", "netting", "after_netting")
    assert ledger["totals"] == {"outstanding": 3, "netting": 1, "after_netting": 2}
    assert homes.json("alice", "ledger", "--all") == {**ledger, "next_cursor": None}
    joined: dict[str, list[Any]] = {name: [] for name in sections}
    cursor: list[str] = []
    for _ in range(4):  # 3 rows at most in a list: 3 pages
        page = homes.json("alice", "ledger", "--limit", "1", *cursor)
        assert page["totals"] == ledger["totals"]
        for name in sections:
            joined[name] += page[name]
        if page["next_cursor"] is None:
            break
        cursor = ["--cursor", page["next_cursor"]]
    assert joined == {name: ledger[name] for name in sections}
    text = homes.run("alice", "ledger", "--limit", "1")
    assert "Outstanding commitments: 1-1 of 3" in text
    assert f"next page: samoorg ledger --limit 1 --cursor {encode_cursor(1)}, or --all" in text
    last = " ".join(
        homes.run("alice", "ledger", "--limit", "1", "--cursor", encode_cursor(2)).split()
    )
    assert "After netting: none on this page, 2 in all" in last  # (rich wraps a title)
    assert "next page" not in last
    assert "give --all or --cursor" in homes.misused(
        "alice", "ledger", "--all", "--cursor", encode_cursor(1)
    )
    assert "--limit" in homes.misused("alice", "ledger", "--limit", "0")


def test_two_members_pool_json(tmp_path: Path, cli: CliRunner) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob")
    invite(homes, "alice", "bob")
    homes.sync("alice", "bob")
    expected = {"members": 2, "pool": {"EUR": "200.00"}}
    assert homes.json("alice", "trust", "pool") == expected
    assert homes.json("bob", "trust", "pool") == expected


def test_whole_story(tmp_path: Path, cli: CliRunner, clock: list[int]) -> None:
    names = ("alice", "bob", "carol", "dave")
    homes = Homes(cli, tmp_path, *names)
    ids = homes.ids
    invite(homes, "alice", "bob", "100")
    invite(homes, "alice", "carol", "100")
    invite(homes, "carol", "dave", "50")
    homes.sync(*names)

    # The trust list grows as "the friend of my friend is my friend".
    members = {m["id"]: m for m in homes.items("bob", "trust", "list")}
    assert members[ids["dave"]]["distance"] == 3
    assert members[ids["dave"]]["chain"] == [ids["bob"], ids["alice"], ids["carol"], ids["dave"]]
    assert [m["id"] for m in homes.items("bob", "trust", "list", "--hops", "1")] == [
        ids["bob"],
        ids["alice"],
    ]
    # alice 100 (latest), bob 100, carol 50 (her latest word), dave 50.
    assert homes.json("dave", "trust", "pool") == {"members": 4, "pool": {"EUR": "300.00"}}

    # A help request, backed by intentions; one is committed and fulfilled.
    request = homes.json(
        "dave",
        "request",
        "create",
        "--amount",
        "200",
        "--currency",
        "EUR",
        "--reason",
        "flooded kitchen",
    )["id"]
    homes.sync(*names)
    p_alice = homes.json("alice", "pledge", "intend", "120", "EUR", "--request", request[:10])
    assert p_alice["to"] == ids["dave"]
    homes.run("alice", "pledge", "revise", p_alice["id"][:10], "150")
    homes.run("alice", "pledge", "commit", p_alice["id"][:10], "--due", "10d")
    homes.sync(*names)
    [row] = homes.items("dave", "request", "list")
    assert (row["pledged"], row["committed"]) == ({"EUR": "150.00"}, {"EUR": "150.00"})
    homes.run("dave", "pledge", "fulfilled", p_alice["id"][:10])
    homes.sync(*names)
    [row] = homes.items("alice", "request", "list")
    assert row["fulfilled"] == {"EUR": "150.00"}

    # An initiative reaches its goal with intentions, and drops back on a withdrawal.
    well = homes.json(
        "bob",
        "initiative",
        "propose",
        "Village well",
        "--goal",
        "100",
        "--currency",
        "EUR",
        "--description",
        "Clean water",
        "--deadline",
        "30d",
    )
    homes.sync(*names)
    p_carol = homes.json("carol", "pledge", "intend", "60", "EUR", "--initiative", well["id"][:10])
    p_dave = homes.json("dave", "pledge", "intend", "40", "EUR", "--initiative", well["id"][:10])
    homes.sync(*names)
    shown = homes.json("alice", "initiative", "show", well["id"][:10])
    assert (shown["status"], shown["pledged"]) == ("goal reached", {"EUR": "100.00"})
    assert {b["id"] for b in shown["backers"]} == {p_carol["id"], p_dave["id"]}
    homes.run("dave", "pledge", "withdraw", p_dave["id"][:10])
    homes.sync(*names)
    [listed] = homes.items("alice", "initiative", "list")
    assert (listed["status"], listed["pledged"]) == ("collecting", {"EUR": "60.00"})
    clock[0] += 31 * DAY
    [listed] = homes.items("alice", "initiative", "list")
    assert listed["status"] == "expired"
    clock[0] -= 31 * DAY

    # A cycle of commitments: bob -> carol -> dave -> bob.
    for giver, taker, amount in (
        ("bob", "carol", "30"),
        ("carol", "dave", "50"),
        ("dave", "bob", "20"),
    ):
        pledge = homes.json(giver, "pledge", "intend", amount, "EUR", "--to", ids[taker][-8:])
        homes.run(giver, "pledge", "commit", pledge["id"][:10], "--due", "1d")
    homes.sync(*names)
    ledger = homes.json("alice", "ledger")
    assert ledger["netting"] == [
        {"cycle": _rotate([ids["bob"], ids["carol"], ids["dave"]]), "amount": {"EUR": "20.00"}}
    ]
    remaining = {(r["from"], r["to"]): r["amount"]["EUR"] for r in ledger["after_netting"]}
    assert remaining == {(ids["bob"], ids["carol"]): "10.00", (ids["carol"], ids["dave"]): "30.00"}
    _ledger_pages(homes, ledger)
    clock[0] += 2 * DAY
    assert homes.items("bob", "pledge", "list", "--overdue") == [
        p
        for p in homes.items("bob", "pledge", "list", "--everyone", "--overdue")
        if ids["bob"] in (p["from"], p["to"])
    ]
    overdue = homes.items("bob", "pledge", "list", "--everyone", "--overdue")
    assert {(p["from"], p["to"]) for p in overdue} == {
        (ids["bob"], ids["carol"]),
        (ids["carol"], ids["dave"]),
        (ids["dave"], ids["bob"]),
    }
    to_bob = {(p["from"], p["state"]) for p in homes.items("bob", "pledge", "list", "--to-me")}
    assert to_bob == {
        (ids["carol"], "intention"),
        (ids["dave"], "withdrawn"),
        (ids["dave"], "committed"),
    }

    # Everyone holds the same entries, so every view digest agrees.
    digests = {name: homes.views(name).digests() for name in names}
    assert len({tuple(sorted(d.items())) for d in digests.values()}) == 1
    assert homes.items("alice", "log", "--invalid") == []


def _rotate(cycle: list[str]) -> list[str]:
    keys = [parse_peer_id(c) for c in cycle]
    first = keys.index(min(keys))
    return cycle[first:] + cycle[:first]


def test_race_for_one_invite_has_one_winner_everywhere(tmp_path: Path, cli: CliRunner) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob", "mallory")
    code = homes.run("alice", "invite", "create", "--amount", "100", "--currency", "EUR").strip()
    invite_id = parse_invite_code(code).invite
    homes.sync("alice", "bob", "mallory")
    bob = homes.json("bob", "invite", "accept", code)
    mallory = homes.json("mallory", "invite", "accept", code)  # the code leaked; both race
    homes.sync("alice", "bob", "mallory")
    accepts = [
        homes.views("alice").index.get(bytes.fromhex(r["acceptance"])) for r in (bob, mallory)
    ]
    first = min(accepts, key=lambda e: (e.timestamp, e.id))  # type: ignore[union-attr]
    assert first is not None
    for name in ("alice", "bob", "mallory"):
        outcome = homes.views(name).trust.outcome(invite_id)
        assert outcome is not None
        assert outcome.invitee == first.author
        assert homes.json(name, "trust", "pool")["members"] in (1, 2)
    loser = next(e for e in accepts if e is not first)
    assert loser is not None
    reason = homes.invalid("alice")[loser.id.hex()]
    assert reason.startswith("invite already used by")


def test_forked_member_is_flagged(tmp_path: Path, cli: CliRunner) -> None:
    from samoorg.crdt.kinds.pledges import REQUEST
    from samoorg.node.keystore import load_signer
    from samoorg.node.store import Store
    from samoorg.protocol.entry import create_entry
    from samoorg.protocol.fork import ForkProof

    homes = Homes(cli, tmp_path, "alice", "bob")
    invite(homes, "alice", "bob")
    homes.sync("alice", "bob")
    before = homes.views("alice").digests()
    # Bob's key signs two different entries at the same seq (say, a copied key file).
    signer = load_signer(tmp_path / "bob" / "identity.key", lambda: "")
    body = {"amount": 100, "currency": "EUR", "reason": "twice", "monthly": False}
    twins = [
        create_entry(signer, seq=1, prev=None, timestamp=stamp, kind=REQUEST, body=body)
        for stamp in (1, 2)
    ]
    with Store(tmp_path / "alice" / "store.sqlite") as store:
        assert store.ingest_fork_proof(ForkProof.of(*twins).to_bytes()) is not None
    rows = {m["id"]: (m["distance"], m["forked"]) for m in homes.items("alice", "trust", "list")}
    # Every view ignores Bob's entries, his acceptance among them: no edge, listed as FORKED.
    assert rows == {homes.ids["alice"]: (0, False), homes.ids["bob"]: (None, True)}
    assert homes.json("alice", "trust", "pool")["members"] == 1
    assert "FORKED (excluded)" in homes.run("alice", "trust", "list")
    after = homes.views("alice").digests()
    assert before.keys() == after.keys()
    assert all(before[k] != after[k] for k in before)
