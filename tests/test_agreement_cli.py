"""Public agreements end to end through the CLI, several homes exchanging bundles."""

from __future__ import annotations

import shutil
from pathlib import Path

from samoorg.crdt.framework.exclusion import FORKED_REASON
from samoorg.protocol.ids import parse_peer_id
from tests.community_homes import Homes, clock_fixture  # noqa: F401 (the clock fixture)
from tests.conftest import CliRunner

RULES = """# Community rules

1. We decide together, in public.
2. Any member may propose a change.
3. Nobody speaks for the community without a vote.
"""


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_agreement_story(tmp_path: Path, cli: CliRunner, clock: list[int]) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob", "carol")
    ids = homes.ids
    created = homes.json(
        "alice", "agreement", "new", "Community rules", "--file", write(tmp_path / "r.txt", RULES)
    )
    doc = created["agreement"]
    assert created["inserted"] == len(RULES)
    short = doc[:8]
    homes.sync("alice", "bob", "carol")
    # Bob and Carol edit concurrently, each from the same version.
    bob_text = RULES.replace("in public", "openly, in public") + "4. Spokespersons rotate.\n"
    carol_text = RULES.replace("Any member", "Every member")
    homes.run("bob", "agreement", "edit", short, "--file", write(tmp_path / "b.txt", bob_text))
    homes.run("carol", "agreement", "edit", short, "--file", write(tmp_path / "c.txt", carol_text))
    homes.sync("alice", "bob", "carol")
    merged = (
        "# Community rules\n\n1. We decide together, openly, in public.\n"
        "2. Every member may propose a change.\n"
        "3. Nobody speaks for the community without a vote.\n4. Spokespersons rotate.\n"
    )
    shown = [homes.json(name, "agreement", "show", short) for name in ("alice", "bob", "carol")]
    assert {s["text"] for s in shown} == {merged}
    assert len({s["version"] for s in shown}) == 1
    assert len(shown[0]["heads"]) == 2  # two concurrent branches
    plain = homes.run("alice", "agreement", "show", short)
    assert plain.endswith(merged)
    assert "(current)" in plain

    history = homes.json("alice", "agreement", "history", short)
    assert [row["author"] for row in history] == [ids["alice"], ids["bob"], ids["carol"]]
    assert history[1]["inserted_text"] == ["openly, ", "4. Spokespersons rotate.\n"]
    assert history[2]["inserted_text"] == ["Ever"]
    assert history[2]["deleted_text"] == ["An"]
    assert all(row["status"] == "applied" for row in history)
    blame = homes.json("carol", "agreement", "blame", short)
    authors = {row["line"]: row["author"] for row in blame}
    assert authors[1] == ids["alice"]
    assert authors[3] == ids["bob"]
    assert authors[4] == ids["carol"]
    assert authors[6] == ids["bob"]
    assert "Spokespersons rotate." in homes.run("carol", "agreement", "blame", short)

    # Everyone accepts the merged version; members show it as current.
    for name in ("alice", "bob", "carol"):
        homes.run(name, "agreement", "accept", short)
    homes.sync("alice", "bob", "carol")
    listing = homes.json("bob", "members", "--agreement", short)
    assert {m["member"] for m in listing["members"]} == set(ids.values())
    assert all(m["current"] for m in listing["members"])
    assert homes.json("bob", "members") == [
        {
            "member": i,
            "member_name": None,
            "forked": False,
            "accepted": 1,
            "current": 1,
            "of": 1,
            "status": "member",
        }
        for i in sorted(ids.values())
    ]
    # Alice changes it again: the others' acceptances are now of an older version.
    final = merged.replace("rotate", "are chosen by simple vote")
    homes.run("alice", "agreement", "edit", short, "--file", write(tmp_path / "a.txt", final))
    homes.sync("alice", "bob")
    statuses = {
        m["member"]: m["status"] for m in homes.json("bob", "members", "-a", short)["members"]
    }
    assert statuses == {
        ids["alice"]: "outdated",
        ids["bob"]: "outdated",
        ids["carol"]: "outdated",
    }
    table = homes.run("bob", "members", "--agreement", short)
    assert "outdated" in table
    # The old version is still readable, by its hash or by an entry id.
    old = homes.json("bob", "agreement", "show", short, "--version", shown[0]["version"][:10])
    assert old["text"] == merged
    assert not old["current"]
    first = homes.json("bob", "agreement", "show", short, "--version", doc[:10])
    assert first["text"] == RULES
    listing = homes.items("bob", "agreement", "list")
    assert listing[0]["title"] == "Community rules"
    assert listing[0]["you"] == "outdated"


