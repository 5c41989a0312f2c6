"""The inbox: what needs a participant's action, derived from the views."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from samoorg.crdt.kinds.inbox import POLL_WINDOW_MS, ActionKind, action_items
from samoorg.crdt.kinds.trust import CONFIRM
from samoorg.protocol.entry import Entry
from tests.community_fixtures import DAY, T0, Author, views_of
from tests.community_homes import Homes, invite
from tests.conftest import CliRunner
from tests.social_fixtures import open_poll, vote_on

ANNA, BORIS, CHEN = Author(1), Author(2), Author(3)


def _story() -> tuple[list[Entry], dict[str, Entry], tuple[Author, Author, Author]]:
    """Anna invites Boris (accepted, unconfirmed) and Chen (accepted, confirmed);
    Boris commits to Anna (open, due soon) and Anna commits to Chen (overdue);
    Chen opens a poll closing in a day, and another closing in ten days."""
    anna, boris, chen = Author(1), Author(2), Author(3)
    to_boris = anna.invite(b"b" * 32)
    to_chen = anna.invite(b"c" * 32)
    boris_accepts = boris.accept(to_boris, b"b" * 32)
    chen_accepts = chen.accept(to_chen, b"c" * 32)
    confirm = anna.write(CONFIRM, {"invite": to_chen.id, "invitee": chen.key})
    boris_pledge = boris.intend("50", to=anna.key)
    boris_commit = boris.commit(boris_pledge, due=T0 + 20 * DAY)
    anna_pledge = anna.intend("30", to=chen.key)
    anna_commit = anna.commit(anna_pledge, due=T0 + DAY)
    soon = open_poll(chen, "Spokesperson?", ["anna", "boris"], closes=T0 + 11 * DAY)
    later = open_poll(chen, "Meeting day?", ["mon", "tue"], closes=T0 + 30 * DAY)
    entries = [
        to_boris,
        to_chen,
        boris_accepts,
        chen_accepts,
        confirm,
        boris_pledge,
        boris_commit,
        anna_pledge,
        anna_commit,
        soon,
        later,
    ]
    named = {
        "to_boris": to_boris,
        "boris_pledge": boris_pledge,
        "anna_pledge": anna_pledge,
        "anna_commit": anna_commit,
        "soon": soon,
    }
    return entries, named, (anna, boris, chen)


NOW = T0 + 10 * DAY


def test_each_kind_of_item_for_the_right_participant() -> None:
    entries, named, _ = _story()
    items = action_items(views_of(*entries), ANNA.key, NOW)
    assert [(i.kind, i.subject) for i in items] == [
        (ActionKind.COMMITMENT_OVERDUE, named["anna_pledge"].id),
        (ActionKind.COMMITMENT_TO_CONFIRM, named["boris_pledge"].id),
        (ActionKind.INVITE_ACCEPTED, named["to_boris"].id),
        (ActionKind.POLL_CLOSING, named["soon"].id),
    ]
    overdue, to_confirm, accepted, poll = items
    assert overdue.other == CHEN.key
    assert overdue.amount is not None
    assert overdue.amount.minor == 3000
    assert to_confirm.other == BORIS.key
    assert to_confirm.when == T0 + 20 * DAY
    assert accepted.other == BORIS.key
    assert poll.text == "Spokesperson?"
    assert poll.when == T0 + 11 * DAY
    # Chen: nothing to confirm (Anna's commitment to Chen is open: Chen confirms it).
    chen_items = action_items(views_of(*entries), CHEN.key, NOW)
    assert [i.kind for i in chen_items] == [
        ActionKind.COMMITMENT_TO_CONFIRM,
        ActionKind.POLL_CLOSING,
    ]


def test_items_disappear_when_settled() -> None:
    entries, named, (anna, boris, chen) = _story()
    confirm = anna.write(CONFIRM, {"invite": named["to_boris"].id, "invitee": boris.key})
    vote = vote_on(anna, named["soon"], 0)
    fulfil = chen.close(named["anna_pledge"], named["anna_commit"])
    after = [*entries, confirm, vote, fulfil]
    kinds = [i.kind for i in action_items(views_of(*after), ANNA.key, NOW)]
    assert kinds == [ActionKind.COMMITMENT_TO_CONFIRM]


def test_poll_outside_the_window_or_closed_is_not_listed() -> None:
    entries, _, _ = _story()
    closes = T0 + 11 * DAY
    before_window = closes - POLL_WINDOW_MS - 1
    assert ActionKind.POLL_CLOSING not in {
        i.kind for i in action_items(views_of(*entries), ANNA.key, before_window)
    }
    assert ActionKind.POLL_CLOSING not in {
        i.kind for i in action_items(views_of(*entries), ANNA.key, closes)
    }


@given(st.permutations(list(range(11))), st.lists(st.integers(0, 10), max_size=5))
def test_any_delivery_order_and_duplication_gives_the_same_inbox(
    order: list[int], repeats: list[int]
) -> None:
    entries, _, _ = _story()
    shuffled = [entries[i] for i in order] + [entries[i] for i in repeats]
    assert action_items(views_of(*shuffled), ANNA.key, NOW) == action_items(
        views_of(*entries), ANNA.key, NOW
    )


def test_inbox_command_lists_the_commitment_to_confirm(tmp_path: Path, cli: CliRunner) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob")
    invite(homes, "alice", "bob")
    homes.sync("alice", "bob")
    assert [i["kind"] for i in homes.json("alice", "inbox")["items"]] == ["invite_accepted"]
    pledge = homes.json("bob", "pledge", "intend", "40", "EUR", "--to", homes.ids["alice"])
    homes.run("bob", "pledge", "commit", pledge["id"][:10])
    homes.sync("alice", "bob")
    items = homes.json("alice", "inbox")["items"]
    assert [(i["kind"], i["with"]) for i in items] == [
        ("commitment_to_confirm", homes.ids["bob"]),
        ("invite_accepted", homes.ids["bob"]),
    ]
    assert items[0]["amount"] == {"EUR": "40.00"}
    text = homes.run("alice", "inbox")
    assert text.splitlines()[0] == "2 items need your action"
    assert "commitment to you: mark fulfilled when received" in text
    assert homes.run("bob", "inbox").strip() == "nothing needs your action"
