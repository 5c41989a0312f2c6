"""Organizations through the CLI: create, invite, join, admins, leave, listings, show, list."""

from __future__ import annotations

from pathlib import Path

from tests.community_homes import Homes
from tests.conftest import CliRunner


def test_an_org_from_creation_to_its_listings(tmp_path: Path, cli: CliRunner) -> None:
    c = Homes(cli, tmp_path, "ana", "ben", "cleo")
    made = c.json(
        "ana", "org", "new", "Bakers", "--description", "Bread for all",
        "--contact", "email=bake@example.org",
    )  # fmt: skip
    org = made["id"]
    assert [m["member"] for m in made["members"]] == [c.ids["ana"]]
    assert made["members"][0]["admin"] is True
    assert made["contacts"] == [{"type": "email", "value": "bake@example.org"}]
    c.sync("ana", "ben", "cleo")
    # ben asks first; ana's invite makes him a member (the one resolver: name, id part).
    asked = cli(tmp_path / "ben", "org", "join", "bakers")
    assert asked.code == 0, asked.err
    assert "an admin's invite makes you a member" in asked.err
    c.sync("ana", "ben")
    assert "only an admin" in c.refused("ben", "org", "invite", "Bakers", c.ids["cleo"])
    shown = c.json("ana", "org", "invite", org[:8], c.ids["ben"][-8:])
    assert [m["member"] for m in shown["members"]] == sorted([c.ids["ana"], c.ids["ben"]])
    assert "no admin left" in c.refused("ana", "org", "leave", "Bakers")
    assert "member" in c.refused("ana", "org", "admin", "Bakers", c.ids["cleo"])
    c.json("ana", "org", "admin", "Bakers", c.ids["ben"])
    c.sync("ana", "ben", "cleo")
    renamed = c.json("ben", "org", "edit", "Bakers", "--name", "Bakers United")
    assert renamed["name"] == "Bakers United"
    assert renamed["contacts"] == [{"type": "email", "value": "bake@example.org"}]
    assert "not a member" in c.refused(
        "cleo", "listing", "offer", "Rye", "--tag", "food", "--org", "Bakers"
    )
    listing = c.json("ben", "listing", "offer", "Rye bread", "--tag", "food", "--org", org[-8:])
    assert (listing["org"], listing["org_name"]) == (org, "Bakers United")
    c.sync("ana", "ben", "cleo")
    detail = c.json("cleo", "org", "show", "bakers united")
    assert [item["id"] for item in detail["listings"]] == [listing["id"]]
    assert {m["member"]: m["admin"] for m in detail["members"]} == {
        c.ids["ana"]: True,
        c.ids["ben"]: True,
    }
    found = c.items("cleo", "listing", "search", "rye", "--org", "Bakers United")
    assert [item["id"] for item in found] == [listing["id"]]
    text = c.run("cleo", "org", "show", org[:10])
    assert "Bakers United" in text
    assert "1 listing for the org" in text
    # ana steps down and leaves; ben is the last admin and stays.
    c.json("ben", "org", "admin", "Bakers United", c.ids["ana"], "--revoke")
    c.sync("ana", "ben")
    c.json("ana", "org", "leave", "Bakers United")
    c.sync("ana", "ben")
    assert "no admin left" in c.refused("ben", "org", "remove", "Bakers United", c.ids["ben"])
    listed = c.json("ben", "org", "list", "--mine")["items"]
    assert [(o["name"], len(o["members"])) for o in listed] == [("Bakers United", 1)]
    assert c.json("ana", "org", "list", "--mine")["items"] == []
    assert "Bakers United" in c.run("ana", "org", "list")


def test_org_references_and_ambiguity(tmp_path: Path, cli: CliRunner) -> None:
    c = Homes(cli, tmp_path, "ana")
    first = c.json("ana", "org", "new", "Co-op")["id"]
    c.json("ana", "org", "new", "co-op")
    assert "names 2 orgs" in c.refused("ana", "org", "show", "CO-OP")
    assert c.json("ana", "org", "show", first)["id"] == first
    assert c.json("ana", "org", "show", first[-6:])["id"] == first
    assert "no known org" in c.refused("ana", "org", "show", "nothing")
    assert "line" in c.misused("ana", "org", "new", "two\nlines")