def test_refusals_are_one_line_and_store_nothing(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = Homes(cli, tmp_path, "alice")
    rules = write(tmp_path / "r.txt", RULES)
    doc = homes.json("alice", "agreement", "new", "Rules", "--file", rules)["agreement"][:8]
    assert "nothing to record" in homes.refused("alice", "agreement", "edit", doc, "--file", rules)
    homes.run("alice", "agreement", "accept", doc)
    assert "already accepted" in homes.refused("alice", "agreement", "accept", doc)
    assert "no entry with id" in homes.refused("alice", "agreement", "show", "abcdef12")
    invite = homes.run("alice", "invite", "create", "--amount", "10", "--currency", "EUR")
    assert invite.startswith("samoorg-invite:")
    pledge = homes.items("alice", "log", "--kind", "trust.invite")[0]["id"][:10]
    assert "agreement.new" in homes.refused("alice", "agreement", "edit", pledge, "--file", rules)
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\xff\xfe not text")
    assert "UTF-8" in homes.refused("alice", "agreement", "new", "T", "--file", str(binary))
    assert "some text" in homes.refused(
        "alice", "agreement", "new", "T", "--file", write(tmp_path / "e.txt", " \n")
    )
    assert "title" in homes.refused("alice", "agreement", "new", "x" * 201, "--file", rules)
    assert "version" in homes.misused("alice", "agreement", "show", doc, "--version", "zz")


def test_peer_violations_are_ignored_with_reasons(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = Homes(cli, tmp_path, "alice", "mallory")
    doc = homes.json(
        "alice", "agreement", "new", "Rules", "--file", write(tmp_path / "r.txt", RULES)
    )
    root = bytes.fromhex(doc["agreement"])
    homes.sync("alice", "mallory")
    bad = homes.force(
        "mallory", "agreement.edit",
        {"agreement": root, "deps": [root], "refs": [root], "ops": [[1, [1, 5000], 3]]},
    )  # fmt: skip
    wrong = homes.force(
        "mallory", "agreement.accept",
        {"agreement": root, "heads": [root], "version": b"\x00" * 32},
    )  # fmt: skip
    homes.sync("alice", "mallory")
    invalid = homes.invalid("alice")
    assert "which has" in invalid[bad.id.hex()]
    assert "does not match" in invalid[wrong.id.hex()]
    assert homes.json("alice", "agreement", "show", doc["agreement"][:8])["text"] == RULES
    assert homes.json("alice", "members", "-a", doc["agreement"][:8])["members"] == []


def test_a_forked_authors_characters_after_the_fork_disappear_alike_on_every_node(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob", "carol")
    new = homes.json("bob", "agreement", "new", "Rules", "--file", write(tmp_path / "r.txt", RULES))
    short = new["agreement"][:8]
    homes.sync("alice", "bob", "carol")
    with_a = RULES + "A\n"
    homes.run("alice", "agreement", "edit", short, "--file", write(tmp_path / "a.txt", with_a))
    homes.sync("alice", "bob")
    # Bob edits on top of Alice's change: his edit depends on it.
    homes.run(
        "bob", "agreement", "edit", short, "--file", write(tmp_path / "b.txt", with_a + "B\n")
    )
    # Alice's key copied to a second machine, which edits with its own history.
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(tmp_path / "alice" / "identity.key", clone / "identity.key")
    assert cli(clone, "import", str(tmp_path / "alice.bundle")).code == 0
    x_file = write(tmp_path / "x.txt", with_a + "x\n")
    assert cli(clone, "agreement", "edit", short, "--file", x_file).code == 0
    homes.run(
        "alice", "agreement", "edit", short, "--file", write(tmp_path / "y.txt", with_a + "y\n")
    )
    for name in ("alice", "clone", "bob"):
        assert cli(tmp_path / name, "export", str(tmp_path / f"{name}.bundle")).code == 0
    # Bob holds Alice's branch y, Carol the clone's branch x; both get the fork proof.
    for home, sources in (("bob", ["alice", "clone"]), ("carol", ["clone", "bob", "alice"])):
        for source in sources:
            cli(tmp_path / home, "import", str(tmp_path / f"{source}.bundle"))
    alice = parse_peer_id(homes.ids["alice"])
    views = {name: homes.views(name) for name in ("bob", "carol")}
    branches = {name: {e.id for e in v.index.of_author(alice)} for name, v in views.items()}
    void = {
        name: {e.id for e in v.index.of_author(alice) if v.index.is_void(e)}
        for name, v in views.items()
    }
    assert branches["bob"] != branches["carol"]
    assert branches["bob"] - void["bob"] == branches["carol"] - void["carol"]  # the prefix
    assert all(len(ids) == 1 for ids in void.values())  # one edit per branch
    assert all(v.index.forked == {alice} for v in views.values())
    assert views["bob"].digests() == views["carol"].digests()
    others = {
        name: {k: r for k, r in v.invalid().items() if k not in void[name]}
        for name, v in views.items()
    }
    assert others["bob"] == others["carol"]
    # Alice's change before the fork stays, and so does Bob's edit on it; x and y are gone.
    for name in ("bob", "carol"):
        assert homes.json(name, "agreement", "show", short)["text"] == with_a + "B\n"
        rows = homes.json(name, "agreement", "history", short)
        assert {r["status"] for r in rows} == {"applied"}
        assert len(rows) == 3
        logged = homes.items(name, "log", "--invalid")
        flagged = {r["id"]: (r["code"], r["invalid"]) for r in logged}
        assert {bytes.fromhex(k) for k in flagged} == void[name]
        assert set(flagged.values()) == {(FORKED_REASON.code.value, FORKED_REASON.text)}
    # Bob writes another line; it applies identically everywhere.
    homes.run(
        "bob", "agreement", "edit", short, "--file", write(tmp_path / "b2.txt", RULES + "B\n")
    )
    assert cli(tmp_path / "bob", "export", str(tmp_path / "bob.bundle")).code == 0
    cli(tmp_path / "carol", "import", str(tmp_path / "bob.bundle"))
    shown = [homes.json(name, "agreement", "show", short) for name in ("bob", "carol")]
    assert [s["text"] for s in shown] == [RULES + "B\n"] * 2
    assert homes.views("bob").digests() == homes.views("carol").digests()
