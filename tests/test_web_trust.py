"""The Trust page across two real nodes in two browsers: invite, accept, refuse, revoke.

Anna's and Boris's daemons run on 127.0.0.1, each with its own browser
context (own cookies). Every step asserts on what the page shows; waits are
Playwright's bounded polls of the page (``expect``), never sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from samoorg.node.processes import run_cli
from tests.browser_fixtures import (
    WAIT_MS,
    WebNode,
    browser_fixture,
    open_organizer,
    screenshot,
    start_web_node,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.network]
__all__ = ["browser_fixture"]

SYNC_MS = 60_000
"""Bound on waiting for the two daemons to exchange feeds (a bounded poll of the page)."""


@pytest.fixture(name="pair", scope="module")
def pair_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebNode, WebNode]]:
    root: Path = tmp_path_factory.mktemp("webpair")
    anna = start_web_node(root / "anna")
    try:
        boris = start_web_node(root / "boris")
        try:
            yield anna, boris
        finally:
            boris.stop()
    finally:
        anna.stop()


def _invites(node: WebNode) -> list[object]:
    answer = node.api_node.api.get("/invites?limit=500")
    assert answer.status == 200, answer.body
    items = answer.json()["items"]
    assert isinstance(items, list)
    return items


def _create_invite(page: Page, amount: str, currency: str = "EUR") -> str:
    page.locator("#invite-form input[name=amount]").fill(amount)
    page.locator("#invite-form input[name=currency]").fill(currency)
    page.locator("#invite-form button[type=submit]").click()
    code = page.locator("#invite-code")
    code.wait_for()
    return code.input_value()


def test_a_refused_invite_shows_the_cli_reason_and_stores_nothing(
    browser: Browser, pair: tuple[WebNode, WebNode]
) -> None:
    anna, _ = pair
    before = _invites(anna)
    page = open_organizer(browser, anna)
    page.goto(anna.base + "/trust")
    page.locator("#invite-form input[name=amount]").fill("12.345")
    page.locator("#invite-form button[type=submit]").click()
    reason = page.locator("#amount-error")
    reason.wait_for()
    cli = run_cli(
        anna.home, "invite", "create", "--amount", "12.345", "--currency", "EUR", check=False
    )
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"error: {reason.inner_text()}"
    assert page.locator("#invite-form input[name=amount]").input_value() == "12.345"
    screenshot(page, "trust-refused")
    assert _invites(anna) == before
    page.context.close()


def test_anna_invites_boris_and_both_pages_show_two_members(
    browser: Browser, pair: tuple[WebNode, WebNode]
) -> None:
    from playwright.sync_api import expect

    anna, boris = pair
    a = open_organizer(browser, anna)
    a.goto(anna.base + "/trust")
    expect(a.locator("#member-count")).to_have_text("1 member")
    code = _create_invite(a, "100")
    assert code.startswith("samoorg")
    assert a.locator("#invite-created .qr svg").count() == 1
    assert "100.00 EUR" in a.locator("#invite-created").inner_text()
    screenshot(a, "trust-invite-created")
    # The code is shown once: a reload does not show it again.
    a.reload()
    assert a.locator("#invite-code").count() == 0
    expect(a.locator("#invites tbody tr")).to_have_count(1)
    assert "100.00 EUR" in a.locator("#invites tbody tr").inner_text()

    b = open_organizer(browser, boris, locale="ru-RU")
    b.goto(boris.base + "/trust")
    # Anna cannot accept her own invite: the CLI's reason, next to the field.
    a.locator("#accept-form textarea[name=code]").fill(code)
    a.locator("#accept-form button[type=submit]").click()
    expect(a.locator("#code-error")).to_have_text("cannot accept your own invite")
    b.locator("#accept-form textarea[name=code]").fill(code)
    b.locator("#accept-form button[type=submit]").click()
    done = b.locator("#accept-done")
    expect(done).to_contain_text("100.00 EUR")
    # Both pages show two members once the feeds are exchanged; Anna's page updates live.
    expect(b.locator("#member-count")).to_have_text("2 участника", timeout=SYNC_MS)
    b.reload()
    expect(b.locator("#pool .big")).to_have_text("200.00 EUR", timeout=SYNC_MS)
    a.goto(anna.base + "/trust")
    expect(a.locator("#member-count")).to_have_text("2 members", timeout=SYNC_MS)
    expect(a.locator("#pool .big")).to_have_text("200.00 EUR", timeout=SYNC_MS)
    expect(a.locator("#members tbody tr")).to_have_count(2)
    assert a.locator("svg.trust-graph circle.dot").count() == 2
    assert a.locator("svg.trust-graph line.edge").count() == 1
    screenshot(a, "trust-two-members")
    screenshot(b, "trust-two-members-ru")
    a.goto(anna.base + "/")
    expect(a.locator("#pool .big")).to_have_text("200.00 EUR")
    b.goto(boris.base + "/")
    expect(b.locator("#pool")).to_contain_text("2 участника")
    a.context.close()
    b.context.close()


def test_a_pending_invite_is_revoked(browser: Browser, pair: tuple[WebNode, WebNode]) -> None:
    from playwright.sync_api import expect

    anna, _ = pair
    page = open_organizer(browser, anna)
    page.goto(anna.base + "/trust")
    _create_invite(page, "5")
    row = page.locator("#invites tbody tr", has_text="5.00 EUR")
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#revoke-done")).to_be_visible()
    row = page.locator("#invites tbody tr", has_text="5.00 EUR")
    expect(row).to_contain_text("revoked")
    assert row.get_by_role("button", name="Revoke").count() == 0
    page.context.close()


def test_live_update_without_reload(browser: Browser, pair: tuple[WebNode, WebNode]) -> None:
    """An entry stored by another process appears on an open page without a reload."""
    from playwright.sync_api import expect

    anna, _ = pair
    page = open_organizer(browser, anna)
    page.goto(anna.base + "/trust")
    page.wait_for_function("document.documentElement.dataset.liveOpen === '1'", timeout=WAIT_MS)
    rows = page.locator("#invites tbody tr")
    count = rows.count()
    run_cli(anna.home, "invite", "create", "--amount", "7", "--currency", "EUR")
    expect(rows).to_have_count(count + 1)
    assert re.search(r"7\.00 EUR", page.locator("#invites").inner_text())
    page.context.close()
