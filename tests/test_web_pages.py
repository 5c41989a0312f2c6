"""The pages of pledges, requests, ledger, forum, utility, agreements and polls, in Chromium.

One daemon holds a small community (tests/web_community_fixtures.py); the
first test checks that every page shows what the store holds (and saves a
screenshot of each at 1280x800), the next ones act through the forms and
check that a refusal shows the CLI's reason next to its field and stores
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from samoorg.crdt.kinds.agreements import version_hash
from tests.browser_fixtures import (
    WebNode,
    browser_fixture,
    cli_refusal,
    community_node,
    go,
    open_organizer,
    organizer_page_fixture,
    screenshot,
    stored_entries,
    submit,
)
from tests.web_community_fixtures import EDITED, Community, write_community

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.network]
__all__ = ["browser_fixture", "organizer_page_fixture"]


@pytest.fixture(name="community", scope="module")
def community_fixture() -> Community:
    return write_community()


@pytest.fixture(name="node", scope="module")
def node_fixture(
    tmp_path_factory: pytest.TempPathFactory, community: Community
) -> Iterator[WebNode]:
    yield from community_node(tmp_path_factory.mktemp("pages"), community)


def test_every_page_shows_what_the_store_holds(
    page: Page, node: WebNode, community: Community
) -> None:
    c = community
    hexid = {name: entry.id.hex() for name, entry in c.named.items()}
    go(page, node, "/pledges?tab=my_commitments")
    row = page.locator(f"#pledge-{hexid['ana_boris']}")
    assert "30.00 EUR" in row.inner_text()
    assert "OVERDUE" in row.inner_text()
    assert row.get_by_role("button", name="Mark fulfilled").count() == 0
    screenshot(page, "pledges")
    go(page, node, "/pledges?tab=to_me_commitments")
    row = page.locator(f"#pledge-{hexid['vera_ana']}")
    assert "25.00 EUR" in row.inner_text()
    assert "OVERDUE" not in row.inner_text()
    assert row.get_by_role("button", name="Mark fulfilled").count() == 1
    assert row.get_by_role("button", name="Forgive").count() == 1
    go(page, node, "/pledges?tab=my_intentions")
    row = page.locator(f"#pledge-{hexid['ana_request']}")
    assert "40.00 EUR" in row.inner_text()
    assert row.get_by_role("button", name="Revise").count() == 1
    go(page, node, "/pledges?tab=to_me_intentions")
    assert "15.00 EUR" in page.locator(f"#pledge-{hexid['boris_ana']}").inner_text()
    tabs = page.locator("nav.tabs").inner_text()
    assert re.search(r"My intentions\s*1", tabs)
    assert re.search(r"Commitments in my favour\s*1", tabs)

    go(page, node, "/requests")
    requests = page.locator("#request-list").inner_text()
    assert "500.00 EUR" in requests
    assert "100.00 EUR of 500.00 EUR" in requests  # ana 40 + vera 60, live intentions
    assert page.locator('#request-list [role="progressbar"]').get_attribute("aria-valuenow") == "20"
    initiatives = page.locator("#initiative-list").inner_text()
    assert "a well" in initiatives
    assert "250.00 EUR of 1000.00 EUR" in initiatives
    assert "2033-" in initiatives  # the deadline
    screenshot(page, "requests")
    go(page, node, f"/requests/{hexid['request']}")
    backers = page.locator("#appeal table").inner_text()
    assert "40.00 EUR" in backers
    assert "60.00 EUR" in backers
    screenshot(page, "request")

    go(page, node, "/ledger")
    outstanding = page.locator("#outstanding-table tbody tr")
    assert outstanding.count() == 3
    cycles = page.locator("#netting svg.cycle")
    assert cycles.count() == 1
    assert cycles.locator("line.debt").count() == 3
    assert "20.00 EUR" in page.locator("#netting").inner_text()
    after = page.locator("#after-table").inner_text()
    assert "10.00 EUR" in after  # ana still owes boris 30 - 20
    assert "5.00 EUR" in after  # vera still owes ana 25 - 20
    screenshot(page, "ledger")

    go(page, node, "/forum")
    assert "Shared tool library" in page.locator("#ideas").inner_text()
    screenshot(page, "forum")
    page.get_by_role("link", name="Shared tool library").click()
    assert "I can keep it in my garage." in page.locator("#idea").inner_text()
    assert "4.50" in page.locator("#idea .facts").first.inner_text()
    screenshot(page, "idea")

    go(page, node, "/utility")
    assert page.locator("#utility-rows tbody tr").count() == 3
    assert page.locator("#distribution svg rect.bar").count() == 3
    go(page, node, "/utility?amount=100.01&currency=EUR")
    shares = page.locator("#shares tbody td:nth-child(3)").all_inner_texts()
    assert len(shares) == 3
    assert sum(int(s.split()[0].replace(".", "")) for s in shares) == 10001  # exact
    assert page.locator("#shares-total").inner_text() == "100.01 EUR"
    cli = node.cli_json("distribute", "100.01", "EUR")
    assert [f"{s['share']} EUR" for s in cli["shares"]] == shares
    screenshot(page, "utility")

    go(page, node, f"/agreements/{hexid['agreement']}")
    assert page.locator("#agreement-body").inner_text() == EDITED
    assert page.locator("#history tbody tr").count() == 2
    assert page.locator("#blame tbody tr").count() == 3
    assert "current" in page.locator("#acceptances").inner_text()
    assert page.locator("#accepted-mark").count() == 1
    page.get_by_role("link", name="diff").last.click()
    assert "by vote." in page.locator("#diff .add").inner_text()
    assert "together." in page.locator("#diff .del").inner_text()
    screenshot(page, "agreement")
    version = version_hash(c.named["agreement"].id, EDITED).hex()
    assert version[:12] in page.locator("#agreement-text h2").inner_text()

    go(page, node, f"/polls/{hexid['poll']}")
    votes = page.locator("#tally td.votes").all_inner_texts()
    assert votes == ["1", "2"]
    assert page.locator("#leading").inner_text() == "Vera"
    screenshot(page, "poll")


def test_a_refusal_shows_the_cli_reason_next_to_its_field(
    page: Page, node: WebNode, community: Community
) -> None:
    boris = community.ident(community.boris)
    request = community.named["request"].id.hex()
    before = stored_entries(node)
    cases = [
        (
            "/pledges",
            "intend-form",
            {"amount": "12.345", "currency": "EUR", "target": "to", "ref": boris},
            "amount",
            ("pledge", "intend", "12.345", "EUR", "--to", boris),
        ),
        (
            "/pledges",
            "intend-form",
            {"amount": "5", "currency": "XYZ", "target": "to", "ref": boris},
            "currency",
            ("pledge", "intend", "5", "XYZ", "--to", boris),
        ),
        (
            "/pledges",
            "intend-form",
            {"amount": "5", "currency": "EUR", "target": "to", "ref": "nobodyhere"},
            "ref",
            ("pledge", "intend", "5", "EUR", "--to", "nobodyhere"),
        ),
        (
            f"/requests/{request}",
            "back-form",
            {"amount": "0"},
            "amount",
            ("pledge", "intend", "0", "EUR", "--request", request),
        ),
        ("/forum", "idea-form", {"title": "   "}, "title", ("idea", "post", "   ")),
        (
            "/polls",
            "poll-form",
            {"question": "Lunch?", "options": "Soup"},
            "options",
            ("poll", "new", "Lunch?", "--option", "Soup"),
        ),
        (
            "/utility",
            "rate-form",
            {"member": "nobodyhere", "score": "3"},
            "member",
            ("rate", "nobodyhere", "3"),
        ),
        (
            "/utility",
            "distribute-form",
            {"amount": "100", "currency": "XYZ"},
            "currency",
            ("distribute", "100", "XYZ"),
        ),
    ]
    for path, form, fields, field, cli in cases:
        go(page, node, path)
        submit(page, form, fields)
        shown = page.locator(f"#{field}-error")
        assert shown.count() == 1, (path, fields, page.locator("main").inner_text())
        assert shown.inner_text() == cli_refusal(node.home, *cli), (path, fields)
        assert page.locator(f'[name="{field}"][aria-invalid="true"]').count() == 1
    screenshot(page, "refusal")
    assert stored_entries(node) == before


def test_a_commitment_asks_for_the_confirmation(
    page: Page, node: WebNode, community: Community
) -> None:
    pledge = community.named["ana_request"].id.hex()
    before = stored_entries(node)
    go(page, node, "/pledges?tab=my_intentions")
    row = page.locator(f"#pledge-{pledge}")
    row.locator("summary").click()
    assert "cannot be undone" in row.locator(".warning").inner_text()
    with page.expect_navigation():
        row.get_by_role("button", name="Commit irrevocably").click()
    assert (
        page.locator(f'[id="{pledge}.commit-error"]').inner_text()
        == "not committed: nothing was recorded"
    )
    assert stored_entries(node) == before
    assert node.cli_json("pledge", "list", "--mine", "--all")["items"]  # still an intention
    states = {r["id"]: r["state"] for r in node.cli_json("pledge", "list", "--all")["items"]}
    assert states[pledge] == "intention"


def test_the_dispatcher_acts(page: Page, node: WebNode, community: Community) -> None:
    vera = community.ident(community.vera)
    go(page, node, "/pledges")
    submit(page, "intend-form", {"amount": "12.50", "currency": "eur", "target": "to", "ref": vera})
    mine = {
        r["amount"]["EUR"]: r for r in node.cli_json("pledge", "list", "--mine", "--all")["items"]
    }
    made = mine["12.50"]["id"]
    assert mine["12.50"]["state"] == "intention"
    row = page.locator(f"#pledge-{made}")
    assert "12.50 EUR" in row.inner_text()
    row.locator('input[name="amount"]').fill("13")
    with page.expect_navigation():
        row.get_by_role("button", name="Revise").click()
    row = page.locator(f"#pledge-{made}")
    assert "13.00 EUR" in row.inner_text()
    row.locator("summary").click()
    row.locator('input[name="due"]').fill("30d")
    row.locator('input[name="confirm"]').check()
    with page.expect_navigation():
        row.get_by_role("button", name="Commit irrevocably").click()
    go(page, node, "/pledges?tab=my_commitments")
    row = page.locator(f"#pledge-{made}")
    assert "committed" in row.inner_text()
    assert row.get_by_role("button", name="Revise").count() == 0
    # The beneficiary's buttons: vera's commitment to ana.
    theirs = community.named["vera_ana"].id.hex()
    go(page, node, "/pledges?tab=to_me_commitments")
    with page.expect_navigation():
        page.locator(f"#pledge-{theirs}").get_by_role("button", name="Mark fulfilled").click()
    assert "fulfilled" in page.locator(f"#pledge-{theirs}").inner_text()
    states = {r["id"]: r["state"] for r in node.cli_json("pledge", "list", "--all")["items"]}
    assert states[made] == "committed"
    assert states[theirs] == "fulfilled"
    # Withdraw the intention to boris's request.
    withdrawn = community.named["ana_request"].id.hex()
    go(page, node, "/pledges?tab=my_intentions")
    with page.expect_navigation():
        page.locator(f"#pledge-{withdrawn}").get_by_role("button", name="Withdraw").click()
    assert "withdrawn" in page.locator(f"#pledge-{withdrawn}").inner_text()


def test_requests_and_initiatives_act(page: Page, node: WebNode, community: Community) -> None:
    go(page, node, "/requests")
    submit(page, "request-form", {"amount": "300", "currency": "EUR", "reason": "Rent in May"})
    assert "Rent in May" in page.locator("#appeal").inner_text()
    assert page.locator("#close-form").count() == 1  # mine: I may close it
    go(page, node, "/requests")
    submit(
        page,
        "initiative-form",
        {"title": "Seed bank", "goal": "200", "goal_currency": "EUR", "deadline": "60d"},
    )
    assert page.locator("h1").inner_text() == "Seed bank"
    assert page.locator("#back-form").count() == 0  # one does not back one's own
    submit(page, "close-form", {"note": "done"})
    assert "closed" in page.locator("#appeal h2").inner_text()
    go(page, node, f"/initiatives/{community.named['initiative'].id.hex()}")
    submit(page, "back-form", {"amount": "50"})
    assert page.locator(".refusal").count() == 0, page.locator(".refusal").all_inner_texts()
    assert page.locator('#appeal [role="progressbar"]').first.get_attribute("aria-valuenow") == "30"
    assert "300.00 EUR of 1000.00 EUR" in page.locator("#appeal").inner_text()
    listed = node.cli_json("initiative", "list", "--all")["items"]
    assert [i["status"] for i in listed if i["title"] == "Seed bank"] == ["closed"]


def test_forum_utility_polls_and_agreements_act(
    page: Page, node: WebNode, community: Community
) -> None:
    go(page, node, "/forum")
    submit(page, "idea-form", {"title": "Repair café", "body": "Every first Sunday."})
    assert "Repair café" in page.locator("#ideas").inner_text()
    page.get_by_role("link", name="Repair café").click()
    submit(page, "comment-form", {"text": "Count me in"})
    assert "Count me in" in page.locator("#idea").inner_text()
    assert page.locator("#rate-form").count() == 0  # one does not rate one's own idea
    go(page, node, f"/forum/{community.named['idea'].id.hex()}")
    submit(page, "rate-form", {"score": "1", "comment": "changed my mind"})
    assert "changed my mind" in page.locator("#idea").inner_text()
    assert "3.00" in page.locator("#idea .facts").first.inner_text()  # (1 + 5) / 2

    go(page, node, "/utility")
    submit(page, "rate-form", {"member": community.ident(community.boris), "score": "5"})
    assert "5/5" in page.locator("#ratings").inner_text()

    go(page, node, "/polls")
    submit(page, "poll-form", {"question": "Picnic day?", "options": "Saturday\nSunday"})
    assert page.locator("h1").inner_text() == "Picnic day?"
    submit(page, "vote-form", {"option": "2"})
    assert page.locator("#tally td.votes").all_inner_texts() == ["0", "1"]
    assert "your vote" in page.locator("#tally tr.option").nth(1).inner_text()

    go(page, node, "/agreements")
    submit(page, "new-form", {"title": "Garden rules", "text": "Water at dawn.\nShare tools.\n"})
    assert page.locator("h1").inner_text() == "Garden rules"
    assert page.locator("#accept-form").count() == 1
    submit(page, "edit-form", {"text": "Water at dawn.\nShare tools.\nClose the gate.\n"})
    assert "Close the gate." in page.locator("#agreement-body").inner_text()
    assert page.locator("#history tbody tr").count() == 2
    submit(page, "accept-form", {})
    assert page.locator("#accepted-mark").count() == 1
    doc = page.url.rsplit("/", 1)[1]
    shown = node.cli_json("agreement", "show", doc)
    assert shown["text"] == "Water at dawn.\nShare tools.\nClose the gate.\n"


def test_the_pages_read_without_javascript(
    browser: Browser, node: WebNode, community: Community
) -> None:
    page = open_organizer(browser, node, javascript=False)
    request = community.named["request"].id.hex()
    agreement = community.named["agreement"].id.hex()
    for path, selector, text in (
        ("/pledges?tab=to_me_intentions", "#pledge-rows", "15.00 EUR"),
        ("/requests", "#request-list", "500.00 EUR"),
        (f"/requests/{request}", "#appeal", "500.00 EUR"),
        ("/ledger", "#outstanding", "30.00 EUR"),
        ("/forum", "#ideas", "Shared tool library"),
        ("/utility", "#utility-rows", "%"),
        (f"/agreements/{agreement}", "#agreement-body", "by vote."),
        ("/polls", "#poll-list", "Who speaks for us?"),
    ):
        go(page, node, path)
        assert text in page.locator(selector).inner_text(), path
    page.context.close()
