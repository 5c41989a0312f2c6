"""The pledge view: intentions, commitments, closing, requests, initiatives, the ledger."""

from __future__ import annotations

from samoorg.crdt.algorithms.netting import suggest_netting
from samoorg.crdt.framework.reasons import ReasonCode
from samoorg.crdt.kinds.pledges import (
    CLOSE_AGAIN,
    CLOSE_NOT_AUTHOR,
    CLOSED,
    COLLECTING,
    COMMITTED,
    EXPIRED,
    FORGIVEN,
    FULFILLED,
    GOAL_REACHED,
    OPEN,
    RELEASED,
    WAITING,
    WITHDRAWN,
)
from tests.community_fixtures import DAY, Author, views_of


def test_intention_revise_commit_fulfil() -> None:
    alice, bob = Author(1), Author(2)
    intend = alice.intend("30", to=bob.key)
    revise = alice.revise(intend, 4000)
    commit = alice.commit(intend, due=alice.clock + DAY)
    views = views_of(intend, revise, commit)
    pledge = views.pledges.pledge(intend.id)
    assert pledge is not None
    assert (pledge.state, pledge.minor, pledge.beneficiary) == (COMMITTED, 4000, bob.key)
    assert views.pledges.debts() == {("EUR", alice.key, bob.key): 4000}
    assert pledge.overdue(commit.timestamp + 2 * DAY)
    assert not pledge.overdue(commit.timestamp)
    fulfil = bob.close(intend, commit)
    views.index.add(fulfil)
    assert views.pledges.pledge(intend.id).state == FULFILLED  # type: ignore[union-attr]
    assert views.pledges.debts() == {}
    assert views.invalid() == {}


def test_the_netting_is_kept_until_the_debts_change() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    entries = []
    for debtor, creditor in ((alice, bob), (bob, carol), (carol, alice)):
        intend = debtor.intend("30", to=creditor.key)
        entries += [intend, debtor.commit(intend)]
    views = views_of(*entries[:4])
    before = views.pledges.netting()
    assert before.cycles == ()
    assert views.pledges.netting() is before  # computed once
    changes, known = views.pledges.known_netting()
    assert known is before
    for entry in entries[4:]:
        views.index.add(entry)  # carol's commitment closes the cycle
    assert views.pledges.known_netting()[1] is None
    assert [c.amount for c in views.pledges.netting().cycles] == [3000]
    assert views.pledges.netting() == suggest_netting(views.pledges.debts())
    # A netting computed elsewhere is kept only for the debts it was computed from.
    stale, _ = views.pledges.known_netting()
    views.pledges.keep_netting(changes, before)  # from before carol's commitment
    assert views.pledges.netting() != before
    intend = alice.intend("10", to=carol.key)
    views.index.add(intend)
    views.index.add(alice.commit(intend))
    views.pledges.keep_netting(stale, before)
    assert views.pledges.known_netting()[1] is None
    current, _ = views.pledges.known_netting()
    assert current > stale
    views.pledges.keep_netting(current, before)
    assert views.pledges.known_netting() == (current, before)


def test_rule_violations_are_void_with_reasons() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    intend = alice.intend("30", to=bob.key)
    foreign_commit = carol.commit(intend)
    commit = alice.commit(intend)
    edit = alice.revise(intend, 100)
    withdraw = alice.withdraw(intend)
    wrong_closer = carol.close(intend, commit)
    first = bob.close(intend, commit, forgive=True)
    second = bob.close(intend, commit)
    to_self = alice.intend("5", to=alice.key)
    views = views_of(
        intend, foreign_commit, commit, edit, withdraw, wrong_closer, first, second, to_self
    )
    invalid = views.invalid()
    assert invalid[foreign_commit.id].text == "only the author of an intention can commit it"
    assert invalid[foreign_commit.id].code is ReasonCode.NOT_PLEDGER
    assert invalid[edit.id].text == "a commitment cannot be edited"
    assert invalid[edit.id].code is ReasonCode.PLEDGE_COMMITTED
    assert invalid[withdraw.id].text == "a commitment cannot be withdrawn"
    assert invalid[withdraw.id].code is ReasonCode.PLEDGE_COMMITTED
    assert invalid[wrong_closer.id].text.startswith("only the beneficiary")
    assert invalid[wrong_closer.id].code is ReasonCode.NOT_BENEFICIARY
    assert invalid[second.id].text == "the commitment is already forgiven"
    assert invalid[second.id].code is ReasonCode.ALREADY_CLOSED
    assert invalid[to_self.id].text == "cannot pledge to yourself"
    assert invalid[to_self.id].code is ReasonCode.SELF_PLEDGE
    assert first.id not in invalid
    assert views.pledges.pledge(intend.id).state == FORGIVEN  # type: ignore[union-attr]


