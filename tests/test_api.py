"""The daemon's HTTP API against a real ``samoorg node run``: contract, security, events."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from pathlib import Path

import pytest

from samoorg.node.processes import run_cli
from tests.api_fixtures import ApiNode, api_node_fixture, start_api_node

__all__ = ["api_node_fixture"]

pytestmark = [pytest.mark.slow, pytest.mark.network]


def test_status_names_the_api_as_the_cli_does(api_node: ApiNode) -> None:
    answer = api_node.api.get("/status")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    status = answer.json()
    api = status["api"]
    assert api == {"url": api_node.process.api_url, "token_file": str(api_node.home / "api.token")}
    cli = api_node.cli_json("status")
    assert cli["api"] == api
    assert set(cli) == set(status)
    assert (cli["id"], cli["home"], cli["store"]) == (status["id"], status["home"], status["store"])
    assert (api_node.home / "api.token").stat().st_mode & 0o777 == 0o600


def test_every_request_needs_the_token(api_node: ApiNode) -> None:
    missing = api_node.api.get("/status", auth=False)
    assert missing.status == 401
    assert missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = api_node.api.get("/status", auth=False, headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert wrong.json()["error"] == "unauthorized"
    basic = api_node.api.get("/openapi.json", auth=False, headers={"Authorization": "Basic eDp5"})
    assert basic.status == 401
    posted = api_node.api.post_json("/ideas", {"title": "no token"}, auth=False)
    assert posted.status == 401


def test_foreign_origin_and_host_are_refused(api_node: ApiNode) -> None:
    port = api_node.api.port
    foreign = api_node.api.get("/status", headers={"Origin": "http://evil.example"})
    assert foreign.status == 403
    assert foreign.json()["error"] == "forbidden_origin"
    other_port = api_node.api.get("/status", headers={"Origin": f"http://127.0.0.1:{port + 1}"})
    assert other_port.status == 403
    null = api_node.api.get("/status", headers={"Origin": "null"})
    assert null.status == 403
    own = api_node.api.get("/status", headers={"Origin": f"http://localhost:{port}"})
    assert own.status == 200
    rebound = api_node.api.get("/status", headers={"Host": f"evil.example:{port}"})
    assert rebound.status == 403
    assert rebound.json()["error"] == "forbidden_host"
    assert api_node.api.get("/status", headers={"Host": f"localhost:{port}"}).status == 200
    before = api_node.stored_entries()
    csrf = api_node.api.post_json(
        "/ideas", {"title": "csrf"}, headers={"Origin": "http://evil.example"}
    )
    assert csrf.status == 403
    assert api_node.stored_entries() == before


def test_bad_bodies_get_json_errors_and_store_nothing(api_node: ApiNode) -> None:
    api = api_node.api
    before = api_node.stored_entries()
    big = api.post_json("/ideas", {"title": "big", "body": "x" * 70_000})
    assert big.status == 413
    assert big.json()["error"] == "payload_too_large"
    cases = [
        (b'{"title": ', "application/json", 400, "bad_json"),
        (b"[1, 2]", "application/json", 422, "invalid_body"),
        (b'{"title": 5}', "application/json", 422, "invalid_body"),
        (b'{"title": "t", "body": ["x"]}', "application/json", 422, "invalid_body"),
        (b'{"body": "no title"}', "application/json", 422, "invalid_body"),
        (b'{"title": "t", "extra": 1}', "application/json", 422, "invalid_body"),
        (b'{"title": "t"}', "text/plain", 415, "unsupported_media_type"),
    ]
    for body, media, status, name in cases:
        answer = api.request("POST", "/ideas", body=body, headers={"Content-Type": media})
        assert (answer.status, answer.json()["error"]) == (status, name), body
        assert "\n" not in answer.json()["message"]
    assert api_node.stored_entries() == before


def test_a_rule_violation_is_409_with_the_views_reason(api_node: ApiNode) -> None:
    title = "t" * 201
    before = api_node.stored_entries()
    answer = api_node.api.post_json("/ideas", {"title": title})
    assert answer.status == 409
    body = answer.json()
    assert body["error"] == "rule_violation"
    cli = run_cli(api_node.home, "idea", "post", title, check=False)
    assert cli.returncode == 1
    assert cli.stderr == f"error: {body['message']}\n"
    assert api_node.stored_entries() == before


def test_bad_parameters_paths_and_methods(api_node: ApiNode) -> None:
    api = api_node.api
    cases = [
        ("GET", "/ideas?limit=0", 422, "invalid_parameter"),
        ("GET", "/ideas?limit=501", 422, "invalid_parameter"),
        ("GET", "/ideas?sort=loud", 422, "invalid_parameter"),
        ("GET", "/pledges?mine=perhaps", 422, "invalid_parameter"),
        ("GET", "/trust/pool?hops=x", 422, "invalid_parameter"),
        ("GET", "/ideas?cursor=bm9wZQ", 400, "bad_cursor"),
        ("GET", "/log?author=nobody", 404, "not_found"),
        ("GET", "/log?author=abc", 400, "bad_identifier"),
        ("GET", "/ideas/zz", 400, "malformed_input"),
        ("GET", "/nothing", 404, "not_found"),
        ("DELETE", "/ideas", 405, "method_not_allowed"),
        ("PUT", "/status", 405, "method_not_allowed"),
    ]
    for method, path, status, name in cases:
        answer = api.request(method, path)
        assert (answer.status, answer.json()["error"]) == (status, name), path
    head = api.request("HEAD", "/trust/pool")
    assert (head.status, head.body) == (200, b"")


def test_reads_equal_the_cli_json(api_node: ApiNode) -> None:
    api = api_node.api
    posted = []
    for i in range(5):
        answer = api.post_json("/ideas", {"title": f"idea {i}", "body": f"body {i}"})
        assert answer.status == 201, answer.body
        assert answer.json()["kind"] == "forum.idea"
        posted.append(answer.json()["id"])
    run_cli(api_node.home, "--offline", "idea", "post", "from the command line")
    for _ in range(100):  # the daemon notices another process's write within ~0.1 s
        newest = api.get("/ideas?sort=recent&limit=1").json()["items"]
        if newest and newest[0]["title"] == "from the command line":
            break
        time.sleep(0.05)

    def offline(*args: str) -> object:
        """The CLI's answer computed from the store, not asked of the daemon."""
        return api_node.cli_json("--offline", *args)

    def offline_items(*args: str) -> object:
        page = api_node.cli_json("--offline", *args, "--all")
        assert isinstance(page, dict)
        assert page["next_cursor"] is None
        return page["items"]

    assert api.all_pages("/ideas", 2) == offline_items("idea", "list")
    recent = offline_items("idea", "list", "--sort", "recent")
    assert api.all_pages("/ideas?sort=recent", 4) == recent
    assert isinstance(recent, list)
    assert recent[0]["title"] == "from the command line"  # the daemon saw the CLI's write
    for ident in (posted[0], posted[-1][:10]):
        shown = api.get(f"/ideas/{ident}")
        assert shown.status == 200
        assert shown.json() == offline("idea", "show", ident)
    assert api.get("/trust/pool").json() == offline("trust", "pool")
    assert api.all_pages("/trust/list", 1) == offline_items("trust", "list")
    assert api.all_pages("/pledges", 3) == offline_items("pledge", "list")
    newest_first = offline_items("log")
    assert api.all_pages("/log", 4) == newest_first
    assert api.all_pages("/log?kind=forum.idea", 50) == newest_first
    assert api.all_pages("/log?kind=other.kind", 50) == []


