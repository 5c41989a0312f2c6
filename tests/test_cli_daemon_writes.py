"""Write commands through the running daemon equal the same commands offline.

Each write runs twice on one home whose daemon serves the API: once with
``--offline`` (the action on the store) and once through the daemon (the
in-process CLI is forbidden to open the store). The two outputs, text and
``--json``, are equal once the ids, times and invite codes that necessarily
differ between two records are masked. Refusals change nothing, so they are
compared byte for byte, with their exit codes (1 for a refusal, 2 for a
malformed value or id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from samoorg.node.processes import run_cli
from tests.api_fixtures import (
    ApiNode,
    api_node_fixture,
    caught_up,
    masked,
    run_on,
)
from tests.conftest import CliRunner

pytestmark = [pytest.mark.slow, pytest.mark.network]
__all__ = ["api_node_fixture"]


@pytest.fixture(name="node", scope="module")
def node_fixture(api_node: ApiNode) -> ApiNode:
    """The module's daemon (``tests/api_fixtures.py``), named as these tests name it."""
    return api_node


@pytest.fixture(name="friend", scope="module")
def friend_fixture(node: ApiNode, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second participant on ana's trust list, whose feed ana holds; two invites of theirs."""
    root = tmp_path_factory.mktemp("friend")
    friend = root / "friend"
    run_cli(friend, "init")
    code = run_cli(node.home, "invite", "create", "--amount", "100", "--currency", "EUR").stdout
    run_cli(node.home, "--offline", "export", str(root / "ana.bundle"))
    run_cli(friend, "import", str(root / "ana.bundle"))
    run_cli(friend, "invite", "accept", code.split()[0])
    for amount in ("30", "40"):
        run_cli(friend, "invite", "create", "--amount", amount, "--currency", "EUR")
    run_cli(friend, "export", str(root / "friend.bundle"))
    run_cli(node.home, "--offline", "import", str(root / "friend.bundle"))
    caught_up(node)
    return friend


def _friend_id(friend: Path) -> str:
    return str(json.loads(run_cli(friend, "whoami", "--json").stdout)["id"])


Args = Callable[[str], tuple[str, ...]]


def _same_write(
    node: ApiNode,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    args: Args,
    targets: Sequence[str] = ("",) * 4,
) -> list[dict[str, Any]]:
    """Four runs of a write, ``args(target)`` each: offline and through the daemon, as text
    and as ``--json``; the masked outputs must agree. Returns the two JSON answers."""
    assert len(targets) == 4
    runs = [
        run_on(node, cli, monkeypatch, offline, *args(target), *extra)
        for (offline, extra), target in zip(
            ((True, ()), (False, ()), (True, ("--json",)), (False, ("--json",))),
            targets,
            strict=True,
        )
    ]
    for run in runs:
        assert run.code == 0, run.err
    assert masked(runs[1].out) == masked(runs[0].out) != ""
    assert masked(runs[1].err) == masked(runs[0].err)
    assert masked(runs[3].out) == masked(runs[2].out)
    return [json.loads(runs[2].out), json.loads(runs[3].out)]


def _same_refusal(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, code: int, *args: str
) -> str:
    offline = run_on(node, cli, monkeypatch, True, *args)
    through = run_on(node, cli, monkeypatch, False, *args)
    assert (through.code, through.out, through.err) == (offline.code, offline.out, offline.err)
    assert through.code == code, through.err
    assert through.err.startswith("error: ")
    return through.err


def _made(home: Path, *args: str, key: str = "id") -> list[str]:
    """Four records made offline with ``args`` (``--json``): their ids."""
    return [str(json.loads(run_cli(home, *args, "--json").stdout)[key]) for _ in range(4)]


def test_forum_ratings_and_polls(
    node: ApiNode, friend: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ideas = _same_write(
        node, cli, monkeypatch, lambda _: ("idea", "post", "a garden", "--body", "b")
    )
    mine = _made(node.home, "--offline", "idea", "post", "mine")
    _same_write(node, cli, monkeypatch, lambda t: ("comment", t[:12], "yes"), mine)
    friend_id = _friend_id(friend)
    _same_write(node, cli, monkeypatch, lambda _: ("rate", friend_id[-10:], "4", "--comment", "ok"))
    theirs = _made(friend, "idea", "post", "friend's")
    run_cli(friend, "export", str(friend.parent / "idea.bundle"))
    run_cli(node.home, "--offline", "import", str(friend.parent / "idea.bundle"))
    _same_write(node, cli, monkeypatch, lambda t: ("rate", t[:12], "5"), theirs)
    _same_refusal(node, cli, monkeypatch, 1, "rate", str(ideas[0]["id"])[:12], "3")
    _same_refusal(node, cli, monkeypatch, 2, "comment", "zz", "no")
    _same_refusal(node, cli, monkeypatch, 1, "comment", "0000abcd", "no")
    poll = ("poll", "new", "Day?", "--option", "Mon", "--option", "Tue")
    _same_write(node, cli, monkeypatch, lambda _: poll)
    polls = _made(node.home, "--offline", *poll)
    votes = _same_write(node, cli, monkeypatch, lambda t: ("vote", t[:12], "tue"), polls)
    assert [v["number"] for v in votes] == [2, 2]
    _same_refusal(node, cli, monkeypatch, 1, "vote", polls[0][:12], "9")


def test_pledges_requests_and_initiatives(
    node: ApiNode, friend: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    to = _friend_id(friend)
    intend = ("pledge", "intend", "20", "EUR", "--to", to)
    _same_write(node, cli, monkeypatch, lambda _: intend)
    pledges = _made(node.home, "--offline", *intend)
    _same_write(node, cli, monkeypatch, lambda t: ("pledge", "revise", t[:12], "25"), pledges)
    _same_refusal(node, cli, monkeypatch, 2, "pledge", "revise", pledges[0], "x")
    _same_refusal(node, cli, monkeypatch, 2, "pledge", "withdraw", "zz")
    _same_refusal(node, cli, monkeypatch, 1, "pledge", "withdraw", "0000abcd")
    _same_write(node, cli, monkeypatch, lambda t: ("pledge", "commit", t, "--due", "9d"), pledges)
    _same_refusal(node, cli, monkeypatch, 1, "pledge", "withdraw", pledges[0])
    _same_refusal(node, cli, monkeypatch, 1, "pledge", "fulfilled", pledges[0])  # not ours to
    more = _made(node.home, "--offline", *intend)
    _same_write(node, cli, monkeypatch, lambda t: ("pledge", "withdraw", t), more)
    ask = ("request", "create", "--amount", "300", "--currency", "EUR", "--reason", "a boiler")
    propose = ("initiative", "propose", "an oven", "--goal", "900", "--currency", "EUR")
    for kind, made, target in (
        ("request", ask, "--request"),
        ("initiative", propose, "--initiative"),
    ):
        _same_write(node, cli, monkeypatch, lambda _, made=made: made)
        appeals = _made(node.home, "--offline", *made)
        own = ("pledge", "intend", "5", "EUR", target, appeals[0][:12])
        _same_refusal(node, cli, monkeypatch, 1, *own)
        closed = _same_write(
            node,
            cli,
            monkeypatch,
            lambda t, k=kind: (k, "close", t[:12], "--note", "done"),
            appeals,
        )
        assert [c["released"] for c in closed] == [[], []]
        _same_refusal(node, cli, monkeypatch, 1, kind, "close", appeals[0][:12])
    _same_refusal(node, cli, monkeypatch, 2, "pledge", "intend", "5", "XXX", "--to", to)


def test_invites_and_agreements(
    node: ApiNode, friend: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    invite = ("invite", "create", "--amount", "10", "--currency", "EUR", "--note", "hi")
    _same_write(node, cli, monkeypatch, lambda _: invite)
    sent = _made(node.home, "--offline", *invite, key="invite")
    _same_write(node, cli, monkeypatch, lambda t: ("invite", "revoke", t[:12]), sent)
    _same_refusal(node, cli, monkeypatch, 1, "invite", "revoke", sent[0][:12])
    _same_refusal(node, cli, monkeypatch, 2, "invite", "accept", "not-a-code")
    codes = _made(friend, "invite", "create", "--amount", "7", "--currency", "EUR", key="code")
    run_cli(friend, "export", str(tmp_path / "friend.bundle"))
    run_cli(node.home, "--offline", "import", str(tmp_path / "friend.bundle"))
    _same_write(node, cli, monkeypatch, lambda t: ("invite", "accept", t), codes)
    _same_refusal(node, cli, monkeypatch, 1, "invite", "accept", codes[0])
    text = tmp_path / "rules.txt"
    text.write_text("Be kind.\n", encoding="utf-8")
    _same_write(node, cli, monkeypatch, lambda _: ("agreement", "new", "Rules", "-f", str(text)))
    made = _made(
        node.home, "--offline", "agreement", "new", "Rules", "-f", str(text), key="agreement"
    )
    text.write_text("Be kind.\nShare.\n", encoding="utf-8")
    _same_write(
        node, cli, monkeypatch, lambda t: ("agreement", "edit", t[:12], "-f", str(text)), made
    )
    _same_refusal(node, cli, monkeypatch, 1, "agreement", "edit", made[0], "-f", str(text))
    _same_write(node, cli, monkeypatch, lambda t: ("agreement", "accept", t[:12]), made)
    _same_refusal(node, cli, monkeypatch, 1, "agreement", "accept", made[0][:12])


def test_portal_listings_searches_and_refusals(
    node: ApiNode, friend: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer = ("listing", "offer", "Bike repair", "--tag", "services", "--price", "15")
    offer += ("--currency", "EUR", "--per", "hourly", "--quantity", "2", "--unit", "hours")
    made = _same_write(node, cli, monkeypatch, lambda _: offer)
    assert made[0]["amount"] == {"EUR": "15.00"}
    mine = _made(node.home, "--offline", "listing", "request", "A ladder", "--tag", "goods")
    _same_write(
        node, cli, monkeypatch, lambda t: ("listing", "edit", t[:12], "--quantity", "3"), mine
    )
    _same_write(node, cli, monkeypatch, lambda t: ("listing", "close", t[:12], "--withdraw"), mine)
    for args in (
        ("listing", "search", "bike", "--json"),
        ("listing", "list", "--status", "withdrawn"),
    ):
        offline = run_on(node, cli, monkeypatch, True, *args)
        through = run_on(node, cli, monkeypatch, False, *args)
        assert (through.code, through.out) == (offline.code, offline.out)
    _same_refusal(node, cli, monkeypatch, 1, "listing", "offer", "x", "--tag", "fun")
    _same_refusal(node, cli, monkeypatch, 2, "listing", "search", "x", "--max-price", "5")
    _same_refusal(node, cli, monkeypatch, 1, "review", "0000abcd", "5")


def test_orgs_their_listings_and_reads(
    node: ApiNode, friend: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _same_write(
        node, cli, monkeypatch, lambda _: ("org", "new", "Guild", "--contact", "url=guild.org")
    )
    assert made[0]["contacts"] == [{"type": "url", "value": "guild.org"}]
    orgs = _made(node.home, "--offline", "org", "new", "Bakery")
    friend_id = _friend_id(friend)
    _same_write(node, cli, monkeypatch, lambda t: ("org", "invite", t[:12], friend_id[-8:]), orgs)
    _same_write(node, cli, monkeypatch, lambda t: ("org", "edit", t[:10], "--name", "Bakers"), orgs)
    _same_refusal(node, cli, monkeypatch, 1, "org", "leave", orgs[0][:12])  # the last admin
    _same_refusal(node, cli, monkeypatch, 1, "org", "admin", orgs[0][:12], friend_id)  # invited
    _same_refusal(node, cli, monkeypatch, 1, "org", "show", "Guild")  # four orgs are called so
    _same_refusal(node, cli, monkeypatch, 1, "distribute", "10", "EUR", "--org", orgs[0][:12])
    offer = ("listing", "offer", "Rye bread", "--tag", "food", "--org", orgs[0][-8:])
    listings = _same_write(node, cli, monkeypatch, lambda _: offer)
    assert listings[0]["org"] == listings[1]["org"] == orgs[0]
    caught_up(node)
    for args in (
        ("org", "show", orgs[0][:12]),
        ("org", "show", orgs[0][:12], "--json"),
        ("org", "list", "--json"),
        ("org", "list", "--member", friend_id),
        ("listing", "search", "rye", "--org", orgs[0][:12], "--json"),
        ("listing", "show", str(listings[0]["id"])[:12]),
        ("listing", "show", str(listings[0]["id"])[:12], "--json"),
    ):
        offline = run_on(node, cli, monkeypatch, True, *args)
        through = run_on(node, cli, monkeypatch, False, *args)
        assert offline.code == 0, offline.err
        assert (through.code, through.out) == (offline.code, offline.out), args


def test_devices_add_revoke_and_list(
    node: ApiNode, friend: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    added = _same_write(
        node, cli, monkeypatch, lambda _: ("device", "add", "--addr", "/ip4/127.0.0.1/tcp/1")
    )
    assert [a["code"].startswith("samoorg-device:") for a in added] == [True, True]
    code = json.loads(run_cli(node.home, "--offline", "device", "add", "--json").stdout)["code"]
    tablet = tmp_path / "tablet"
    run_cli(tablet, "init", "--join-identity", code)
    run_cli(tablet, "export", str(tmp_path / "tablet.bundle"))
    run_cli(node.home, "--offline", "import", str(tmp_path / "tablet.bundle"))
    caught_up(node)
    tablet_id = json.loads(run_cli(tablet, "whoami", "--json").stdout)["device"]
    revoked = _same_write(
        node, cli, monkeypatch, lambda _: ("device", "revoke", tablet_id, "--from-seq", "5")
    )
    assert [r["from"] for r in revoked] == [5, 5]
    for args in (("device", "list"), ("device", "list", "--json")):
        offline = run_on(node, cli, monkeypatch, True, *args)
        through = run_on(node, cli, monkeypatch, False, *args)
        assert (through.code, through.out) == (offline.code, offline.out)
        assert "revoked from entry 5" in offline.out or '"revoked_from": 5' in offline.out
    me = _friend_id(node.home)
    _same_refusal(node, cli, monkeypatch, 1, "device", "revoke", me)
    _same_refusal(node, cli, monkeypatch, 1, "device", "revoke", _friend_id(friend))
    _same_refusal(node, cli, monkeypatch, 2, "device", "revoke", "zz")


def test_a_write_without_an_answer_is_not_repeated_on_the_store(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.client

    def no_answer(self: http.client.HTTPConnection) -> None:
        raise TimeoutError("timed out")

    before = json.loads(run_cli(node.home, "--offline", "log", "--all", "--json").stdout)
    with monkeypatch.context() as patched:
        patched.setattr(http.client.HTTPConnection, "getresponse", no_answer)
        lost = cli(node.home, "idea", "post", "sent once")
    assert lost.code == 1
    assert "the record may have been stored" in lost.err
    caught_up(node)
    after = json.loads(run_cli(node.home, "--offline", "log", "--all", "--json").stdout)
    titles = [e["body"].get("title") for e in after["items"]]
    # The daemon may have stored it (or dropped it when the connection closed); never twice.
    assert titles.count("sent once") <= 1
    assert len(after["items"]) - len(before["items"]) == titles.count("sent once")
