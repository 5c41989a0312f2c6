"""``samoorg web`` and the organizer's gate over plain HTTP (no browser needed)."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from samoorg.node.processes import run_cli
from tests.api_fixtures import ApiNode, api_node_fixture

pytestmark = [pytest.mark.slow, pytest.mark.network]
__all__ = ["api_node_fixture"]


def _get(
    node: ApiNode, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    connection = node.api.connect()
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_without_a_daemon_there_is_nothing_to_open(tmp_path: Path) -> None:
    home = tmp_path / "solo"
    run_cli(home, "init")
    result = run_cli(home, "web", check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: no daemon runs for this home: start 'samoorg node run' (it serves the organizer)"
    ]


def test_the_link_opens_one_session_once(api_node: ApiNode) -> None:
    printed = run_cli(api_node.home, "web")
    url = printed.stdout.strip()
    base = f"http://{api_node.api.host}:{api_node.api.port}"
    assert url.startswith(base + "/login?once=")
    assert "works once" in printed.stderr
    parts = urlsplit(url)
    first = _get(api_node, f"{parts.path}?{parts.query}")
    assert first.status == 303
    assert first.getheader("location") == "/"
    cookie = first.getheader("set-cookie") or ""
    assert cookie.startswith(f"samoorg_session_{api_node.api.port}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    session = cookie.split(";")[0]
    assert _get(api_node, "/", {"Cookie": session}).status == 200
    assert _get(api_node, "/trust", {"Cookie": session}).status == 200
    assert _get(api_node, "/").status == 401
    again = _get(api_node, f"{parts.path}?{parts.query}")
    assert again.status == 401
    # The API still wants its token; the organizer's cookie is not one.
    assert _get(api_node, "/api/v1/status", {"Cookie": session}).status == 401
    # A page of another name for this address (DNS rebinding) is refused.
    assert _get(api_node, "/", {"Cookie": session, "Host": "evil.example"}).status == 403
