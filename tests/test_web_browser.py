"""The web organizer in a real headless Chromium against a real daemon: session, pages, safety."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from samoorg.node.processes import run_cli
from samoorg.node.web.site import NAV
from tests.browser_fixtures import (
    VIEWPORT,
    WebNode,
    browser_fixture,
    open_organizer,
    screenshot,
    web_node_fixture,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.network]
__all__ = ["browser_fixture", "web_node_fixture"]

HEADINGS = {
    "home": "Home",
    "trust": "Trust",
    "pledges": "Pledges",
    "requests": "Requests & initiatives",
    "ledger": "Ledger",
    "forum": "Forum",
    "utility": "Utility",
    "agreements": "Agreements",
    "polls": "Polls",
    "portal": "Portal",
    "orgs": "Organizations",
    "names": "Names",
}


def test_no_session_no_page(browser: Browser, web_node: WebNode) -> None:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    for path in ("/", "/trust", "/static/style.css", "/events", "/login?once=made-up"):
        response = page.goto(web_node.base + path)
        assert response is not None
        assert response.status == 401, path
        assert "samoorg web" in page.locator("body").inner_text()
    # A link works once: a second browser cannot reuse it.
    url = web_node.login_url()
    first = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    assert first.new_page().goto(url).ok  # type: ignore[union-attr]
    again = page.goto(url)
    assert again is not None
    assert again.status == 401
    cookies = first.cookies()
    session = [c for c in cookies if c["name"].startswith("samoorg_session_")]
    assert len(session) == 1
    assert session[0]["httpOnly"] is True
    assert session[0]["sameSite"] == "Strict"
    first.close()
    context.close()


def test_every_page_of_the_navigation(browser: Browser, web_node: WebNode) -> None:
    page = open_organizer(browser, web_node)
    assert page.locator("h1").inner_text() == "Home"
    assert page.locator("#pool .big").inner_text() == "—"
    assert page.locator("#pool").inner_text().count("1 member") == 1
    me = web_node.cli_json("whoami")["id"]
    assert page.locator("#node .ident").inner_text() == me
    for entry in NAV:
        page.locator("header nav").get_by_role("link", name=HEADINGS[entry.name]).click()
        page.wait_for_url(web_node.base + entry.path)
        assert page.locator("h1").inner_text() == HEADINGS[entry.name]
        current = page.locator('header nav a[aria-current="page"]')
        assert current.inner_text() == HEADINGS[entry.name]
        screenshot(page, f"page-{entry.name}")
    page.context.close()


def test_language_from_the_browser_and_the_switch(browser: Browser, web_node: WebNode) -> None:
    page = open_organizer(browser, web_node, locale="ru-RU")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text() == "Главная"
    assert page.locator("#pool").inner_text().count("1 участник") == 1
    page.get_by_role("link", name="English").click()
    page.wait_for_url(web_node.base + "/")
    assert page.locator("h1").inner_text() == "Home"
    page.goto(web_node.base + "/trust")
    page.get_by_role("link", name="Русский").click()
    page.wait_for_url(web_node.base + "/trust")
    assert page.locator("h1").inner_text() == "Доверие"
    screenshot(page, "page-trust-ru")
    page.context.close()


def test_hostile_text_is_shown_as_text(browser: Browser, web_node: WebNode) -> None:
    hostile = "<script>window.pwned = 1</script><b>bold</b>"
    run_cli(
        web_node.home, "poll", "new", hostile, "--option", "a", "--option", "b", "--closes", "1d"
    )
    page = open_organizer(browser, web_node)
    question = page.locator("#inbox q")
    assert question.inner_text() == hostile
    assert page.locator("#inbox script, #inbox b").count() == 0
    assert page.evaluate("typeof window.pwned") == "undefined"
    screenshot(page, "page-home-inbox")
    page.context.close()


def test_pages_read_without_javascript(browser: Browser, web_node: WebNode) -> None:
    page = open_organizer(browser, web_node, javascript=False)
    assert page.locator("h1").inner_text() == "Home"
    assert "1 member" in page.locator("#pool").inner_text()
    page.goto(web_node.base + "/trust")
    assert page.locator("h1").inner_text() == "Trust"
    assert page.locator("#members tbody tr").count() == 1
    assert page.locator("svg.trust-graph circle.dot.me").count() == 1
    page.context.close()


def test_a_form_from_another_origin_is_refused(browser: Browser, web_node: WebNode) -> None:
    page = open_organizer(browser, web_node)
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    assert csrf
    evil = "http://evil.example/"
    forged = (
        f'<form id="f" method="post" action="{web_node.base}/logout">'
        f'<input name="csrf" value="{csrf}"></form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    page.route(evil, lambda route: route.fulfill(body=forged, content_type="text/html"))
    with page.expect_response(re.compile(re.escape(web_node.base) + "/logout")) as answer:
        page.goto(evil)
    assert answer.value.status == 403
    page.wait_for_url(web_node.base + "/logout")
    body = page.locator("body").inner_text()
    assert "forbidden_origin" in body
    assert "logged out" not in body
    # The session still works: the forged post changed nothing.
    page.goto(web_node.base + "/")
    assert page.locator("h1").inner_text() == "Home"
    page.context.close()


def test_a_form_without_the_session_token_is_refused(browser: Browser, web_node: WebNode) -> None:
    page = open_organizer(browser, web_node)
    request = page.context.request  # the browser's cookies, our own Origin
    origin = {"Origin": web_node.base}
    before = len(web_node.api_node.api.all_pages("/invites", 100))
    form = {"amount": "10", "currency": "EUR", "days": "14"}
    answer = request.post(web_node.base + "/trust/invite", form=form, headers=origin)
    assert answer.status == 403
    assert "forbidden_origin" in answer.text()
    wrong = request.post(
        web_node.base + "/trust/invite", form={**form, "csrf": "guess"}, headers=origin
    )
    assert wrong.status == 403
    big = request.post(
        web_node.base + "/trust/invite", form={**form, "note": "x" * 70_000}, headers=origin
    )
    assert big.status == 413
    assert len(web_node.api_node.api.all_pages("/invites", 100)) == before
    page.context.close()