def test_events_stream_new_entries(api_node: ApiNode) -> None:
    api = api_node.api
    connection = api.connect()
    connection.request("GET", "/api/v1/events?kind=forum.idea", headers=api.headers())
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("content-type", "").startswith("text/event-stream")
    assert response.readline() == b": samoorg events\n"
    posted = api.post_json("/ideas", {"title": "live"}).json()["id"]
    from_cli = run_cli(api_node.home, "idea", "post", "live from the CLI").stdout.split()[-1]
    events: list[dict[str, object]] = []
    for _ in range(50):  # bounded: a few lines per event
        line = response.readline()
        if line.startswith(b"data: "):
            events.append(json.loads(line[6:]))
        if len(events) == 2:
            break
    connection.close()
    assert [e["id"] for e in events] == [posted, from_cli]
    assert all(e["kind"] == "forum.idea" for e in events)
    assert events[0]["author"] == api.get("/status").json()["id"]


def test_events_announce_new_action_items(tmp_path: Path) -> None:
    # Ben commits to Ana offline; his feed reaches Ana's store by a bundle
    # while her daemon runs: her stream gets one action event for it.
    ana, ben = tmp_path / "ana", tmp_path / "ben"
    node = start_api_node(ana)
    try:
        api = node.api
        connection = api.connect()
        connection.request("GET", "/api/v1/events?kind=action", headers=api.headers())
        response = connection.getresponse()
        assert response.status == 200
        assert response.readline() == b": samoorg events\n"
        run_cli(ben, "init")
        ana_id = api.get("/status").json()["id"]
        pledge = json.loads(
            run_cli(
                ben, "pledge", "intend", "30", "EUR", "--to", ana_id, "--json", "--force"
            ).stdout
        )["id"]
        run_cli(ben, "pledge", "commit", pledge[:12], "--force")
        bundle = tmp_path / "ben.bundle"
        run_cli(ben, "export", str(bundle))
        run_cli(ana, "import", str(bundle))
        names: list[bytes] = []
        data: dict[str, object] = {}
        for _ in range(50):  # bounded: a few lines per event
            line = response.readline()
            if line.startswith(b"event: "):
                names.append(line[7:].strip())
            if line.startswith(b"data: "):
                data = json.loads(line[6:])
                break
        connection.close()
        assert names == [b"action"]  # the entries themselves are filtered out
        assert data["kind"] == "commitment_to_confirm"
        assert data["subject"] == pledge
        assert data["amount"] == {"EUR": "30.00"}
        # /inbox names the participant (node/names.py); the event stream carries ids only.
        assert api.get("/inbox").json()["items"] == [{**data, "with_name": None}]
    finally:
        assert node.process.stop() == 0