def test_malformed_bodies_are_void() -> None:
    alice, bob = Author(1), Author(2)
    zero = alice.write("pledge.intend", {"to": bob.key, "amount": 0, "currency": "EUR"})
    negative = alice.write("pledge.intend", {"to": bob.key, "amount": -5, "currency": "EUR"})
    unknown = alice.write("pledge.intend", {"to": bob.key, "amount": 5, "currency": "XYZ"})
    two = alice.write(
        "pledge.intend", {"to": bob.key, "request": b"\0" * 32, "amount": 5, "currency": "EUR"}
    )
    invalid = views_of(zero, negative, unknown, two).invalid()
    assert "expected a positive amount" in invalid[zero.id].text
    assert invalid[zero.id].code is ReasonCode.MALFORMED
    assert "expected a positive amount" in invalid[negative.id].text
    assert invalid[negative.id].code is ReasonCode.MALFORMED
    assert "unknown currency 'XYZ'" in invalid[unknown.id].text
    assert invalid[unknown.id].code is ReasonCode.MALFORMED
    assert "exactly one target" in invalid[two.id].text
    assert invalid[two.id].code is ReasonCode.MALFORMED


def test_initiative_status_follows_live_intentions() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    initiative = alice.initiative("100", deadline=alice.clock + 10 * DAY)
    b = bob.intend("60", initiative=initiative.id)
    c = carol.intend("40", initiative=initiative.id)
    views = views_of(initiative, b, c)
    now = initiative.timestamp + DAY
    assert views.pledges.appeal(initiative.id).status(now) == GOAL_REACHED  # type: ignore[union-attr]
    views.index.add(carol.withdraw(c))
    appeal = views.pledges.appeal(initiative.id)
    assert appeal is not None
    assert appeal.totals.pledged == 6000
    assert appeal.status(now) == COLLECTING
    assert appeal.status(initiative.timestamp + 11 * DAY) == EXPIRED
    assert views.pledges.pledge(c.id).state == WITHDRAWN  # type: ignore[union-attr]
    late = carol.intend("40", initiative=initiative.id, at=initiative.timestamp + 11 * DAY)
    usd = bob.intend("40", "USD", initiative=initiative.id)
    views.index.add(late)
    views.index.add(usd)
    assert views.invalid()[late.id].text.startswith("the initiative closed at")
    assert views.invalid()[late.id].code is ReasonCode.INITIATIVE_CLOSED
    assert views.invalid()[usd.id].text == "the initiative collects EUR, found a pledge in USD"
    assert views.invalid()[usd.id].code is ReasonCode.CURRENCY_MISMATCH


def test_pledge_waits_for_its_request() -> None:
    alice, bob = Author(1), Author(2)
    request = alice.request("500", monthly=True)
    pledge = bob.intend("50", request=request.id)
    views = views_of(pledge)
    assert views.pledges.pledge(pledge.id).state == WAITING  # type: ignore[union-attr]
    assert views.invalid() == {}
    views.index.add(request)
    outcome = views.pledges.pledge(pledge.id)
    assert outcome is not None
    assert (outcome.state, outcome.beneficiary) == (OPEN, alice.key)
    assert views.pledges.appeal(request.id).totals.pledged == 5000  # type: ignore[union-attr]


