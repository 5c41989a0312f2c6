"""The CLI as a client of its home's running daemon: same output, no store access.

A real ``samoorg node run`` serves the API; the CLI runs in this process, so
a test can forbid it to open the store and so prove that an answer came from
the daemon. Every read is compared with ``--offline`` (the store directly),
as text and as ``--json``, byte for byte.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from samoorg.cli.daemon_client import DaemonClient, DaemonUnavailable
from samoorg.node.api.pages import encode_cursor
from samoorg.node.processes import run_cli
from tests.api_fixtures import ApiNode, new_participant, start_api_node, store_forbidden
from tests.conftest import CliRunner

pytestmark = [pytest.mark.slow, pytest.mark.network]

READS: tuple[tuple[str, ...], ...] = (
    ("trust", "list"),
    ("trust", "pool"),
    ("idea", "list"),
    ("idea", "list", "--sort", "recent", "--limit", "2"),
    ("pledge", "list"),
    ("pledge", "list", "--everyone", "--all"),
    ("log",),
    ("log", "--limit", "3"),
    ("log", "--kind", "forum.idea", "--all"),
    ("ledger",),
    ("ledger", "--mine"),
    ("ledger", "--limit", "1"),
    ("ledger", "--mine", "--limit", "1", "--cursor", encode_cursor(1)),
    ("ledger", "--all"),
    ("inbox",),
    ("request", "list"),
    ("request", "list", "--limit", "1"),
    ("initiative", "list"),
    ("initiative", "list", "--all"),
    ("invite", "list"),
    ("invite", "list", "--limit", "1"),
    ("ratings",),
    ("ratings", "--limit", "1"),
    ("utility",),
    ("utility", "--limit", "1"),
    ("poll", "list"),
    ("poll", "list", "--limit", "1"),
    ("agreement", "list"),
    ("agreement", "list", "--limit", "1"),
    ("members",),
    ("distribute", "1000", "EUR"),
    ("distribute", "99.95", "EUR"),
    ("log", "--invalid"),
    ("log", "--invalid", "--kind", "trust.accept", "--limit", "1"),
)
SHOWN: tuple[tuple[str, str], ...] = (("poll", "poll.new"), ("agreement", "agreement.new"))
"""``show ID`` commands and the kind of the entry they show (compared like READS)."""


@pytest.fixture(name="node", scope="module")
def node_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    root = tmp_path_factory.mktemp("daemon-client")
    friend = root / "friend"
    friend_id = new_participant(friend)
    node = start_api_node(root / "ana")
    for i in range(4):
        run_cli(node.home, "--offline", "idea", "post", f"idea {i}", "--body", f"body {i}")
    intended = run_cli(
        node.home,
        "--offline",
        "pledge",
        "intend",
        "25",
        "EUR",
        "--to",
        friend_id,
        "--json",
        "--force",
    )
    pledge = json.loads(intended.stdout)["id"]
    run_cli(node.home, "--offline", "pledge", "commit", pledge[:12], "--due", "30d", "--force")
    run_cli(node.home, "--offline", "pledge", "intend", "5", "EUR", "--to", friend_id, "--force")
    # A second debt to the friend (another currency), so that the ledger has two pages of one.
    chf = run_cli(
        node.home,
        "--offline",
        "pledge",
        "intend",
        "7",
        "CHF",
        "--to",
        friend_id,
        "--force",
        "--json",
    )
    run_cli(
        node.home, "--offline", "pledge", "commit", json.loads(chf.stdout)["id"][:12], "--force"
    )
    _social_and_agreements(root, node, friend, friend_id)
    try:
        _appeals_and_invites(node.home)
        yield node
    finally:
        assert node.process.stop() == 0, node.process.log_tail()


def _appeals_and_invites(home: Path) -> None:
    """Two help requests and two initiatives (one of each closed with a note), two invites."""

    def created(*args: str) -> str:
        answer = json.loads(run_cli(home, "--offline", *args, "--currency", "EUR", "--json").stdout)
        return str(answer["id"])

    asked = [
        created("request", "create", "--amount", "300", "--reason", "a new boiler"),
        created("request", "create", "--amount", "40", "--reason", "bus fare", "--monthly"),
    ]
    proposed = [
        created("initiative", "propose", title, "--goal", goal, "--deadline", "30d")
        for title, goal in (("a shared oven", "900"), ("a tool library", "250"))
    ]
    for kind, closed in (("request", asked[0]), ("initiative", proposed[1])):
        run_cli(home, "--offline", kind, "close", closed[:12], "--note", "no longer needed")
    for amount in ("100", "50"):
        run_cli(home, "--offline", "invite", "create", "--amount", amount, "--currency", "EUR")


def _social_and_agreements(root: Path, node: ApiNode, friend: Path, friend_id: str) -> None:
    """Two or more ratings, trust-list members, polls and agreements, all seen by the daemon."""
    invited = run_cli(
        node.home, "--offline", "invite", "create", "--amount", "100", "--currency", "EUR"
    )
    run_cli(node.home, "--offline", "export", str(root / "ana.bundle"))
    run_cli(friend, "import", str(root / "ana.bundle"))
    run_cli(friend, "invite", "accept", invited.stdout.split()[0])
    posted = run_cli(friend, "idea", "post", "friend's idea", "--json")
    run_cli(friend, "export", str(root / "friend.bundle"))
    run_cli(node.home, "--offline", "import", str(root / "friend.bundle"))
    run_cli(node.home, "--offline", "rate", friend_id, "4", "--comment", "reliable")
    run_cli(node.home, "--offline", "rate", json.loads(posted.stdout)["id"][:12], "5")
    for question in ("Spokesperson?", "Meeting day?"):
        made = run_cli(
            node.home,
            "--offline",
            "poll",
            "new",
            question,
            "--option",
            "a",
            "--option",
            "b",
            "--closes",
            "7d",
            "--json",
        )
        run_cli(node.home, "--offline", "vote", json.loads(made.stdout)["id"][:12], "2")
    for title in ("Rules", "Charter"):
        text = root / f"{title}.txt"
        text.write_text(f"The {title.lower()} of the community.\n", encoding="utf-8")
        run_cli(node.home, "--offline", "agreement", "new", title, "--file", str(text))
    first = json.loads(run_cli(node.home, "--offline", "agreement", "list", "--json").stdout)
    run_cli(node.home, "--offline", "agreement", "accept", first["items"][0]["agreement"][:12])
    # The daemon confirms the friend's acceptance of our invite in our feed; wait for that
    # and for the daemon to hold every stored entry, so nothing changes during the tests.
    for _ in range(200):
        confirmed = node.api.get("/log?kind=trust.confirm").json()["items"]
        offline = json.loads(run_cli(node.home, "--offline", "status", "--json").stdout)
        held = node.api.get("/status").json()["store"]["entries"]
        if confirmed and held == offline["store"]["entries"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the daemon did not catch up with the store")
    for listing in (("ratings",), ("utility",), ("poll", "list"), ("agreement", "list")):
        page = json.loads(run_cli(node.home, "--offline", *listing, "--json").stdout)
        assert len(page["items"]) >= 2, listing


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reads_through_the_daemon_equal_offline(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    offline_text = cli(node.home, "--offline", *args)
    offline_json = cli(node.home, "--offline", *args, "--json")
    assert offline_text.code == offline_json.code == 0, offline_text.err
    store_forbidden(monkeypatch)
    through_text = cli(node.home, *args)
    through_json = cli(node.home, *args, "--json")
    assert (through_text.code, through_text.out) == (0, offline_text.out)
    assert (through_json.code, through_json.out) == (0, offline_json.out)
    assert through_text.err == through_json.err == ""


@pytest.mark.parametrize(("command", "kind"), SHOWN, ids=[c for c, _ in SHOWN])
def test_show_through_the_daemon_equals_offline(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, command: str, kind: str
) -> None:
    shown = json.loads(cli(node.home, "--offline", "log", "--kind", kind, "--json").out)
    assert len(shown["items"]) >= 2
    ident = shown["items"][0]["id"][:10]
    variants = [(command, "show", ident)]
    if command == "agreement":  # an earlier version, by the entry id of its newest edit
        variants.append(("agreement", "show", ident, "--version", ident))
        variants += [("agreement", "history", ident), ("agreement", "blame", ident)]
        variants.append(("members", "--agreement", ident))
    for args in variants:
        offline_text = cli(node.home, "--offline", *args)
        offline_json = cli(node.home, "--offline", *args, "--json")
        assert offline_text.code == offline_json.code == 0, offline_text.err
        with monkeypatch.context() as patched:
            store_forbidden(patched)
            through_text = cli(node.home, *args)
            through_json = cli(node.home, *args, "--json")
        assert (through_text.code, through_text.out) == (0, offline_text.out)
        assert (through_json.code, through_json.out) == (0, offline_json.out)
    missing = "0000abcd"  # no entry's id starts so (a chance of about 1e-8 here)
    with monkeypatch.context() as patched:
        store_forbidden(patched)
        refused = cli(node.home, command, "show", missing)
    offline_refusal = cli(node.home, "--offline", command, "show", missing)
    assert (refused.code, refused.err) == (offline_refusal.code, offline_refusal.err)
    assert refused.code == 1


def test_pages_follow_cursors_the_same_way(node: ApiNode, cli: CliRunner) -> None:
    offline = json.loads(cli(node.home, "--offline", "log", "--limit", "2", "--json").out)
    through = json.loads(cli(node.home, "log", "--limit", "2", "--json").out)
    assert through == offline
    cursor = through["next_cursor"]
    assert cursor is not None
    rest_offline = cli(node.home, "--offline", "log", "--limit", "2", "--cursor", cursor, "--json")
    rest_through = cli(node.home, "log", "--limit", "2", "--cursor", cursor, "--json")
    assert rest_through.out == rest_offline.out
    assert json.loads(rest_through.out)["items"] != through["items"]


def test_ledger_all_through_the_daemon_joins_its_pages(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = json.loads(cli(node.home, "--offline", "ledger", "--all", "--json").out)
    assert offline["totals"]["outstanding"] == len(offline["outstanding"]) == 2
    first = json.loads(cli(node.home, "ledger", "--limit", "1", "--json").out)
    assert (len(first["outstanding"]), first["next_cursor"]) == (1, encode_cursor(1))
    store_forbidden(monkeypatch)
    monkeypatch.setattr("samoorg.cli.daemon_client.PAGE_LIMIT", 1)  # --all: a page per row
    through = cli(node.home, "ledger", "--all", "--json")
    assert (through.code, json.loads(through.out)) == (0, offline)


def test_idea_show_and_post_through_the_daemon(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ideas = json.loads(cli(node.home, "--offline", "idea", "list", "--all", "--json").out)
    first = ideas["items"][0]["id"]
    offline = cli(node.home, "--offline", "idea", "show", first[:10])
    with monkeypatch.context() as patched:
        store_forbidden(patched)
        shown = cli(node.home, "idea", "show", first[:10])
        posted = cli(node.home, "idea", "post", "through the daemon", "--json")
        refused = cli(node.home, "idea", "post", "   ")
    assert (shown.code, shown.out) == (0, offline.out)
    assert posted.code == 0, posted.err
    new_id = json.loads(posted.out)["id"]
    listed = json.loads(cli(node.home, "--offline", "log", "--limit", "1", "--json").out)
    assert listed["items"][0]["id"] == new_id
    offline_refusal = cli(node.home, "--offline", "idea", "post", "   ")
    assert refused.code == offline_refusal.code == 1
    assert refused.err == offline_refusal.err
    assert refused.err.startswith("error: ")


def test_a_daemon_that_does_not_answer_falls_back_to_the_store(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def silent(self: DaemonClient, method: str, path: str, body: bytes | None) -> None:
        raise DaemonUnavailable("timed out")

    expected = cli(node.home, "--offline", "trust", "pool")
    monkeypatch.setattr(DaemonClient, "_request", silent)
    answered = cli(node.home, "trust", "pool")
    assert (answered.code, answered.out) == (0, expected.out)
    assert answered.err.startswith("warning: the daemon did not answer (timed out)")


@pytest.mark.parametrize("kind", ["request", "initiative"])
def test_appeal_show_through_the_daemon_equals_offline(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    listed = json.loads(cli(node.home, "--offline", kind, "list", "--all", "--json").out)
    assert len(listed["items"]) == 2
    other = "initiative" if kind == "request" else "request"
    wrong = json.loads(cli(node.home, "--offline", other, "list", "--json").out)["items"][0]["id"]
    shows = [(kind, "show", row["id"][:10]) for row in listed["items"]]
    expected = [
        (cli(node.home, "--offline", *args), cli(node.home, "--offline", *args, "--json"))
        for args in shows
    ]
    refusal = cli(node.home, "--offline", kind, "show", wrong[:10])
    with monkeypatch.context() as patched:
        store_forbidden(patched)
        answered = [(cli(node.home, *args), cli(node.home, *args, "--json")) for args in shows]
        refused = cli(node.home, kind, "show", wrong[:10])
    for (text, as_json), (offline_text, offline_json) in zip(answered, expected, strict=True):
        assert (text.code, text.out) == (0, offline_text.out), offline_text.err
        assert (as_json.code, as_json.out) == (0, offline_json.out)
    details = [json.loads(as_json.out) for _, as_json in answered]
    assert [d["id"] for d in details] == [row["id"] for row in listed["items"]]
    assert [d["close_note"] for d in details if d["closed"]] == ["no longer needed"]
    assert refusal.code == refused.code == 1
    assert refused.err == refusal.err
    assert "expected the id of a" in refused.err


MALFORMED: tuple[tuple[str, ...], ...] = (
    ("idea", "show", "zz"),
    ("poll", "show", "zz"),
    ("request", "show", "zz"),
    ("initiative", "show", "zz"),
    ("agreement", "show", "zz"),
    ("agreement", "history", "zz"),
    ("agreement", "blame", "zz"),
    ("members", "--agreement", "zz"),
    ("distribute", "-5", "EUR"),
    ("distribute", "5", "XXX"),
)


@pytest.mark.parametrize("args", MALFORMED, ids=" ".join)
def test_malformed_ids_and_values_are_bad_usage_both_ways(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    offline = cli(node.home, "--offline", *args)
    with monkeypatch.context() as patched:
        store_forbidden(patched)
        through = cli(node.home, *args)
    assert (through.code, through.out, through.err) == (offline.code, offline.out, offline.err)
    assert through.code == 2, through.err
