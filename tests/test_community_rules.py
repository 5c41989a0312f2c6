"""Every rule violation: refused by the CLI in one line, ignored (with its reason) from a peer."""

from __future__ import annotations

from pathlib import Path

import pytest

from samoorg.crdt.kinds.pledges import COMMIT, FULFIL, INTEND, REVISE, WITHDRAW
from samoorg.crdt.kinds.trust import TRUST_ACCEPT
from samoorg.protocol.ids import parse_peer_id
from samoorg.protocol.invite_code import parse_invite_code, sign_acceptance
from tests.community_homes import Homes, clock_fixture  # noqa: F401 (the clock fixture)
from tests.conftest import CliRunner

DAY = 86_400_000


@pytest.fixture
def homes(tmp_path: Path, cli: CliRunner, clock: list[int]) -> Homes:
    """alice, bob and carol; alice has an intention and a commitment of 50 EUR to bob."""
    homes = Homes(cli, tmp_path, "alice", "bob", "carol")
    bob = homes.ids["bob"]
    homes.marks["pledge"] = homes.json(
        "alice", "pledge", "intend", "40", "EUR", "--to", bob, "--force"
    )["id"]
    committed = homes.json("alice", "pledge", "intend", "50", "EUR", "--to", bob, "--force")["id"]
    homes.run("alice", "pledge", "commit", committed[:12], "--force")
    homes.marks["committed"] = committed
    homes.sync("alice", "bob", "carol")
    return homes


def test_cli_refuses_pledge_violations(homes: Homes) -> None:
    ids, pledge, committed = homes.ids, homes.marks["pledge"], homes.marks["committed"]
    assert homes.refused("bob", "pledge", "commit", pledge[:12]) == (
        "only the author of an intention can commit it"
    )
    assert homes.refused("bob", "pledge", "withdraw", pledge[:12]) == (
        "only the author of an intention can withdraw it"
    )
    assert homes.refused("alice", "pledge", "withdraw", committed[:12]) == (
        "a commitment cannot be withdrawn"
    )
    assert homes.refused("alice", "pledge", "revise", committed[:12], "60") == (
        "a commitment cannot be edited"
    )
    assert homes.refused("carol", "pledge", "fulfilled", committed[:12]) == (
        f"only the beneficiary ({ids['bob']}) can mark this commitment fulfilled"
    )
    assert homes.refused("alice", "pledge", "forgive", committed[:12]).startswith(
        "only the beneficiary"
    )
    assert homes.refused("bob", "pledge", "fulfilled", pledge[:12]) == (
        f"pledge {pledge[:12]} is not a commitment (it is intention)"
    )
    bob = ids["bob"]
    # Malformed values are bad usage (exit 2), not refusals.
    assert homes.misused("alice", "pledge", "intend", "0", "EUR", "--to", bob) == (
        "expected a positive amount, found 0.00 EUR"
    )
    assert homes.misused("alice", "pledge", "intend", "--to", bob, "--", "-5", "EUR") == (
        "amount must be positive, found -5"
    )
    assert homes.misused("alice", "pledge", "intend", "5", "XYZ", "--to", bob).startswith(
        "unknown currency 'XYZ'"
    )
    assert homes.refused("alice", "pledge", "intend", "5", "EUR", "--to", ids["alice"]) == (
        "cannot pledge to yourself"
    )
    homes.run("alice", "pledge", "withdraw", pledge[:12])
    assert homes.refused("alice", "pledge", "commit", pledge[:12]) == (
        "cannot commit a withdrawn intention"
    )
    homes.run("bob", "pledge", "fulfilled", committed[:12])
    assert homes.refused("bob", "pledge", "forgive", committed[:12]) == (
        "the commitment is already fulfilled"
    )


def test_cli_refuses_appeal_violations(homes: Homes, clock: list[int]) -> None:
    request = homes.json(
        "bob", "request", "create", "--amount", "100", "--currency", "EUR", "--reason", "rent"
    )["id"]
    idea = homes.json(
        "bob",
        "initiative",
        "propose",
        "Bus",
        "--goal",
        "100",
        "--currency",
        "EUR",
        "--deadline",
        "1d",
    )["id"]
    homes.sync("alice", "bob")
    assert homes.refused("bob", "pledge", "intend", "5", "EUR", "--request", request[:8]) == (
        "cannot pledge to your own help request"
    )
    assert homes.refused("alice", "pledge", "intend", "5", "USD", "--initiative", idea[:8]) == (
        "the initiative collects EUR, found a pledge in USD"
    )
    clock[0] += 2 * DAY
    assert homes.refused(
        "alice", "pledge", "intend", "5", "EUR", "--initiative", idea[:8]
    ).startswith("the initiative closed at")
    assert (
        homes.refused(
            "alice", "request", "create", "--amount", "1", "--currency", "EUR", "--reason", " "
        )
        == "malformed help.request: expected a non-empty 'reason'"
    )
    assert homes.refused("alice", "pledge", "intend", "5", "EUR", "--request", idea[:8]).startswith(
        "expected the id of a help.request entry, found an entry of kind initiative.propose"
    )