def test_closing_a_request_releases_intentions_and_keeps_commitments() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    request = alice.request("500")
    kept = bob.intend("50", request=request.id)
    commit = bob.commit(kept)
    loose = carol.intend("30", request=request.id)
    close = alice.close_appeal(request, note="solved")
    views = views_of(request, kept, commit, loose, close)
    appeal = views.pledges.appeal(request.id)
    assert appeal is not None
    assert appeal.closed == close
    assert appeal.status(close.timestamp) == CLOSED
    assert views.pledges.pledge(loose.id).state == RELEASED  # type: ignore[union-attr]
    assert views.pledges.pledge(kept.id).state == COMMITTED  # type: ignore[union-attr]
    assert (appeal.totals.pledged, appeal.totals.committed, appeal.totals.backers) == (
        5000,
        5000,
        1,
    )
    assert views.pledges.debts() == {("EUR", bob.key, alice.key): 5000}
    assert [o.id for o in views.pledges.backers(request.id)] == [kept.id]
    assert {o.id for o in views.pledges.backers(request.id, released=True)} == {kept.id, loose.id}
    # Fulfilling a commitment made before the closing still counts.
    views.index.add(alice.close(kept, commit))
    assert views.pledges.pledge(kept.id).state == FULFILLED  # type: ignore[union-attr]
    assert views.invalid() == {}


def test_closing_rules_void_with_named_reasons() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    initiative = alice.initiative("100")
    early = bob.intend("10", initiative=initiative.id)
    foreign = carol.close_appeal(initiative)
    close = alice.close_appeal(initiative)
    again = alice.close_appeal(initiative)
    late_commit = bob.commit(early, at=close.timestamp + 1)
    late_intend = carol.intend("10", initiative=initiative.id, at=close.timestamp + 1)
    request = alice.request("5")
    wrong_kind = alice.write("initiative.close", {"initiative": request.id})
    malformed = alice.write("help.close", {"request": b"\0" * 3})
    views = views_of(
        initiative,
        early,
        foreign,
        close,
        again,
        late_commit,
        late_intend,
        request,
        wrong_kind,
        malformed,
    )
    invalid = views.invalid()
    assert invalid[foreign.id].text == CLOSE_NOT_AUTHOR.format(label="initiative")
    assert invalid[foreign.id].code is ReasonCode.CLOSE_NOT_AUTHOR
    assert invalid[again.id].text == CLOSE_AGAIN.format(label="initiative")
    assert invalid[again.id].code is ReasonCode.CLOSE_AGAIN
    assert invalid[late_commit.id].text.startswith("the initiative was closed at ")
    assert invalid[late_commit.id].text.endswith(", before this commitment")
    assert invalid[late_commit.id].code is ReasonCode.COMMIT_AFTER_CLOSE
    assert invalid[late_intend.id].text.startswith("the initiative was closed at ")
    assert invalid[late_intend.id].code is ReasonCode.INTEND_AFTER_CLOSE
    assert invalid[wrong_kind.id].text == (
        f"entry {request.id.hex()[:12]} is a help.request, not a initiative.propose"
    )
    assert invalid[wrong_kind.id].code is ReasonCode.CLOSE_WRONG_KIND
    assert invalid[malformed.id].text.startswith("malformed help.close: expected 'request'")
    assert invalid[malformed.id].code is ReasonCode.MALFORMED
    assert close.id not in invalid
    assert views.pledges.pledge(early.id).state == RELEASED  # type: ignore[union-attr]
    assert views.pledges.appeal(request.id).closed is None  # type: ignore[union-attr]


def test_closing_waits_for_its_request_and_voids_on_a_malformed_one() -> None:
    alice, bob = Author(1), Author(2)
    request = alice.request("500")
    pledge = bob.intend("50", request=request.id)
    close = alice.close_appeal(request)
    views = views_of(pledge, close)
    assert views.invalid() == {}
    waiting_digest = views.digests()["pledges"]
    views.index.add(request)
    assert views.pledges.pledge(pledge.id).state == RELEASED  # type: ignore[union-attr]
    assert views.digests()["pledges"] != waiting_digest
    broken = alice.write("help.request", {"amount": 5, "currency": "EUR"})
    bad_close = alice.close_appeal(broken)
    invalid = views_of(broken, bad_close).invalid()
    assert invalid[bad_close.id].text.startswith("refers to an invalid help request (expected")
    assert invalid[bad_close.id].code is ReasonCode.CLOSE_INVALID_TARGET
