"""The portal, profile and names pages in Chromium, against a daemon holding a small community.

The community (tests/web_community_fixtures.py ``write_portal_community``)
has profiles (boris needs urgent help; dana chose boris's name), listings,
deals and a review. The tests check that a search lists what ``samoorg
listing search`` lists, that forms act as the CLI acts (a refusal shows the
CLI's line and stores nothing), that a participant is shown one way on every
page, by name, and that a petname set on the names page shows everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from samoorg.node.names import short_id
from samoorg.node.web.acting import PAGE
from samoorg.protocol.ids import peer_id
from tests.browser_fixtures import (
    WebNode,
    browser_fixture,
    cli_refusal,
    community_node,
    go,
    open_organizer,
    organizer_page_fixture,
    post_form,
    screenshot,
    stored_entries,
    submit,
)
from tests.community_fixtures import Author
from tests.web_community_fixtures import FIREWOOD, PortalCommunity, write_portal_community

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.network]
__all__ = ["browser_fixture", "organizer_page_fixture"]

MAX_PAGES = 10


@pytest.fixture(name="community", scope="module")
def community_fixture() -> PortalCommunity:
    return write_portal_community()


@pytest.fixture(name="node", scope="module")
def node_fixture(
    tmp_path_factory: pytest.TempPathFactory, community: PortalCommunity
) -> Iterator[WebNode]:
    yield from community_node(tmp_path_factory.mktemp("portal"), community)


def _hex(c: PortalCommunity, name: str) -> str:
    return c.named[name].id.hex()


def _shown_ids(page: Page) -> list[str]:
    rows = page.locator('#listings tr[id^="listing-"]')
    return [str(r.get_attribute("id")).removeprefix("listing-") for r in rows.all()]


def _every_page(page: Page, node: WebNode, path: str) -> list[str]:
    """The ids listed on ``path`` and on each next page after it."""
    go(page, node, path)
    ids = _shown_ids(page)
    for _ in range(MAX_PAGES):
        following = page.locator('#listings a[rel="next"]')
        if following.count() == 0:
            return ids
        assert len(_shown_ids(page)) == PAGE  # only the last page is shorter
        with page.expect_navigation():
            following.click()
        ids += _shown_ids(page)
    raise AssertionError(f"more than {MAX_PAGES} pages")


SEARCHES: list[tuple[dict[str, str], list[str]]] = [
    # (the form's fields, the CLI's arguments: ``listing search TEXT ...`` or ``listing list``)
    ({}, ["listing", "list"]),
    ({"q": "guitar"}, ["listing", "search", "guitar"]),
    ({"q": "jam"}, ["listing", "search", "jam"]),
    ({"side": "request"}, ["listing", "list", "--side", "request"]),
    ({"tag": "food"}, ["listing", "list", "--tag", "food"]),
    ({"status": "done"}, ["listing", "list", "--status", "done"]),
    (
        {"q": "a", "currency": "EUR", "min_price": "5", "max_price": "10"},
        ["listing", "search", "a", "--currency", "EUR", "--min-price", "5", "--max-price", "10"],
    ),
    ({"q": "jelgava ride"}, ["listing", "search", "jelgava ride"]),
    ({"q": "", "geohash": "ud0"}, ["listing", "search", "", "--near", "ud0"]),
    ({"q": "", "author": "Vera"}, ["listing", "search", "", "--author", "Vera"]),
    ({"q": "firewood"}, ["listing", "search", "firewood"]),
    ({"q": "bundle 2"}, ["listing", "search", "bundle 2"]),
    ({"tag": "goods", "side": "offer"}, ["listing", "list", "--tag", "goods", "--side", "offer"]),
]


def test_search_lists_what_the_cli_lists(
    page: Page, node: WebNode, community: PortalCommunity
) -> None:
    for fields, cli in SEARCHES:
        expected = [item["id"] for item in node.cli_json(*cli, "--all")["items"]]
        assert _every_page(page, node, "/portal?" + urlencode(fields)) == expected, (fields, cli)
        assert page.locator(".refusal").count() == 0
    go(page, node, "/portal?q=guitar")
    assert _shown_ids(page) == [_hex(community, "lessons")]
    # Newest first, a page at a time; the bicycle is done, still listed with any status.
    everything = _every_page(page, node, "/portal?status=any")
    assert len(everything) == 4 + FIREWOOD
    assert everything[-1] == _hex(community, "firewood_0")
    assert _every_page(page, node, "/portal?q=firewood") == [
        _hex(community, f"firewood_{n}") for n in reversed(range(FIREWOOD))
    ]
    go(page, node, "/portal")
    rows = page.locator("#listings").inner_text()
    assert "20.00 EUR an hour" in rows
    boris = community.ident(community.boris)
    author = page.locator(f"#listing-{_hex(community, 'lessons')} a.who")
    assert author.get_attribute("title") == boris
    assert author.get_attribute("href") == f"/profiles/{boris}"
    assert author.inner_text() == f"~Boris! {short_id(community.boris.key)}"
    screenshot(page, "portal")  # docs/images/portal.png is a copy of it
    # A bad filter is refused next to its field, as the API refuses it.
    go_status = page.goto(node.base + "/portal?q=x&min_price=5")
    assert go_status is not None
    assert go_status.status == 422
    assert page.locator('[id="search.currency-error"]').inner_text() == (
        "a price range needs a currency"
    )


def test_a_listing_page_shows_fields_deals_and_reviews(
    page: Page, node: WebNode, community: PortalCommunity
) -> None:
    go(page, node, f"/portal/{_hex(community, 'jam')}")
    assert page.locator("h1").inner_text() == "Blackcurrant jam"
    assert "5.00 EUR" in page.locator("#price").inner_text()
    assert page.locator("#quantity").inner_text() == "10 jars"
    assert "0 edits" in page.locator("#edits").inner_text()
    deal = page.locator(f"#deal-{_hex(community, 'jam_deal')}")
    assert "fulfilled" in deal.inner_text()
    assert "10.00 EUR" in deal.inner_text()
    review = page.locator("#reviews tr.review")
    assert review.count() == 1
    assert review.locator("a.who").first.inner_text().startswith("~Boris!")
    assert "5/5" in review.inner_text()
    assert "Delicious, on time." in review.inner_text()
    assert page.locator("#edit-form").count() == 0  # not ours
    screenshot(page, "listing")
    go(page, node, f"/portal/{_hex(community, 'bicycle')}")
    assert "1 edit" in page.locator("#edits").inner_text()
    assert "done" in page.locator("#listing-h").inner_text()


def test_an_offer_from_the_form_is_in_the_cli(page: Page, node: WebNode) -> None:
    go(page, node, "/portal")
    submit(
        page,
        "listing-form",
        {
            "side": "offer",
            "title": "Bicycle repair",
            "tags": "services, repair",
            "description": "Brakes, gears, wheels.",
            "price_kind": "amount",
            "price": "15",
            "currency": "EUR",
            "frequency": "hourly",
            "quantity": "2",
            "unit": "hours",
            "place": "Riga",
            "geohash": "ud1hu",
            "expires": "30d",
        },
    )
    assert page.locator("h1").inner_text() == "Bicycle repair"
    listing = page.url.rsplit("/", 1)[1]
    shown = node.cli_json("listing", "show", listing)
    assert shown["title"] == "Bicycle repair"
    assert shown["tags"] == ["services", "repair"]
    assert shown["amount"] == {"EUR": "15.00"}
    assert shown["frequency"] == "hourly"
    assert (shown["quantity"], shown["unit"]) == (2, "hours")
    assert shown["status"] == "active"
    assert shown["expires"] is not None
    found = node.cli_json("listing", "search", "brakes")["items"]
    assert [item["id"] for item in found] == [listing]
    # Edit (the form holds the current fields) and close it.
    submit(page, "edit-form", {"title": "Bicycle repair and tuning"}, "Save the changes")
    assert page.locator("h1").inner_text() == "Bicycle repair and tuning"
    shown = node.cli_json("listing", "show", listing)
    assert (shown["title"], shown["edits"], shown["amount"]) == (
        "Bicycle repair and tuning",
        1,
        {"EUR": "15.00"},
    )
    submit(page, "close-form", {})
    assert node.cli_json("listing", "show", listing)["status"] == "done"


def test_refusals_show_the_cli_line_and_store_nothing(
    page: Page, node: WebNode, community: PortalCommunity
) -> None:
    lessons = _hex(community, "lessons")
    before = stored_entries(node)
    # A listing without a category.
    go(page, node, "/portal")
    submit(page, "listing-form", {"title": "Odd jobs", "tags": "misc"})
    shown = page.locator('[id="new.tags-error"]')
    assert shown.inner_text() == cli_refusal(
        node.home, "listing", "offer", "Odd jobs", "--tag", "misc"
    )
    assert page.locator('#listing-form [name="title"]').input_value() == "Odd jobs"
    # Someone else's listing: the page has no edit form; a post of one is refused.
    go(page, node, f"/portal/{lessons}")
    post_form(page, f"/portal/{lessons}/edit", {"title": "Mine now", "tags": "music"})
    assert page.locator('[id="edit.form-error"]').inner_text() == cli_refusal(
        node.home, "listing", "edit", lessons, "--title", "Mine now"
    )
    # A review of a deal that is not fulfilled yet.
    ride_deal = _hex(community, "ride_deal")
    go(page, node, f"/portal/{_hex(community, 'ride')}")
    submit(page, "review-form", {"pledge": ride_deal, "rating": "4", "text": "Thanks"})
    assert page.locator('[id="review.pledge-error"]').inner_text() == cli_refusal(
        node.home, "review", ride_deal, "4"
    )
    screenshot(page, "portal-refusal")
    assert stored_entries(node) == before


def test_a_review_after_a_fulfilled_deal(
    page: Page, node: WebNode, community: PortalCommunity
) -> None:
    go(page, node, f"/portal/{_hex(community, 'lessons')}")
    submit(page, "review-form", {"rating": "4", "text": "Patient teacher."})
    review = page.locator("#reviews tr.review")
    assert review.count() == 1
    assert "you" in review.locator("td").first.inner_text()
    assert "4/5" in review.inner_text()
    assert "Patient teacher." in review.inner_text()
    # The second review of the same deal is refused with the CLI's line.
    deal = _hex(community, "lessons_deal")
    before = stored_entries(node)
    submit(page, "review-form", {"rating": "5"})
    assert page.locator('[id="review.pledge-error"]').inner_text() == cli_refusal(
        node.home, "review", deal, "5"
    )
    assert stored_entries(node) == before
    go(page, node, f"/profiles/{community.ident(community.boris)}")
    assert "Patient teacher." in page.locator("#their-reviews").inner_text()


def test_profile_edit_round_trip_and_urgent_help(
    page: Page, node: WebNode, community: PortalCommunity
) -> None:
    go(page, node, "/")
    urgent = page.locator("#urgent li.urgent-member")
    assert urgent.count() == 1
    assert "My roof leaks" in urgent.inner_text()
    assert urgent.locator("a.who").get_attribute("title") == community.ident(community.boris)
    page.locator("#my-profile").click()
    assert page.locator("#profile-form").count() == 1
    before = stored_entries(node)
    submit(page, "profile-form", {"name": "Ana", "contacts": "fax=123"})
    assert page.locator("#contacts-error").inner_text() == cli_refusal(
        node.home, "profile", "set", "--name", "Ana", "--contact", "fax=123"
    )
    assert stored_entries(node) == before
    submit(
        page,
        "profile-form",
        {
            "name": "Ana",
            "about": "Keeps the tool library.",
            "contacts": "email=ana@example.org\ntelegram=@ana",
            "status": "support",
            "message": "Looking for work",
        },
    )
    assert page.locator("#display-name").inner_text() == "Ana"
    assert "needs regular support" in page.locator("#status").inner_text()
    shown = node.cli_json("profile", "show")
    assert shown["display_name"] == "Ana"
    assert shown["about"] == "Keeps the tool library."
    assert shown["contacts"] == [
        {"type": "email", "value": "ana@example.org"},
        {"type": "telegram", "value": "@ana"},
    ]
    assert (shown["status"], shown["message"]) == ("support", "Looking for work")
    # The form holds what is published: sending it again changes nothing but the time.
    assert page.locator('#profile-form [name="contacts"]').input_value() == (
        "email=ana@example.org\ntelegram=@ana"
    )
    screenshot(page, "profile")
    go(page, node, f"/profiles/{community.ident(community.boris)}")
    assert page.locator("#profile-form").count() == 0
    assert "needs urgent help" in page.locator("#status").inner_text()
    assert "+371 2000 0000" in page.locator("#contacts").inner_text()
    assert "Guitar lessons" in page.locator("#their-listings").inner_text()


def test_a_petname_shows_everywhere(page: Page, node: WebNode, community: PortalCommunity) -> None:
    boris, dana = community.ident(community.boris), community.ident(community.dana)
    go(page, node, "/names")
    assert page.locator("tr.name.collides").count() == 2  # boris and dana chose "Boris"
    assert page.locator("#collisions").count() == 1
    # "Boris" names two participants: refused with the CLI's line, nothing set.
    submit(page, "petname-form", {"who": "Boris", "name": "Bob"})
    assert page.locator("#who-error").inner_text() == cli_refusal(
        node.home, "name", "set", "Boris", "Bob"
    )
    submit(page, "petname-form", {"who": boris[-8:], "name": "Bob"})
    assert "Bob" in page.locator("#name-done").inner_text()
    listed = {r["id"]: r for r in node.cli_json("name", "list")["items"]}
    assert listed[boris]["petname"] == "Bob"
    assert (listed[boris]["collides"], listed[dana]["collides"]) == (False, True)
    label = f"Bob {short_id(community.boris.key)}"
    assert page.locator(f'[id="name-{boris}"]').get_attribute("class") == "name"
    assert "collides" in str(page.locator(f'[id="name-{dana}"]').get_attribute("class"))
    for path in (
        "/portal",
        f"/portal/{_hex(community, 'jam')}",
        "/pledges?tab=to_me_intentions",
        "/ledger",
        "/utility",
        "/trust",
        "/forum",
        f"/profiles/{boris}",
    ):
        go(page, node, path)
        shown = page.locator(f'main a.who[title="{boris}"]')
        assert shown.count() >= 1, path
        assert set(shown.all_inner_texts()) == {label}, path
    screenshot(page, "names-everywhere")
    # Removed from the profile page: the self-chosen name is back, with its collision.
    submit(page, "call", {}, "Remove the name")
    assert page.locator(f'main a.who[title="{boris}"]').first.inner_text() == (
        f"~Boris! {short_id(community.boris.key)}"
    )


def test_the_force_box(page: Page, node: WebNode) -> None:
    stranger = peer_id(Author(99).key)
    before = stored_entries(node)
    go(page, node, "/pledges")
    submit(page, "intend-form", {"amount": "5", "currency": "EUR", "target": "to", "ref": stranger})
    assert page.locator("#ref-error").inner_text() == cli_refusal(
        node.home, "pledge", "intend", "5", "EUR", "--to", stranger
    )
    assert stored_entries(node) == before
    assert page.locator('#intend-form [name="force"]').is_checked() is False
    page.locator('#intend-form [name="ref"]').fill(stranger)
    page.locator('#intend-form [name="force"]').check()
    with page.expect_navigation():
        page.locator("#intend-form button").click()
    mine = node.cli_json("pledge", "list", "--mine", "--all")["items"]
    assert [r["amount"] for r in mine if r["to"] == stranger] == [{"EUR": "5.00"}]


def test_the_new_pages_in_russian(
    browser: Browser, node: WebNode, community: PortalCommunity
) -> None:
    page = open_organizer(browser, node, locale="ru-RU")
    for path, heading in (("/portal", "Портал"), ("/names", "Имена")):
        go(page, node, path)
        assert page.locator("h1").inner_text() == heading
    go(page, node, f"/portal/{_hex(community, 'lessons')}")
    assert "20.00 EUR в час" in page.locator("#price").inner_text()
    go(page, node, f"/profiles/{community.ident(community.boris)}")
    assert "нужна срочная помощь" in page.locator("#status").inner_text()
    screenshot(page, "portal-ru")
    page.context.close()


def test_a_pledge_from_a_listing_page(
    page: Page, node: WebNode, community: PortalCommunity
) -> None:
    jam = _hex(community, "jam")
    before = stored_entries(node)
    go(page, node, f"/portal/{jam}")
    assert page.locator('#pledge-form [name="currency"]').input_value() == "EUR"
    submit(page, "pledge-form", {"amount": "1.234"})
    assert page.locator('[id="pledge.amount-error"]').inner_text() == cli_refusal(
        node.home, "pledge", "intend", "1.234", "EUR", "--listing", jam
    )
    assert stored_entries(node) == before
    submit(page, "pledge-form", {"amount": "7.50"})
    deals = page.locator("#deals tr.deal")
    assert deals.count() == 2
    mine = deals.filter(has_text="7.50 EUR")
    assert mine.locator("a.who.you").count() == 1
    assert "intention" in mine.inner_text()
    made = node.cli_json("pledge", "list", "--mine", "--all")["items"]
    to_vera = [r["amount"] for r in made if r["to"] == community.ident(community.vera)]
    assert sorted(to_vera, key=str) == [{"EUR": "10.00"}, {"EUR": "7.50"}]  # the ride, the jam