def test_cli_refuses_invite_violations(homes: Homes, clock: list[int]) -> None:
    args = ("invite", "create", "--amount", "100", "--currency", "EUR")
    code = homes.run("alice", *args, "--expires", "1d").strip()
    assert homes.refused("alice", "invite", "accept", code) == "cannot accept your own invite"
    homes.sync("alice", "bob")
    clock[0] += 2 * DAY
    assert homes.refused("bob", "invite", "accept", code).startswith("invite expired at")
    revoked = homes.run("alice", *args).strip()
    invite_id = parse_invite_code(revoked).invite.hex()
    homes.run("alice", "invite", "revoke", invite_id[:10])
    assert homes.refused("alice", "invite", "revoke", invite_id[:10]) == (
        f"invite {invite_id[:12]} is already revoked"
    )
    homes.sync("alice", "bob")
    assert homes.refused("bob", "invite", "accept", revoked).startswith("invite was revoked at")
    used = homes.run("alice", *args).strip()
    homes.sync("alice", "bob", "carol")
    homes.run("bob", "invite", "accept", used)
    homes.sync("alice", "bob", "carol")
    assert homes.refused("carol", "invite", "accept", used).startswith(
        f"invite already used by {homes.ids['bob']}"
    )
    assert homes.refused(
        "alice", "invite", "revoke", parse_invite_code(used).invite.hex()[:10]
    ) == (f"invite was already accepted by {homes.ids['bob']}")
    assert homes.misused("bob", "invite", "accept", used[:-3] + "abc").startswith(
        "the invite code is damaged"
    )


def test_peer_violations_are_ignored_with_reasons(homes: Homes, clock: list[int]) -> None:
    ids, pledge, committed = homes.ids, homes.marks["pledge"], homes.marks["committed"]
    p, c = bytes.fromhex(pledge), bytes.fromhex(committed)
    bob, carol = parse_peer_id(ids["bob"]), parse_peer_id(ids["carol"])
    views = homes.views("alice")
    commit_entry = views.pledges.pledge(c).commit  # type: ignore[union-attr]
    assert commit_entry is not None
    code = homes.run(
        "alice", "invite", "create", "--amount", "100", "--currency", "EUR", "--expires", "1d"
    ).strip()
    invite = parse_invite_code(code)
    homes.sync("alice", "bob", "carol")
    before = {n: homes.run("bob", *n.split()) for n in ("ledger --json", "trust pool --json")}
    forged = {
        homes.force("bob", COMMIT, {"pledge": p}): "only the author of an intention can commit it",
        homes.force("alice", WITHDRAW, {"pledge": c}): "a commitment cannot be withdrawn",
        homes.force("alice", REVISE, {"pledge": c, "amount": 1}): "a commitment cannot be edited",
        homes.force("carol", FULFIL, {"pledge": c, "commitment": commit_entry.id}): (
            f"only the beneficiary ({ids['bob']}) can mark this commitment fulfilled"
        ),
        homes.force("carol", INTEND, {"to": bob, "amount": 0, "currency": "EUR"}): (
            "malformed pledge.intend: expected a positive amount, found 0.00 EUR"
        ),
        homes.force("carol", INTEND, {"to": bob, "amount": -500, "currency": "EUR"}): (
            "malformed pledge.intend: expected a positive amount, found -5.00 EUR"
        ),
        homes.force("carol", INTEND, {"to": bob, "amount": 5, "currency": "XYZ"}): (
            "malformed pledge.intend: unknown currency 'XYZ': expected an ISO 4217 code such as EUR"
        ),
        homes.force(
            "carol",
            TRUST_ACCEPT,
            {
                "invite": invite.invite,
                "inviter": invite.inviter,
                "amount": 100,
                "currency": "EUR",
                "proof": sign_acceptance(invite.secret, invite.invite, carol),
            },
            timestamp=invite.expires + 1,
        ): "invite expired at",
    }
    homes.sync("alice", "bob", "carol")
    for name in ("alice", "bob", "carol"):
        reasons = homes.invalid(name)
        assert set(reasons) == {e.id.hex() for e in forged}
        for entry, reason in forged.items():
            assert reasons[entry.id.hex()].startswith(reason)
    # The views went on as if the forged entries were not there.
    assert {n: homes.run("bob", *n.split()) for n in before} == before
    states = {p["id"]: p["state"] for p in homes.items("bob", "pledge", "list")}
    assert states == {pledge: "intention", committed: "committed"}
    table = homes.run("bob", "log", "--invalid")
    assert "ignored because" in table
    assert "commitment cannot be withdrawn" in table
