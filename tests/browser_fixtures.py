"""The browser test kit: the system Chromium driven by Playwright, and web-organizer nodes.

Playwright's own browser download is not reachable here, so tests drive
Debian's ``chromium`` (``/usr/bin/chromium``, or ``SAMOORG_CHROMIUM``;
``.ci/install-chromium`` installs it). Tests marked ``browser`` are skipped,
with the reason printed, when there is none (``conftest.py``).

* :func:`browser_fixture` (``browser``): one headless Chromium per test module.
* :func:`web_node_fixture` (``web_node``): one real daemon for a test module;
  :meth:`WebNode.login_url` asks its API for a one-time link, as ``samoorg web`` does.
* :func:`open_organizer`: a fresh browser context (1280x800, its own cookies)
  logged in to a node's organizer; :func:`organizer_page_fixture` (``page``):
  one for a test module, on its ``node`` fixture.
* :func:`community_node`: a daemon whose identity is ana of a written
  community (tests/web_community_fixtures.py) and whose store holds it.
* :func:`screenshot`: save the page under ``tests/artifacts/`` (git-ignored).
* :func:`go`, :func:`submit`: open a page of the organizer (200 expected), fill
  and send one of its forms; :func:`post_form` posts a form the page does not
  show (with the session's token), as a crafted page would;
  :func:`stored_entries` and :func:`cli_refusal` say what the CLI sees (the
  store's entry count, the line of a refusal).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from samoorg.node.processes import run_cli
from tests.api_fixtures import ApiNode, start_api_node, stop_api_node

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.web_community_fixtures import Community

CHROMIUM_ENV = "SAMOORG_CHROMIUM"
CHROMIUM_DEFAULT = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 15_000
"""Playwright's bound for one wait on the page (each ``expect`` is a bounded poll)."""
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The Chromium to drive, or ``None`` if there is none."""
    given = os.environ.get(CHROMIUM_ENV)
    if given:
        return given if Path(given).is_file() else None
    if Path(CHROMIUM_DEFAULT).is_file():
        return CHROMIUM_DEFAULT
    return shutil.which("chromium")


def skip_reason() -> str | None:
    """Why browser tests cannot run here, or ``None`` if they can."""
    if chromium_path() is None:
        return (
            f"no Chromium at {CHROMIUM_DEFAULT} (or ${CHROMIUM_ENV}): "
            "run .ci/install-chromium as root to install Debian's chromium"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[Browser]:
    """A headless system Chromium for one test module.

    Playwright's ``launch`` gives Chromium an empty temporary profile
    (``--user-data-dir`` of its own, removed on close) and refuses one passed in ``args``.
    """
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    assert path is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class WebNode:
    """A running daemon whose organizer a test opens."""

    api_node: ApiNode

    @property
    def home(self) -> Path:
        return self.api_node.home

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` of the node's API and organizer."""
        api = self.api_node.api
        return f"http://{api.host}:{api.port}"

    def login_url(self) -> str:
        """A fresh one-time link (``POST /api/v1/web/login``, as ``samoorg web`` asks)."""
        answer = self.api_node.api.post_json("/web/login", {})
        assert answer.status == 201, answer.body
        url = answer.json()["url"]
        assert isinstance(url, str)
        return url

    def cli_json(self, *args: str) -> Any:
        return self.api_node.cli_json(*args)

    def stop(self) -> None:
        stop_api_node(self.api_node)


def start_web_node(home: Path, *extra: str) -> WebNode:
    """Initialise ``home`` if needed and start its daemon (API and organizer)."""
    return WebNode(start_api_node(home, *extra))


@pytest.fixture(name="web_node", scope="module")
def web_node_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebNode]:
    """One daemon for a test module (its tests share its store)."""
    node = start_web_node(tmp_path_factory.mktemp("web") / "ana")
    try:
        yield node
    finally:
        node.stop()


def open_organizer(
    browser: Browser,
    node: WebNode,
    *,
    javascript: bool = True,
    locale: str = "en-US",
) -> Page:
    """A new context (own cookies, 1280x800) logged in to ``node``'s organizer, at Home."""
    context = browser.new_context(
        viewport=VIEWPORT,  # type: ignore[arg-type]
        java_script_enabled=javascript,
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    response = page.goto(node.login_url())
    assert response is not None
    assert response.ok, response.status
    assert page.url == node.base + "/"
    return page


@pytest.fixture(name="page", scope="module")
def organizer_page_fixture(browser: Browser, node: WebNode) -> Iterator[Page]:
    """One logged-in page on the module's ``node`` for the module's tests."""
    page = open_organizer(browser, node)
    try:
        yield page
    finally:
        page.context.close()


def community_node(folder: Path, community: Community) -> Iterator[WebNode]:
    """Run a daemon as ``community``'s ana over a store of its entries, until closed."""
    from tests.web_community_fixtures import seeded_home

    node = start_web_node(seeded_home(folder / "ana", community.ana, community.entries))
    try:
        yield node
    finally:
        node.stop()


def screenshot(page: Page, name: str) -> Path:
    """Save the page at 1280x800 as ``tests/artifacts/NAME.png`` (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def go(page: Page, node: WebNode, path: str) -> None:
    """Open ``path`` of ``node``'s organizer; it must answer 200."""
    response = page.goto(node.base + path)
    assert response is not None
    assert response.status == 200, (path, response.status, page.locator("main").inner_text())


def submit(page: Page, form: str, fields: dict[str, str], button: str | None = None) -> None:
    """Fill the form ``#form`` and send it (its first submit button, or the one named)."""
    scope = page.locator(f"#{form}")
    for name, value in fields.items():
        field = scope.locator(f'[name="{name}"]')
        tag = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            field.select_option(value)
        elif tag.endswith(("radio", "checkbox")):
            scope.locator(f'[name="{name}"][value="{value}"]').check()
        else:
            field.fill(value)
    target = scope.get_by_role("button", name=button) if button else scope.locator("button")
    with page.expect_navigation():
        target.first.click()


def post_form(page: Page, action: str, fields: dict[str, str]) -> None:
    """Post ``fields`` to ``action`` with the page's CSRF token (a form the page does not show)."""
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    with page.expect_navigation():
        page.evaluate(
            """([action, fields]) => {
                const f = document.createElement("form");
                f.method = "post"; f.action = action;
                for (const [k, v] of Object.entries(fields)) {
                    const i = document.createElement("input");
                    i.name = k; i.value = v; f.appendChild(i);
                }
                document.body.appendChild(f); f.submit();
            }""",
            [action, {"csrf": csrf, **fields}],
        )


def stored_entries(node: WebNode) -> int:
    """How many entries the node's store holds (``samoorg status``)."""
    count = node.cli_json("status")["store"]["entries"]
    assert isinstance(count, int)
    return count


def cli_refusal(home: Path, *args: str) -> str:
    """The one line the CLI prints for a refused command."""
    result = run_cli(home, *args, check=False)
    assert result.returncode in (1, 2), result
    return result.stderr.strip().splitlines()[-1].removeprefix("error: ")
