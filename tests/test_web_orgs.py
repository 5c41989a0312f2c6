"""The organizations pages in Chromium, against a daemon (ana) and a second home (bob) on the CLI.

An org created from the form is the org ``samoorg org show`` shows (and its
listing names it, on the listing page and in ``listing list``); an
invite from the page and a join on bob's CLI (the entries passed along as
bundles) make bob a member on the page; the admin buttons are ``org
admin`` and ``org remove``; joining before an invite is asking; a refusal
(the last admin leaving, a non-admin inviting, a contact
of an unknown type) shows the CLI's line and stores nothing; the pages
render in Russian.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from samoorg.node.processes import run_cli
from tests.api_fixtures import caught_up
from tests.browser_fixtures import (
    WebNode,
    browser_fixture,
    cli_refusal,
    go,
    open_organizer,
    organizer_page_fixture,
    post_form,
    screenshot,
    stored_entries,
    submit,
    web_node_fixture,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.network]
__all__ = ["browser_fixture", "organizer_page_fixture", "web_node_fixture"]


@pytest.fixture(name="node", scope="module")
def node_fixture(web_node: WebNode) -> WebNode:
    return web_node


@pytest.fixture(name="bob", scope="module")
def bob_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("orgs-bob") / "bob"
    run_cli(home, "init")
    return home


def _ident(home: Path) -> str:
    ident = json.loads(run_cli(home, "whoami", "--json").stdout)["id"]
    assert isinstance(ident, str)
    return ident


def _pass_along(node: WebNode, other: Path, folder: Path) -> None:
    """Each side imports a bundle of the other's store (the daemon's as it runs)."""
    run_cli(node.home, "--offline", "export", str(folder / "ana.bundle"))
    run_cli(other, "import", str(folder / "ana.bundle"))
    run_cli(other, "export", str(folder / "bob.bundle"))
    run_cli(node.home, "--offline", "import", str(folder / "bob.bundle"))
    caught_up(node.api_node)


def _org_id(page: Page) -> str:
    return page.url.rsplit("/", 1)[1]


def test_an_org_from_the_form_is_in_the_cli(page: Page, node: WebNode) -> None:
    go(page, node, "/orgs")
    assert page.locator("#orgs tr.org").count() == 0
    submit(
        page,
        "org-form",
        {
            "name": "Tool library",
            "description": "Drills, ladders and saws to borrow.",
            "contacts": "email=tools@example.org\nurl=https://tools.example.org",
        },
    )
    assert page.locator("h1").inner_text() == "Tool library"
    org = _org_id(page)
    shown = node.cli_json("org", "show", org)
    assert (shown["name"], shown["description"]) == (
        "Tool library",
        "Drills, ladders and saws to borrow.",
    )
    assert shown["contacts"] == [
        {"type": "email", "value": "tools@example.org"},
        {"type": "url", "value": "https://tools.example.org"},
    ]
    me = node.cli_json("whoami")["id"]
    assert [(m["member"], m["admin"]) for m in shown["members"]] == [(me, True)]
    assert "tools@example.org" in page.locator("#contacts").inner_text()
    member = page.locator(f'[id="member-{me}"]')
    assert member.locator("a.who.you").count() == 1
    assert "admin" in member.inner_text()
    # Listed, also among mine; an edit from the form is the CLI's too.
    for path in ("/orgs", "/orgs?mine=1"):
        go(page, node, path)
        assert page.locator(f"#org-{org} a.org-name").inner_text() == "Tool library"
    go(page, node, f"/orgs/{org}")
    assert page.locator('#edit-form [name="name"]').input_value() == "Tool library"
    submit(page, "edit-form", {"description": "Tools to borrow, free."})
    assert node.cli_json("org", "show", org)["description"] == "Tools to borrow, free."
    assert node.cli_json("org", "show", org)["contacts"] == shown["contacts"]
    # A listing on behalf of the org is on its page, and in the CLI's table by the org's name.
    ladder = node.cli_json("listing", "offer", "Ladder", "--tag", "goods", "--org", org)["id"]
    go(page, node, f"/orgs/{org}")
    assert "Ladder" in page.locator(f"#listing-{ladder}").inner_text()
    table = run_cli(node.home, "listing", "list").stdout.splitlines()
    assert [line.split("│")[6].strip() for line in table if line.startswith(f" {ladder[:12]}")] == [
        "Tool library"
    ]
    go(page, node, f"/portal/{ladder}")
    assert page.locator("#org a").inner_text() == "Tool library"
    assert page.locator("#org a").get_attribute("href") == f"/orgs/{org}"


def test_an_invite_and_a_join_on_the_cli_make_a_member(
    page: Page, node: WebNode, bob: Path, tmp_path: Path
) -> None:
    bob_id = _ident(bob)
    go(page, node, "/orgs/Tool%20library")
    org = node.cli_json("org", "show", "Tool library")["id"]
    submit(page, "invite-form", {"member": bob_id})
    assert page.locator(f'#invited a.who[title="{bob_id}"]').count() == 1
    _pass_along(node, bob, tmp_path)
    run_cli(bob, "org", "join", org[:12])
    _pass_along(node, bob, tmp_path)
    go(page, node, f"/orgs/{org}")
    row = page.locator(f'[id="member-{bob_id}"]')
    assert row.count() == 1
    assert row.locator("a.who").get_attribute("href") == f"/profiles/{bob_id}"
    assert page.locator("#invited li").count() == 0
    screenshot(page, "org")
    # The admin buttons are 'org admin' and 'org admin --revoke'.
    row.get_by_role("button", name="Make admin").click()
    page.wait_for_url(f"**/orgs/{org}")
    admins = [m["admin"] for m in node.cli_json("org", "show", org)["members"]]
    assert sorted(admins) == [True, True]
    page.locator(f'[id="member-{bob_id}"]').get_by_role("button", name="Take back admin").click()
    page.wait_for_url(f"**/orgs/{org}")
    members = node.cli_json("org", "show", org)["members"]
    assert [m["admin"] for m in members if m["member"] == bob_id] == [False]
    assert "Tool library" in run_cli(node.home, "org", "list", "--member", bob_id).stdout
    # Remove is 'org remove': bob is no longer a member (on the page and in the CLI).
    page.locator(f'[id="member-{bob_id}"]').get_by_role("button", name="Remove").click()
    page.wait_for_url(f"**/orgs/{org}")
    assert page.locator(f'[id="member-{bob_id}"]').count() == 0
    assert [m["member"] for m in node.cli_json("org", "show", org)["members"]] == [
        node.cli_json("whoami")["id"]
    ]


def test_refusals_show_the_cli_line_and_store_nothing(
    page: Page, node: WebNode, bob: Path, tmp_path: Path
) -> None:
    org = node.cli_json("org", "show", "Tool library")["id"]
    before = stored_entries(node)
    # The last admin cannot leave.
    go(page, node, f"/orgs/{org}")
    submit(page, "leave-form", {})
    assert page.locator('[id="self.form-error"]').inner_text() == cli_refusal(
        node.home, "org", "leave", org
    )
    # A contact of a type no profile has.
    go(page, node, "/orgs")
    submit(page, "org-form", {"name": "Fax club", "contacts": "fax=123"})
    assert page.locator('[id="new.contacts-error"]').inner_text() == cli_refusal(
        node.home, "org", "new", "Fax club", "--contact", "fax=123"
    )
    assert page.locator('#org-form [name="name"]').input_value() == "Fax club"
    assert stored_entries(node) == before
    # Bob's org: ana is no admin there, so the page has no invite form; a post of one is refused.
    run_cli(bob, "org", "new", "Choir")
    _pass_along(node, bob, tmp_path)
    before = stored_entries(node)
    go(page, node, "/orgs/Choir")
    assert page.locator("#invite-form").count() == 0
    assert page.locator("#join-form").count() == 1
    choir = node.cli_json("org", "show", "Choir")["id"]
    post_form(page, f"/orgs/{choir}/invite", {"member": _ident(bob)})
    assert page.locator('[id="self.form-error"]').inner_text() == cli_refusal(
        node.home, "org", "invite", "Choir", _ident(bob)
    )
    screenshot(page, "org-refusal")
    assert stored_entries(node) == before
    # Joining before an invite is asking: the action's note says so once.
    submit(page, "join-form", {})
    assert "asked to join" in page.locator("#org-notes").inner_text()
    assert page.locator("#asking a.who.you").count() == 1
    submit(page, "leave-form", {})
    assert page.locator("#asking li").count() == 0
    assert page.locator("#org-notes").count() == 0


def test_the_org_pages_in_russian(browser: Browser, node: WebNode) -> None:
    page = open_organizer(browser, node, locale="ru-RU")
    go(page, node, "/orgs")
    assert page.locator("h1").inner_text() == "Организации"
    assert page.locator('nav a[href="/orgs"]').inner_text() == "Организации"
    go(page, node, "/orgs/Tool%20library")
    assert page.locator("h1").inner_text() == "Tool library"
    assert "администратор" in page.locator("#members").inner_text()
    assert page.locator("#invite-h").inner_text() == "Пригласить участника"
    page.context.close()
