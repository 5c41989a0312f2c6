"""A small community written straight into a node's store, for the browser tests of the pages.

Three members (ana, the node's own identity, boris and vera) trust each other
through ana; they pledge in a cycle (ana -> boris -> vera -> ana, so the ledger
has a cycle to net), boris asks for help and vera proposes an initiative,
there is an idea with a comment and ratings, a poll with votes and an
agreement that vera edited and ana accepted. :class:`Community` keeps the
entries by name so a test can say what each page must show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from samoorg.crdt.kinds.pledges import INITIATIVE
from samoorg.node.home import Home
from samoorg.node.keystore import create_key_file
from samoorg.node.store import Store
from samoorg.protocol.entry import Entry
from samoorg.protocol.ids import peer_id
from tests import agreement_fixtures
from tests.community_fixtures import DAY, T0, Author
from tests.social_fixtures import (
    comment_on,
    open_poll,
    post_idea,
    rate_idea,
    rate_member,
    trusted_star,
    vote_on,
)

RULES = "Members help each other.\nDecisions are taken together.\nThe pool is shared.\n"
EDITED = "Members help each other.\nDecisions are taken together, by vote.\nThe pool is shared.\n"
FAR = T0 + 3650 * DAY
"""A deadline and a closing time that stay in the future (2033)."""


@dataclass
class Community:
    """The members and the entries written, by name."""

    ana: Author = field(default_factory=lambda: Author(1))
    boris: Author = field(default_factory=lambda: Author(2))
    vera: Author = field(default_factory=lambda: Author(3))
    entries: list[Entry] = field(default_factory=list)
    named: dict[str, Entry] = field(default_factory=dict)

    def add(self, name: str, *entries: Entry) -> Entry:
        """Keep ``entries``; the first one under ``name``."""
        self.entries += entries
        self.named[name] = entries[0]
        return entries[0]

    def ident(self, author: Author) -> str:
        return peer_id(author.key)


def write_community() -> Community:
    """Every entry of the community (see the module docstring)."""
    c = Community()
    ana, boris, vera = c.ana, c.boris, c.vera
    c.entries += trusted_star(ana, [boris, vera])
    # A cycle of commitments: ana owes boris 30, boris owes vera 20, vera owes ana 25.
    for name, giver, taker, amount, due in (
        ("ana_boris", ana, boris, "30", T0 + DAY),  # overdue
        ("boris_vera", boris, vera, "20", None),
        ("vera_ana", vera, ana, "25", FAR),
    ):
        pledge = c.add(name, giver.intend(amount, to=taker.key))
        c.add(f"{name}_commit", giver.commit(pledge, due=due))
    c.add("boris_ana", boris.intend("15", to=ana.key))
    request = c.add("request", boris.request("500"))
    c.add("ana_request", ana.intend("40", request=request.id))
    c.add("vera_request", vera.intend("60", request=request.id))
    initiative = c.add("initiative", vera.initiative("1000", deadline=FAR))
    assert initiative.kind == INITIATIVE
    c.add("boris_initiative", boris.intend("250", initiative=initiative.id))
    idea = c.add("idea", post_idea(boris, "Shared tool library", "Lend drills and ladders."))
    c.add("comment", comment_on(vera, idea, "I can keep it in my garage."))
    c.add("ana_rates_idea", rate_idea(ana, idea, 4))
    c.add("vera_rates_idea", rate_idea(vera, idea, 5))
    c.add("ana_rates_boris", rate_member(ana, boris, 4))
    c.add("vera_rates_boris", rate_member(vera, boris, 3))
    c.add("boris_rates_vera", rate_member(boris, vera, 5))
    c.add("ana_rates_vera", rate_member(ana, vera, 2))
    poll = c.add("poll", open_poll(ana, "Who speaks for us?", ["Boris", "Vera"], FAR))
    c.add("ana_votes", vote_on(ana, poll, 1))
    c.add("boris_votes", vote_on(boris, poll, 1))
    c.add("vera_votes", vote_on(vera, poll, 0))
    made = agreement_fixtures.create(boris, RULES, title="Community rules")
    c.add("agreement", *made)
    edit = agreement_fixtures.edit(vera, made[0].id, c.entries, EDITED)
    c.add("agreement_edit", *edit)
    c.add("acceptance", agreement_fixtures.accept(ana, made[0].id, c.entries))
    return c


def seeded_home(path: Path, author: Author, entries: list[Entry]) -> Path:
    """A home whose identity is ``author`` and whose store holds ``entries``."""
    home = Home(path)
    home.path.mkdir(parents=True)
    create_key_file(home.key_file, seed=author.signer.seed)
    with Store(home.store_file) as store:
        report = store.ingest([e.raw for e in entries])
        assert not report.rejected, report.rejected
    return home.path


FIREWOOD = 30
"""Dana's firewood listings: more than a page of the portal (25)."""


