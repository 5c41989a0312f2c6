"""The portal through the CLI: offer hours, request them, deal, fulfil, review, search."""

from __future__ import annotations

from pathlib import Path

from tests.community_homes import Homes
from tests.conftest import CliRunner


def test_offer_request_deal_review_and_search(tmp_path: Path, cli: CliRunner) -> None:
    c = Homes(cli, tmp_path, "alice", "bob", "carol")
    offer = c.json(
        "alice",
        "listing", "offer", "Guitar lessons", "--tag", "education", "--tag", "music",
        "--description", "Beginners welcome", "--price", "20", "--currency", "EUR",
        "--per", "hourly", "--quantity", "3", "--unit", "hours", "--geohash", "ud1hu",
    )  # fmt: skip
    assert offer["amount"] == {"EUR": "20.00"}
    assert (offer["quantity"], offer["unit"], offer["status"]) == (3, "hours", "active")
    wanted = c.json(
        "bob", "listing", "request", "Guitar teacher wanted", "--tag", "education",
        "--exchange", "bread",
    )  # fmt: skip
    assert wanted["price"] == "exchange"
    assert "category" in c.refused("carol", "listing", "offer", "x", "--tag", "fun")
    c.sync("alice", "bob", "carol")

    found = c.items("carol", "listing", "search", "guitar")
    assert [item["id"] for item in found] == [wanted["id"], offer["id"]]
    assert [i["id"] for i in c.items("carol", "listing", "search", "guit", "--side", "offer")] == [
        offer["id"]
    ]
    priced = ["listing", "search", "lesson", "--currency", "EUR", "--max-price", "25"]
    assert [i["id"] for i in c.items("carol", *priced)] == [offer["id"]]
    assert (
        c.items("carol", "listing", "search", "lesson", "--currency", "EUR", "--max-price", "19")
        == []
    )
    assert [i["id"] for i in c.items("carol", "listing", "list", "--author", c.ids["bob"])] == [
        wanted["id"]
    ]

    assert "author" in c.refused("bob", "listing", "edit", offer["id"][:10], "--title", "Mine")
    edited = c.json("alice", "listing", "edit", offer["id"][:10], "--quantity", "4")
    assert (edited["quantity"], edited["edits"], edited["title"]) == (4, 1, "Guitar lessons")

    # bob pays alice for the lessons; alice marks the commitment fulfilled; both review.
    pledge = c.json("bob", "pledge", "intend", "80", "EUR", "--listing", offer["id"][:10])
    assert "fulfilled" in c.refused("bob", "review", pledge["id"][:10], "5")
    c.run("bob", "pledge", "commit", pledge["id"][:10], "--yes")
    c.sync("alice", "bob")
    c.run("alice", "pledge", "fulfilled", pledge["id"][:10])
    c.sync("alice", "bob")
    by_bob = c.json("bob", "review", pledge["id"][:10], "5", "--text", "patient")
    assert by_bob["subject"] == c.ids["alice"]
    by_alice = c.json("alice", "review", pledge["id"][:10], "4")
    assert by_alice["subject"] == c.ids["bob"]
    assert "one review" in c.refused("alice", "review", pledge["id"][:10], "1")
    c.sync("alice", "bob", "carol")
    assert "parties" in c.refused("carol", "review", pledge["id"][:10], "1")

    closed = c.json("alice", "listing", "close", offer["id"][:10])
    assert closed["status"] == "done"
    c.sync("alice", "carol")
    assert [i["id"] for i in c.items("carol", "listing", "search", "guitar")] == [wanted["id"]]
    done = c.items("carol", "listing", "search", "guitar", "--status", "done")
    assert [i["id"] for i in done] == [offer["id"]]
    shown = c.json("carol", "listing", "show", offer["id"][:12])
    assert (shown["status"], shown["quantity"], shown["edits"]) == ("done", 4, 2)
    ratings = sorted((r["reviewer"], r["subject"], r["rating"]) for r in shown["reviews"])
    assert ratings == sorted([(c.ids["bob"], c.ids["alice"], 5), (c.ids["alice"], c.ids["bob"], 4)])
    assert {r["text"] for r in shown["reviews"]} == {"patient", ""}
    c.run("alice", "profile", "set", "--name", "Alice")
    c.sync("alice", "carol")
    text = c.run("carol", "listing", "show", offer["id"][:12])
    assert "2 reviews of deals made through it" in text
    assert "5/5  by" in text
    assert "~Alice" in text
    assert "patient" in text
