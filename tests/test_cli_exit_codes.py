"""Exit codes over every command group: 2 for bad usage, 1 for a refusal, one line each.

Bad usage is anything wrong with what was typed: a missing or unknown
argument, a malformed amount, currency, date, duration, peer id, entry id,
address or invite code. A refusal is a well-formed request that a rule or the
store turns down (a deadline in the past, an unknown entry, a second
acceptance). Neither stores anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.community_homes import Homes
from tests.conftest import CliRunner

PEER = "12D3KooWNyrGApAE74UNmhFMo7DfKiTSFLuyiUS9BWNXSggtmz95"

MISUSED = [
    # feed and store
    (("log", "--author", "bad"), "expected a participant id"),
    (("log", "--limit", "-1"), "--limit"),
    (("export",), "Missing argument"),
    # network
    (("sync", "10.1.2.3:4001"), "expected a multiaddr"),
    (("peer", "add", "/ip4/10.1.2.3/tcp/4001"), "/p2p/<peer id>"),
    (("peer", "remove", "nope"), "expected a participant id"),
    (("follow", "nope"), "expected a participant id"),
    (("node", "run", "--bootstrap", "nowhere"), "expected a multiaddr"),
    # trust
    (("invite", "create", "--amount", "abc", "--currency", "EUR"), "decimal amount"),
    (("invite", "create", "--amount", "10", "--currency", "EUR", "--expires", "3x"), "duration"),
    (("invite", "accept", "garbage"), "invite code"),
    # pledges
    (("pledge", "intend", "-5", "EUR", "--to", PEER), "amount must be positive, found -5"),
    (("pledge", "intend", "5", "XYZ", "--to", PEER), "unknown currency"),
    (("pledge", "intend", "1.234", "EUR", "--to", PEER), "EUR amounts have at most 2 decimals"),
    (("pledge", "intend", "5", "EUR"), "expected exactly one of --to, --request or --initiative"),
    (("pledge", "commit", "zz"), "expected an entry id (at least 4 hex digits)"),
    (("request", "create", "--amount", "0", "--currency", "EUR", "--reason", "x"), "positive"),
    (
        ("initiative", "propose", "T", "--goal", "5", "--currency", "EUR", "--deadline", "soon"),
        "date",
    ),
    # social
    (("distribute", "100", "XYZ"), "unknown currency"),
    (("rate", "ab", "3"), "expected a participant id"),
    (("idea", "list", "--sort", "oldest"), "expected utility or recent"),
    (("poll", "new", "Q?", "--option", "a", "--option", "b", "--closes", "later"), "date"),
    # agreements
    (("agreement", "show", "zz"), "expected an entry id"),
]

REFUSED = [
    (("pledge", "commit", "abcdef"), "no entry with id starting abcdef"),
    (
        (
            "initiative",
            "propose",
            "T",
            "--goal",
            "5",
            "--currency",
            "EUR",
            "--deadline",
            "2020-01-01",
        ),
        "expected a deadline in the future, found 2020-01-01 23:59:59 UTC",
    ),
    (
        ("poll", "new", "Q?", "--option", "a", "--option", "b", "--closes", "2020-01-01"),
        "expected a closing time in the future",
    ),
    (("peer", "remove", PEER), "is not in the peer book"),
    (
        ("pledge", "intend", "5", "EUR", "--to", PEER),
        "was never seen here and is not on your trust",
    ),
    (("log", "--author", "Kooabcdef"), "no known participant is called 'Kooabcdef'"),
]


@pytest.fixture
def homes(tmp_path: Path, cli: CliRunner) -> Homes:
    return Homes(cli, tmp_path, "ana")


@pytest.mark.parametrize(("args", "message"), MISUSED, ids=lambda v: " ".join(v)[:40])
def test_bad_usage_exits_2(homes: Homes, args: tuple[str, ...], message: str) -> None:
    assert message in homes.misused("ana", *args)


@pytest.mark.parametrize(("args", "message"), REFUSED, ids=lambda v: " ".join(v)[:40])
def test_refusals_exit_1(homes: Homes, args: tuple[str, ...], message: str) -> None:
    assert message in homes.refused("ana", *args)


def test_a_past_due_date_is_refused_by_the_same_check(homes: Homes) -> None:
    pledge = homes.run("ana", "pledge", "intend", "5", "EUR", "--to", PEER, "--force").strip()
    refusal = homes.refused("ana", "pledge", "commit", pledge, "--due", "2020-01-01", "--force")
    assert refusal == "expected a due date in the future, found 2020-01-01 23:59:59 UTC"


def test_the_amount_limit_is_given_in_the_currency(homes: Homes) -> None:
    refusal = homes.misused("ana", "pledge", "intend", "1" + "0" * 16, "EUR", "--to", PEER)
    assert "at most 10000000000000.00 EUR" in refusal
    assert "minor units" not in refusal


def test_a_second_acceptance_of_one_code_is_refused_while_the_inviter_is_absent(
    tmp_path: Path, cli: CliRunner
) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob")
    code = homes.run("alice", "invite", "create", "--amount", "100", "--currency", "EUR")
    code = code.strip().splitlines()[-1]
    homes.run("bob", "invite", "accept", code)  # alice's feed is not at bob's
    refusal = homes.refused("bob", "invite", "accept", code)
    assert refusal.startswith("you already accepted invite ")
