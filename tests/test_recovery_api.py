"""The recovery writes against a real daemon (``POST /recovery...``, §8.13): shapes, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samoorg.node.processes import run_cli
from tests.api_fixtures import ApiNode, api_node_fixture, checked

__all__ = ["api_node_fixture"]

pytestmark = [pytest.mark.slow, pytest.mark.network]


def test_a_new_key_asks_and_writes_are_refused_with_stable_names(
    api_node: ApiNode, tmp_path: Path
) -> None:
    api = api_node.api
    document = api.get("/openapi.json").json()
    lost = tmp_path / "lost"
    run_cli(lost, "init")
    lost_id = json.loads(run_cli(lost, "whoami", "--json").stdout)["id"]
    # Guardians come from the trust list: a stranger is refused, nothing is stored.
    refused = api.post_json("/recovery", {"guardians": [lost_id], "threshold": 1})
    assert refused.status == 409, refused.body
    assert refused.json()["error"] == "rule_violation"
    assert "trust list" in refused.json()["message"]
    bad = api.post_json("/recovery", {"guardians": [lost_id], "threshold": 2})
    assert (bad.status, bad.json()["error"]) == (400, "malformed_input"), bad.body
    # This daemon's key has written nothing yet: it may ask (the identity's set is not held).
    asked = api.post_json("/recovery/requests", {"identity": lost_id})
    assert asked.status == 201, asked.body
    shown = checked(document, "post", "/recovery/requests", asked)
    assert (shown["kind"], shown["identity"]) == ("recovery.request", lost_id)
    assert "no guardians" in json.loads(asked.headers["samoorg-notes"])[0]
    again = api.post_json("/recovery/requests", {"identity": lost_id})
    assert again.status == 409
    assert "written entries already" in again.json()["message"]
    for path in ("/recovery/requests/{id}/approvals", "/recovery/requests/{id}/vetoes"):
        answer = api.post_json(path.replace("{id}", shown["id"][:12]), {})
        assert answer.status == 201, answer.body  # judged once the identity's set arrives
        assert checked(document, "post", path, answer)["request"] is None
    missing = api.post_json("/recovery/requests/00ff00ff/approvals", {})
    assert missing.status == 404