def test_rate_limit_per_client_and_stop_with_an_open_stream(tmp_path: Path) -> None:
    node = start_api_node(tmp_path / "ana", "--api-rate", "0.5")
    stream = node.api.connect()
    try:
        stream.request("GET", "/api/v1/events", headers=node.api.headers())
        opened = stream.getresponse()
        assert opened.status == 200
        assert opened.readline() == b": samoorg events\n"
        answers = [node.api.get("/openapi.json") for _ in range(10)]
        assert node.process.stop() == 0  # the open event stream does not hold the daemon
        with contextlib.suppress(http.client.IncompleteRead):  # cut at shutdown
            assert opened.read() in (b"", b"\n")  # the stream ends
    finally:
        stream.close()
        node.process.stop()
    limited = [a for a in answers if a.status == 429]
    assert limited, [a.status for a in answers]
    assert {a.status for a in answers} <= {200, 429}
    assert limited[0].json()["error"] == "rate_limited"
    assert int(limited[0].headers["retry-after"]) >= 1


def test_no_api_and_listen_checks(tmp_path: Path) -> None:
    home = tmp_path / "ana"
    run_cli(home, "init")
    remote = run_cli(home, "node", "run", "--api-listen", "0.0.0.0:0", check=False)
    assert remote.returncode == 2
    assert "--api-allow-remote" in remote.stderr
    bad = run_cli(home, "node", "run", "--api-listen", "localhost", check=False)
    assert bad.returncode == 2
    node = start_api_node(home, "--no-api")
    try:
        assert node.process.api_url is None
        deadline = time.monotonic() + 10
        status = node.cli_json("status")
        while status["daemon"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
            status = node.cli_json("status")
        assert status["daemon"] is not None
        assert status["api"] is None
    finally:
        assert node.process.stop() == 0
    with socket.socket() as probe:  # nothing left listening: the port is free again
        probe.bind(("127.0.0.1", 0))


def test_events_carry_entries_received_by_sync(tmp_path: Path) -> None:
    ana_home, ben_home = tmp_path / "ana", tmp_path / "ben"
    for home in (ana_home, ben_home):
        run_cli(home, "init")
    ben_id = json.loads(run_cli(ben_home, "whoami", "--json").stdout)["id"]
    run_cli(ana_home, "follow", ben_id)
    ana = start_api_node(ana_home)
    try:
        stream = ana.api.connect()
        stream.request("GET", "/api/v1/events", headers=ana.api.headers())
        events = stream.getresponse()
        assert events.readline() == b": samoorg events\n"
        ben = start_api_node(ben_home, "--bootstrap", ana.process.addrs[0])
        try:
            posted = ben.api.post_json("/ideas", {"title": "from ben"}).json()["id"]
            received: dict[str, object] = {}
            for _ in range(50):  # bounded: a few lines per event; the socket times out
                line = events.readline()
                if line.startswith(b"data: "):
                    received = json.loads(line[6:])
                    break
            stream.close()
        finally:
            assert ben.process.stop() == 0
        assert received == {"id": posted, "kind": "forum.idea", "author": ben_id, "seq": 1}
        shown = ana.api.get(f"/ideas/{posted}").json()
        assert shown["title"] == "from ben"
    finally:
        assert ana.process.stop() == 0


def test_api_and_cli_writers_at_once_keep_one_feed(tmp_path: Path) -> None:
    import subprocess

    from samoorg.node.processes import cli_command

    node = start_api_node(tmp_path / "ana")
    try:
        writers = [
            subprocess.Popen(
                # Half through the daemon's API, half on the store directly.
                cli_command(
                    node.home, *(("--offline",) if n % 2 else ()), "idea", "post", f"cli {n}"
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for n in range(4)
        ]
        statuses = [node.api.post_json("/ideas", {"title": f"api {n}"}).status for n in range(8)]
        for writer in writers:
            assert writer.wait(timeout=120) == 0, writer.stderr.read() if writer.stderr else ""
            if writer.stderr:
                writer.stderr.close()
        assert statuses == [201] * 8
        assert "ok: 12 entries in 1 feed verified" in run_cli(node.home, "verify").stdout
        deadline = time.monotonic() + 10  # the daemon sees the CLI's writes within its poll
        ideas = node.api.all_pages("/ideas", 50)
        while len(ideas) < 12 and time.monotonic() < deadline:
            time.sleep(0.2)
            ideas = node.api.all_pages("/ideas", 50)
        assert ideas == node.cli_json("--offline", "idea", "list", "--all")["items"]
        assert len(ideas) == 12
        log = node.api.all_pages("/log", 50)
        assert sorted(e["seq"] for e in log) == list(range(1, 13))
    finally:
        assert node.process.stop() == 0


def test_answers_match_the_document(api_node: ApiNode) -> None:
    from jsonschema import Draft202012Validator

    api = api_node.api
    document = api.get("/openapi.json").json()
    idea = api.post_json("/ideas", {"title": "schema", "body": "checked"})
    assert idea.status == 201
    ident = idea.json()["id"]
    answers = {
        ("post", "/ideas"): idea,
        ("get", "/ideas/{id}"): api.get(f"/ideas/{ident}"),
        ("get", "/ideas"): api.get("/ideas"),
        ("get", "/log"): api.get("/log?limit=3"),
        ("get", "/status"): api.get("/status"),
        ("get", "/trust/pool"): api.get("/trust/pool"),
        ("get", "/trust/list"): api.get("/trust/list"),
        ("get", "/pledges"): api.get("/pledges?everyone=true"),
        ("get", "/openapi.json"): api.get("/openapi.json"),
        ("get", "/nothing"): api.get("/ideas?limit=0"),
    }
    for (method, path), answer in answers.items():
        operation = document["paths"].get("/api/v1" + path, {}).get(method)
        if operation is None:  # an error answer: the Error schema
            schema = {"$ref": "#/components/schemas/Error"}
        else:
            content = operation["responses"][str(answer.status)]["content"]
            schema = content["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = [e.message for e in validator.iter_errors(answer.json())]
        assert not errors, (path, errors[:3])


def test_requests_initiatives_and_invites_equal_the_cli_json(api_node: ApiNode) -> None:
    from jsonschema import Draft202012Validator

    api, home = api_node.api, api_node.home
    for reason in ("a new boiler", "bus fare"):
        run_cli(
            home,
            "--offline",
            "request",
            "create",
            "--amount",
            "30",
            "--currency",
            "EUR",
            "--reason",
            reason,
        )
    for title in ("a shared oven", "a tool library"):
        run_cli(
            home, "--offline", "initiative", "propose", title, "--goal", "90", "--currency", "EUR"
        )
    for amount in ("100", "50"):
        run_cli(home, "--offline", "invite", "create", "--amount", amount, "--currency", "EUR")
    for _ in range(100):  # the daemon notices another process's write within ~0.1 s
        if len(api.get("/invites").json()["items"]) >= 2:
            break
        time.sleep(0.05)
    document = api.get("/openapi.json").json()

    def checked(path: str, schema: str, value: object) -> None:
        wanted = {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
        errors = [e.message for e in Draft202012Validator(wanted).iter_errors(value)]
        assert not errors, (path, errors[:3])

    for path, command, schema in (
        ("/requests", "request", "Request"),
        ("/initiatives", "initiative", "Initiative"),
        ("/invites", "invite", "Invite"),
    ):
        page = api_node.cli_json("--offline", command, "list", "--all")
        assert page["next_cursor"] is None
        assert len(page["items"]) >= 2
        assert api.all_pages(path, 1) == page["items"]
        checked(path, f"{schema}Page", api.get(path).json())
        if command == "invite":
            continue
        first = page["items"][0]["id"]
        for ident in (first, first[:10]):
            shown = api.get(f"{path}/{ident}")
            assert shown.status == 200, shown.body
            assert shown.json() == api_node.cli_json("--offline", command, "show", ident)
            checked(path, f"{schema}Detail", shown.json())
    initiative = api.all_pages("/initiatives", 10)[0]["id"]
    wrong = api.get(f"/requests/{initiative}")
    assert (wrong.status, wrong.json()["error"]) == (404, "not_found")
    assert api.get("/requests/zz").json()["error"] == "malformed_input"  # as the CLI: exit 2


def test_social_and_agreement_reads_equal_the_cli_json(api_node: ApiNode, tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    api = api_node.api
    home = api_node.home
    for question in ("Spokesperson?", "Meeting day?"):
        run_cli(home, "--offline", "poll", "new", question, "--option", "a", "--option", "b")
    rules = tmp_path / "rules.txt"
    rules.write_text("Be kind.\n", encoding="utf-8")
    made = json.loads(
        run_cli(
            home, "--offline", "agreement", "new", "Rules", "--file", str(rules), "--json"
        ).stdout
    )
    doc = made["agreement"]
    for _ in range(100):  # the daemon notices another process's write within ~0.1 s
        if api.get("/agreements").json()["items"]:
            break
        time.sleep(0.05)

    def offline(*args: str) -> object:
        return api_node.cli_json("--offline", *args)

    def offline_items(*args: str) -> object:
        page = api_node.cli_json("--offline", *args, "--all")
        assert isinstance(page, dict)
        assert page["next_cursor"] is None
        return page["items"]

    polls = offline_items("poll", "list")
    assert isinstance(polls, list)
    assert len(polls) >= 2
    assert api.all_pages("/polls", 1) == polls
    assert api.get(f"/polls/{polls[0]['id'][:10]}").json() == offline(
        "poll", "show", polls[0]["id"]
    )
    assert api.all_pages("/ratings", 1) == offline_items("ratings")
    utility = api.get("/utility").json()
    assert utility == offline("utility")
    assert api.all_pages("/utility", 1) == utility["items"]
    assert api.all_pages("/agreements", 1) == offline_items("agreement", "list")
    assert api.get(f"/agreements/{doc[:8]}").json() == offline("agreement", "show", doc)
    old = api.get(f"/agreements/{doc}?version={doc[:10]}")
    assert old.json() == offline("agreement", "show", doc, "--version", doc[:10])
    assert api.get(f"/agreements/{doc}?version=ZZ").json()["error"] == "invalid_parameter"
    assert api.get(f"/agreements/{polls[0]['id']}").json()["error"] == "not_found"
    assert api.get("/polls/0000abcd").status == 404

    document = api.get("/openapi.json").json()
    answers = {
        "/ratings": api.get("/ratings"),
        "/utility": api.get("/utility"),
        "/polls": api.get("/polls"),
        "/polls/{id}": api.get(f"/polls/{polls[0]['id']}"),
        "/agreements": api.get("/agreements"),
        "/agreements/{id}": api.get(f"/agreements/{doc}"),
    }
    for path, answer in answers.items():
        assert answer.status == 200, (path, answer.body)
        operation = document["paths"]["/api/v1" + path]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = [e.message for e in validator.iter_errors(answer.json())]
        assert not errors, (path, errors[:3])