@dataclass
class PortalCommunity(Community):
    """The community with the portal: profiles, listings, deals and a review.

    dana (not on the trust list) chose the name boris chose: a collision.
    """

    dana: Author = field(default_factory=lambda: Author(4))


def write_portal_community() -> PortalCommunity:
    """:func:`write_community`, then profiles, four listings, three deals and a review.

    * boris ("Boris", needs urgent help) offers guitar lessons in hours;
      ana paid for them (fulfilled, not reviewed yet: ana may review);
    * vera ("Vera") requests a ride; ana committed to it, not fulfilled yet
      (a review of it is refused); vera offers jam, boris bought it
      (fulfilled) and reviewed her;
    * dana ("Boris" too) offers a free bicycle, done, and :data:`FIREWOOD`
      bundles of firewood posted a day before the rest (a search of more than
      a page).
    """
    from samoorg.crdt.kinds.listings import REQUEST
    from samoorg.crdt.kinds.pledges import COMMIT, INTEND
    from samoorg.crdt.kinds.profiles import PROFILE_KIND, profile_body
    from tests import portal_fixtures

    base = write_community()
    c = PortalCommunity(base.ana, base.boris, base.vera, base.entries, base.named)
    ana, boris, vera, dana = c.ana, c.boris, c.vera, c.dana
    c.add(
        "boris_profile",
        boris.write(
            PROFILE_KIND,
            profile_body(
                "Boris", "Guitarist.", [("phone", "+371 2000 0000")], "urgent", "My roof leaks"
            ),
        ),
    )
    c.add("vera_profile", vera.write(PROFILE_KIND, profile_body("Vera", "", [], "fine", "")))
    for n in range(FIREWOOD):  # older than the rest: the last pages of "newest first"
        at = T0 - DAY + n * 1000
        c.add(
            f"firewood_{n}",
            portal_fixtures.post(dana, at=at, **{**_gift(), "title": f"Firewood bundle {n}"}),
        )
    c.add("dana_profile", dana.write(PROFILE_KIND, profile_body("Boris", "", [], "fine", "")))
    lessons = c.add("lessons", portal_fixtures.post(boris))
    pledge, commit, fulfil = portal_fixtures.deal(ana, boris, lessons)
    c.add("lessons_deal", pledge, commit, fulfil)
    c.named["lessons_commit"] = commit
    ride = c.add(
        "ride",
        portal_fixtures.post(
            vera,
            side=REQUEST,
            title="Ride to the market",
            tags=("transport",),
            description="Saturday morning, two boxes of jam.",
            amount=1000,
            frequency="once",
            quantity=None,
            unit="",
            place="Jelgava",
            geohash="ud0",
        ),
    )
    ride_pledge = ana.write(
        INTEND, {"to": vera.key, "amount": 1000, "currency": "EUR", "listing": ride.id}
    )
    c.add("ride_deal", ride_pledge, ana.write(COMMIT, {"pledge": ride_pledge.id}))
    jam = c.add(
        "jam",
        portal_fixtures.post(
            vera,
            title="Blackcurrant jam",
            tags=("food", "jam"),
            description="Home made, 0.5 l jars.",
            amount=500,
            frequency=None,
            quantity=10,
            unit="jars",
            place="Jelgava",
            geohash="ud0d",
        ),
    )
    jam_pledge, jam_commit, jam_fulfil = portal_fixtures.deal(boris, vera, jam, 1000)
    c.add("jam_deal", jam_pledge, jam_commit, jam_fulfil)
    c.add(
        "jam_review",
        portal_fixtures.review(boris, jam_pledge, jam_commit, 5, "Delicious, on time."),
    )
    bicycle = c.add(
        "bicycle",
        portal_fixtures.post(dana, **_gift()),
    )
    c.add("bicycle_done", portal_fixtures.edit(dana, bicycle, status="done", **_gift()))
    return c


def _gift() -> dict[str, object]:
    """The fields of dana's bicycle (a gift), and of its edit; firewood changes the title."""
    return {
        "title": "Children's bicycle",
        "tags": ("goods",),
        "description": "For 5 to 7 years.",
        "price": "gift",
        "amount": None,
        "currency": None,
        "frequency": None,
        "quantity": None,
        "unit": "",
        "place": "Riga",
        "geohash": "ud1h",
    }
