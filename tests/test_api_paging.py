"""Every listing of the API is a bounded page, and refuses a hostile ``limit`` or cursor.

The listings are found in the OpenAPI document (every ``GET`` whose answer has
an ``items`` array), so a new listing without paging fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from samoorg.node.api.openapi import document
from samoorg.node.api.pages import DEFAULT_LIMIT, MAX_LIMIT
from tests.api_fixtures import ApiNode, start_api_node, stop_api_node

NOT_LISTINGS = {
    "/agreements/{id}/history": "one agreement's edits, the detail of one record",
    "/agreements/{id}/blame": "the lines of one agreement's text",
}
"""Answers with ``items`` that are one record's detail, not a listing of the store."""
HOSTILE = (
    "0",
    "-1",
    str(10**9),
    str(MAX_LIMIT + 1),
    "text",
    "1.5",
    "",
    "1e3",
    "+5",
    "٣",
    "9" * 5000,
)


@pytest.fixture(name="api_node", scope="module")
def api_node_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    """A daemon whose rate limit lets a test send a few hundred requests at once."""
    node = start_api_node(tmp_path_factory.mktemp("paging") / "ana", "--api-rate", "100000")
    try:
        yield node
    finally:
        stop_api_node(node)


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document()["components"]["schemas"][name]
    return schema


def _has_items(schema: dict[str, Any]) -> bool:
    """A list of ``items``, or several lists paged at once by one ``next_cursor``."""
    variants = schema.get("oneOf", [schema])
    return any({"items", "next_cursor"} & set(v.get("properties", {})) for v in variants)


def _rows(body: dict[str, Any]) -> list[list[Any]]:
    """The lists of a page: its ``items``, or each list of a sectioned page (``/ledger``)."""
    if "items" in body:
        return [body["items"]]
    return [body[name] for name in body["totals"]]


def listings() -> list[str]:
    """Every ``GET`` path (under ``/api/v1``) whose answer holds a list of ``items``."""
    found = []
    for path, operations in document()["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        content = get["responses"]["200"]["content"]
        ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
        if ref and _has_items(_schema(ref.rsplit("/", 1)[1])):
            found.append(path.removeprefix("/api/v1"))
    return found


def test_every_listing_documents_limit_and_cursor() -> None:
    found = listings()
    assert {"/log", "/ideas", "/pledges", "/inbox", "/names", "/members", "/ledger"} <= set(found)
    for path in found:
        if path in NOT_LISTINGS:
            continue
        params = {p["name"]: p for p in document()["paths"]["/api/v1" + path]["get"]["parameters"]}
        assert {"limit", "cursor"} <= set(params), path
        assert params["limit"]["schema"]["maximum"] == MAX_LIMIT, path
        assert params["limit"]["schema"]["default"] == DEFAULT_LIMIT, path


@pytest.mark.slow
@pytest.mark.network
def test_every_listing_is_a_bounded_page_and_refuses_hostile_limits(api_node: ApiNode) -> None:
    api = api_node.api
    for number in range(3):  # something in a few listings, so that a page is not trivially empty
        assert api.post_json("/ideas", {"title": f"idea {number}"}).status == 201
    paths = [p for p in listings() if p not in NOT_LISTINGS]
    for path in paths:
        page = api.get(path)
        assert page.status == 200, (path, page.body)
        body = page.json()
        assert all(len(rows) <= DEFAULT_LIMIT for rows in _rows(body)), path
        assert "next_cursor" in body, path
        assert api.get(f"{path}?limit={MAX_LIMIT}").status == 200, path
        for limit in HOSTILE:
            answer = api.get(f"{path}?limit={quote(limit)}")
            assert answer.status != 200, (path, limit, answer.body[:200])
            assert (answer.status, answer.json()["error"]) == (422, "invalid_parameter"), (
                path,
                limit,
                answer.body,
            )
        for cursor in ("zzz", "cDE" * 20, quote("p-1")):
            answer = api.get(f"{path}?cursor={cursor}")
            assert (answer.status, answer.json()["error"]) == (400, "bad_cursor"), (path, cursor)
    one = api.get("/ideas?limit=1&sort=recent").json()
    assert len(one["items"]) == 1
    second = api.get(f"/ideas?limit=1&sort=recent&cursor={one['next_cursor']}").json()
    assert second["items"] != one["items"]
