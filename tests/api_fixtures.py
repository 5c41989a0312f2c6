"""A real daemon with its API, and a small HTTP client for the API tests (stdlib only)."""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from samoorg.node.api.token import token_file
from samoorg.node.home import Home
from samoorg.node.processes import NodeProcess, run_cli
from tests.conftest import CliResult, CliRunner

TIMEOUT = 30.0


@dataclass
class Answer:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ApiClient:
    """Requests to one daemon's API, with its token unless told otherwise."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.host = parts.hostname
        self.port = parts.port
        self.token = token

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> Answer:
        sent = self.headers(headers) if auth else dict(headers or {})
        connection = self.connect()
        try:
            connection.request(method, "/api/v1" + path, body=body, headers=sent)
            response = connection.getresponse()
            return Answer(
                response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            )
        finally:
            connection.close()

    def get(self, path: str, **options: Any) -> Answer:
        return self.request("GET", path, **options)

    def post_json(self, path: str, value: Any, **options: Any) -> Answer:
        headers = {"Content-Type": "application/json", **options.pop("headers", {})}
        return self.request(
            "POST", path, body=json.dumps(value).encode(), headers=headers, **options
        )

    def all_pages(self, path: str, limit: int) -> list[Any]:
        """Every item of a listing, following ``next_cursor`` (at most 100 pages)."""
        items: list[Any] = []
        sep = "&" if "?" in path else "?"
        cursor: str | None = None
        for _ in range(100):
            query = f"{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            answer = self.get(path + query)
            assert answer.status == 200, answer.body
            page = answer.json()
            assert len(page["items"]) <= limit
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("more than 100 pages")


@dataclass
class ApiNode:
    """A running daemon (``samoorg node run``) and a client of its API."""

    home: Path
    process: NodeProcess
    api: ApiClient

    def cli_json(self, *args: str) -> Any:
        return json.loads(run_cli(self.home, *args, "--json").stdout)

    def stored_entries(self) -> int:
        """Entries in the store, counted by the CLI from the store itself (``--offline``)."""
        return int(self.cli_json("--offline", "status")["store"]["entries"])


def new_participant(home: Path) -> str:
    """Initialise ``home`` (no daemon) and return its peer id: someone to pledge to."""
    run_cli(home, "init")
    return str(json.loads(run_cli(home, "whoami", "--json").stdout)["id"])


def start_api_node(home: Path, *extra: str) -> ApiNode:
    """Initialise ``home`` if needed and start its daemon with the API."""
    if not (home / "identity.key").exists():
        run_cli(home, "init")
    process = NodeProcess(home, extra_args=list(extra))
    process.start()
    if process.api_url is None:  # --no-api
        return ApiNode(home, process, ApiClient("http://127.0.0.1:1", ""))
    token = token_file(Home(home)).read_text(encoding="ascii").strip()
    return ApiNode(home, process, ApiClient(process.api_url, token))


@pytest.fixture(name="api_node", scope="module")
def api_node_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    """One daemon for a test module (its tests share its store)."""
    node = start_api_node(tmp_path_factory.mktemp("api") / "ana")
    try:
        yield node
    finally:
        stop_api_node(node)


def stop_api_node(node: ApiNode) -> None:
    """Stop the daemon; it must exit 0 with no traceback or error in its log."""
    code = node.process.stop()
    assert code == 0, node.process.log_tail()
    log = node.process.log_path.read_text(encoding="utf-8")
    assert "Traceback" not in log
    assert " ERROR " not in log, log


def store_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make an in-process command fail if it opens the store (it must ask the daemon)."""
    from samoorg.cli.context import Session

    def refuse(self: Session) -> None:
        raise AssertionError("the command opened the store while the daemon runs")

    monkeypatch.setattr(Session, "store", refuse)
    monkeypatch.setattr(Session, "live", refuse)


def run_on(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, offline: bool, *args: str
) -> CliResult:
    """Run ``args`` in ``node``'s home: offline, or through its daemon with the store forbidden."""
    if offline:
        return cli(node.home, "--offline", *args)
    with monkeypatch.context() as patched:
        store_forbidden(patched)
        return cli(node.home, *args)


_MASKS = (
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{3}Z)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8,64}\b"), "<hex>"),
    (re.compile(r"\bsamoorg-invite:\S+|\b[1-9A-HJ-NP-Za-km-z]{60,}\b"), "<code>"),
)


def masked(text: str) -> str:
    """``text`` with the times, hex ids and invite codes that differ between two runs masked."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def caught_up(node: ApiNode) -> None:
    """Wait (bounded) until the daemon holds every stored entry."""
    for _ in range(200):
        offline = json.loads(run_cli(node.home, "--offline", "status", "--json").stdout)
        if node.api.get("/status").json()["store"]["entries"] == offline["store"]["entries"]:
            return
        time.sleep(0.05)
    raise AssertionError("the daemon did not catch up with the store")


def checked(document: dict[str, Any], method: str, path: str, answer: Answer) -> Any:
    """The answer's JSON, checked against the schema the OpenAPI document gives for it."""
    from jsonschema import Draft202012Validator

    operation = document["paths"]["/api/v1" + path][method]
    schema = operation["responses"][str(answer.status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = [e.message for e in validator.iter_errors(answer.json())]
    assert not errors, (path, errors[:3])
    return answer.json()
