"""Two real nodes on 127.0.0.1, each with its organizer open in its own browser context.

A and B trust each other (their invite and acceptance are in both stores
when the nodes start; the browser invite is tests/test_web_browser.py's).
Every step acts in one browser and asserts on what the other one shows:
B intends and commits, A sees it in its favour and marks it fulfilled, B
sees it fulfilled; an idea posted in A's browser appears in B's without a
reload (the page's live section, from the event stream); an agreement
edited in both browsers, B's edit written on the text from before A's
arrived, shows both edits on both nodes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser_fixtures import (
    WebNode,
    browser_fixture,
    open_organizer,
    screenshot,
    start_web_node,
)
from tests.community_fixtures import Author
from tests.social_fixtures import trusted_star
from tests.web_community_fixtures import seeded_home

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.network]
__all__ = ["browser_fixture"]

SYNC_MS = 30_000
"""Bound of each wait for the other node's page to show a change."""
TEXT = "Line one.\nLine two.\nLine three.\n"


@pytest.fixture(name="nodes", scope="module")
def nodes_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebNode, WebNode]]:
    a, b = Author(21), Author(22)
    trust = trusted_star(a, [b])
    root = tmp_path_factory.mktemp("two")
    node_a = start_web_node(seeded_home(root / "a", a, trust))
    try:
        addr = node_a.api_node.process.addrs[0]
        node_b = start_web_node(seeded_home(root / "b", b, trust), "--bootstrap", addr)
        try:
            yield node_a, node_b
        finally:
            node_b.stop()
    finally:
        node_a.stop()


def _expect_text(page: Page, selector: str, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(selector)).to_contain_text(text, timeout=SYNC_MS)


def _open_when_held(page: Page, node: WebNode, path: str) -> None:
    """Go to ``path`` once the node holds what it shows (bounded: SYNC_MS)."""
    deadline = time.monotonic() + SYNC_MS / 1000
    while True:
        response = page.goto(node.base + path)
        assert response is not None
        if response.ok or time.monotonic() > deadline:
            assert response.ok, page.locator("main").inner_text()
            return
        time.sleep(0.3)


def test_pledge_idea_and_agreement_across_two_browsers(
    browser: Browser, nodes: tuple[WebNode, WebNode]
) -> None:
    node_a, node_b = nodes
    page_a, page_b = open_organizer(browser, node_a), open_organizer(browser, node_b)
    a_id = node_a.cli_json("whoami")["id"]
    for page in (page_a, page_b):
        assert "2 members" in page.locator("#pool").inner_text()

    # B intends 10 EUR to A and commits it.
    page_a.goto(node_a.base + "/pledges?tab=to_me_commitments")
    page_b.goto(node_b.base + "/pledges")
    form = page_b.locator("#intend-form")
    form.locator('[name="amount"]').fill("10")
    form.locator('[name="ref"]').fill(a_id)
    with page_b.expect_navigation():
        form.get_by_role("button", name="Intend").click()
    row = page_b.locator("#pledge-rows tbody tr").first
    assert "10.00 EUR" in row.inner_text()
    row.locator("summary").click()
    row.locator('[name="confirm"]').check()
    with page_b.expect_navigation():
        row.get_by_role("button", name="Commit irrevocably").click()
    page_b.goto(node_b.base + "/pledges?tab=my_commitments")
    _expect_text(page_b, "#pledge-rows", "committed")
    # A's tab shows it without a reload (live), with the beneficiary's buttons.
    _expect_text(page_a, "#pledge-rows", "10.00 EUR")
    screenshot(page_a, "two-nodes-in-my-favour")
    with page_a.expect_navigation():
        page_a.locator("#pledge-rows").get_by_role("button", name="Mark fulfilled").click()
    _expect_text(page_a, "#pledge-rows", "fulfilled")
    _expect_text(page_b, "#pledge-rows", "fulfilled")

    # An idea posted in A's browser appears in B's without a reload.
    page_b.goto(node_b.base + "/forum?sort=recent")
    page_b.evaluate("() => { window.notReloaded = true; }")
    page_a.goto(node_a.base + "/forum")
    idea = page_a.locator("#idea-form")
    idea.locator('[name="title"]').fill("Bicycle repair evening")
    with page_a.expect_navigation():
        idea.get_by_role("button").click()
    _expect_text(page_b, "#ideas", "Bicycle repair evening")
    assert page_b.evaluate("() => window.notReloaded") is True
    screenshot(page_b, "two-nodes-idea-live")

    # An agreement edited in both browsers: B writes on the text from before A's edit.
    page_a.goto(node_a.base + "/agreements")
    new = page_a.locator("#new-form")
    new.locator('[name="title"]').fill("Shared text")
    new.locator('[name="text"]').fill(TEXT)
    with page_a.expect_navigation():
        new.get_by_role("button").click()
    path = page_a.url.removeprefix(node_a.base)
    _open_when_held(page_b, node_b, path)
    page_a.locator('#edit-form [name="text"]').fill(TEXT.replace("Line one.", "Line one, by A."))
    with page_a.expect_navigation():
        page_a.locator("#edit-form").get_by_role("button").click()
    _expect_text(page_b, "#agreement-body", "by A.")  # B's page: live; its form: as opened
    stale = page_b.locator('#edit-form [name="text"]')
    assert stale.input_value() == TEXT
    stale.fill(TEXT.replace("Line three.", "Line three, by B."))
    with page_b.expect_navigation():
        page_b.locator("#edit-form").get_by_role("button").click()
    merged = "Line one, by A.\nLine two.\nLine three, by B.\n"
    _expect_text(page_b, "#agreement-body", "by B.")
    _expect_text(page_a, "#agreement-body", "by B.")
    for page in (page_a, page_b):
        assert page.locator("#agreement-body").inner_text() == merged
    assert node_a.cli_json("agreement", "show", path.rsplit("/", 1)[1])["text"] == merged
    screenshot(page_a, "two-nodes-agreement-merged")
    page_a.context.close()
    page_b.context.close()
