"""A daemon still loading its views: ``503 loading``, and the CLI waits for it.

The decision of the client (:class:`~samoorg.cli.daemon_client.LoadingWait`)
is tested without I/O; one real daemon, started with ``--api-loading-wait 0``
so that a request never waits for a domain not loaded yet, answers the typed
error, and the CLI waits for the load instead of reading the store offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samoorg.cli.daemon_client import LOADING_BUDGET, RETRY_BOUNDS, LoadingWait
from samoorg.node.checkpoint import checkpoint_path
from samoorg.node.home import Home
from samoorg.node.processes import run_cli
from samoorg.node.store import Store
from tests.api_fixtures import ApiNode, new_participant, start_api_node, stop_api_node


def test_wait_follows_retry_after_within_bounds() -> None:
    wait = LoadingWait()
    assert wait.delay(100.0, "2") == 2.0
    assert wait.delay(101.0, "0") == RETRY_BOUNDS[0]
    assert wait.delay(102.0, "3600") == RETRY_BOUNDS[1]
    assert wait.delay(103.0, None) == 1.0
    assert wait.delay(104.0, "Wed, 21 Oct 2015 07:28:00 GMT") == 1.0


def test_wait_gives_up_after_the_budget_counted_from_the_first_answer() -> None:
    wait = LoadingWait(budget=10.0)
    assert wait.delay(50.0, "5") == 5.0
    assert wait.delay(58.5, "5") == pytest.approx(1.5)  # never past the budget
    assert wait.delay(60.0, "1") is None
    assert wait.delay(61.0, "1") is None


@given(st.lists(st.floats(min_value=0, max_value=1000), min_size=1, max_size=50))
def test_total_wait_is_bounded(gaps: list[float]) -> None:
    wait = LoadingWait()
    now = 0.0
    for gap in gaps:
        delay = wait.delay(now, "1")
        if delay is None:
            assert now >= LOADING_BUDGET
            return
        assert RETRY_BOUNDS[0] <= delay or now + delay == pytest.approx(LOADING_BUDGET)
        assert now + delay <= LOADING_BUDGET + 1e-9
        now += delay + gap


def test_one_announcement_naming_the_domains() -> None:
    wait = LoadingWait()
    assert wait.announcement(["pledges"]) == "waiting for the daemon to load the pledges view..."
    assert wait.announcement(["pledges"]) is None
    both = LoadingWait().announcement(["pledges", "profiles"])
    assert both == "waiting for the daemon to load the pledges, profiles views..."
    assert LoadingWait().announcement([]) == "waiting for the daemon to load its views..."


@pytest.fixture(name="node", scope="module")
def node_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    """A daemon restarted over its own checkpoint, that never waits for a loading view."""
    root = tmp_path_factory.mktemp("loading")
    friend_id = new_participant(root / "friend")
    home = root / "ana"
    first = start_api_node(home)
    run_cli(home, "pledge", "intend", "25", "EUR", "--to", friend_id, "--force")
    stop_api_node(first)  # saves the checkpoint the next start loads from
    with Store(Home(home).store_file) as store:
        assert checkpoint_path(store).exists()
    node = start_api_node(home, "--api-loading-wait", "0")
    try:
        yield node
    finally:
        stop_api_node(node)


@pytest.mark.slow
@pytest.mark.network
def test_loading_answer_and_the_cli_waits_for_the_daemon(node: ApiNode) -> None:
    # The first read of the forum: its views are not loaded, and the daemon never waits.
    waited = run_cli(node.home, "idea", "list")
    (line,) = waited.stderr.splitlines()
    assert line.startswith("waiting for the daemon to load the ")
    assert "forum" in line
    assert "using the store" not in waited.stderr
    assert waited.stdout == run_cli(node.home, "--offline", "idea", "list").stdout

    answer = node.api.get("/pledges")
    assert answer.status == 503, answer.body
    body = answer.json()
    assert body["error"] == "loading"
    assert {d["domain"] for d in body["loading"]} <= {"pledges", "profiles"}
    assert answer.headers["retry-after"] == "1"

    listed = run_cli(node.home, "pledge", "list", "--json")
    assert "using the store" not in listed.stderr
    assert len(json.loads(listed.stdout)["items"]) == 1

    views = node.api.get("/status").json()["daemon"]["views"]
    assert {"pledges", "profiles", "forum"} <= set(views["loaded"])
    assert views["loading"] == []
    status = run_cli(node.home, "status").stdout
    assert "views:   loaded" in status
