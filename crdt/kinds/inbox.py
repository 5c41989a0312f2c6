"""What needs a participant's action: the inbox, derived from the views.

Theory of operation. An action item is a pure function of the views, the
participant and the current time; nothing about the inbox is stored or
signed, so every node holding the same entries shows the same inbox for the
same participant at the same moment. An item disappears by itself once the
record that settles it arrives (a confirmation, a fulfilment, a vote) or its
time passes. The kinds:

* ``invite_accepted``: someone accepted an invite of yours and no
  ``trust.confirm`` of yours names them yet (a running daemon writes it at
  once, a one-shot ``samoorg sync`` too);
* ``commitment_to_confirm``: a commitment to you is open; when you have
  received the help, mark it fulfilled (or forgive it);
* ``commitment_overdue``: a commitment of yours is open past its due date;
* ``poll_closing``: a poll closes within :data:`POLL_WINDOW_MS` and you have
  not voted in it;
* ``recovery_to_approve``: a recovery request for someone you guard is
  pending and you have not approved it (check with them first, §8.13);
* ``recovery_of_yours``: a recovery request for your own identity is pending
  or waiting for its moment: if it is not you, veto it before then.

Items are ordered by urgency: overdue commitments, then the rest by the time
that matters to them (due date, closing time, acceptance time), then by id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.kinds.devices import DevicesState
from samoorg.crdt.kinds.pledges import COMMITTED, PledgeState
from samoorg.crdt.kinds.polls import PollsState
from samoorg.crdt.kinds.recovery import PENDING, WAITING, RecoveryState
from samoorg.crdt.kinds.trust import TrustState

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views

POLL_WINDOW_MS: Final = 72 * 3600 * 1000
"""A poll is "closing" in the last 72 hours before it closes."""
INBOX_DOMAINS: Final = (TrustState, PledgeState, PollsState, DevicesState, RecoveryState)
"""The domains the inbox reads (device links change whose items are ours)."""
READ_KINDS: Final = frozenset(kind for domain in INBOX_DOMAINS for kind in domain.kinds)
"""The kinds whose entries can change the inbox."""


class ActionKind(enum.Enum):
    """Why an item needs the participant's action (the value is its stable JSON name)."""

    RECOVERY_OF_YOURS = "recovery_of_yours"
    COMMITMENT_OVERDUE = "commitment_overdue"
    COMMITMENT_TO_CONFIRM = "commitment_to_confirm"
    INVITE_ACCEPTED = "invite_accepted"
    POLL_CLOSING = "poll_closing"
    RECOVERY_TO_APPROVE = "recovery_to_approve"


_URGENCY: Final = {kind: rank for rank, kind in enumerate(ActionKind)}


@dataclass(frozen=True, slots=True)
class ActionItem:
    """One thing to do: what, about which entry, with whom, and by when."""

    kind: ActionKind
    subject: bytes
    """The entry the item is about: the pledge, invite or poll id."""
    other: bytes | None
    """The other participant (pledger, beneficiary, invitee, poll author)."""
    when: int | None
    """The time that matters, in ms: due date, acceptance time or closing time."""
    amount: Amount | None = None
    text: str = ""
    """The poll's question; empty for the other kinds."""

    def sort_key(self) -> tuple[int, int, bytes]:
        return (_URGENCY[self.kind], self.when if self.when is not None else 0, self.subject)


def action_items(views: Views, me: bytes, now: int) -> list[ActionItem]:
    """Everything that needs ``me``'s action at time ``now``, most urgent first.

    ``me`` may be any device key: the items are those of its identity (§8.11.1)."""
    me = views.identity(me)
    items = [
        *_pledge_items(views, me, now),
        *_invite_items(views, me),
        *_poll_items(views, me, now),
        *_recovery_items(views, me, now),
    ]
    return sorted(items, key=ActionItem.sort_key)


def _pledge_items(views: Views, me: bytes, now: int) -> list[ActionItem]:
    items: list[ActionItem] = []
    for outcome in views.pledges.pledges_of(me):
        if outcome.state != COMMITTED or outcome.record is None:
            continue
        amount = Amount(outcome.currency, outcome.minor)
        if outcome.beneficiary == me:
            items.append(
                ActionItem(
                    ActionKind.COMMITMENT_TO_CONFIRM,
                    outcome.id,
                    outcome.author,
                    outcome.due,
                    amount,
                )
            )
        elif outcome.author == me and outcome.overdue(now):
            items.append(
                ActionItem(
                    ActionKind.COMMITMENT_OVERDUE,
                    outcome.id,
                    outcome.beneficiary,
                    outcome.due,
                    amount,
                )
            )
    return items


def _invite_items(views: Views, me: bytes) -> list[ActionItem]:
    items: list[ActionItem] = []
    for outcome in views.trust.invites_of(me):
        if outcome.winner is None or outcome.record is None:
            continue
        accepted, _ = outcome.winner
        confirmed = any(_author(views, confirm) == me for confirm in outcome.confirmed)
        if not confirmed:
            items.append(
                ActionItem(
                    ActionKind.INVITE_ACCEPTED,
                    outcome.id,
                    views.author(accepted),
                    accepted.timestamp,
                    outcome.record.amount,
                )
            )
    return items


def _author(views: Views, entry_id: bytes) -> bytes | None:
    entry = views.index.get(entry_id)
    return views.author(entry) if entry is not None else None


def _poll_items(views: Views, me: bytes, now: int) -> list[ActionItem]:
    polls = views.polls.view()
    items: list[ActionItem] = []
    for poll_id, poll in polls.polls.items():
        if poll.closes is None or not now < poll.closes <= now + POLL_WINDOW_MS:
            continue
        if me in polls.ballots.get(poll_id, {}):
            continue
        items.append(
            ActionItem(
                ActionKind.POLL_CLOSING, poll_id, poll.author, poll.closes, text=poll.question
            )
        )
    return items


def _recovery_items(views: Views, me: bytes, now: int) -> list[ActionItem]:
    if not views.index.of_kind(*RecoveryState.kinds):
        return []
    devices = views.domain(DevicesState).view()
    mine = devices.identity(me)
    items: list[ActionItem] = []
    for request in views.domain(RecoveryState).view().requests.values():
        status = request.status_at(now)
        if request.identity == mine and request.key != me and status in (PENDING, WAITING):
            items.append(
                ActionItem(
                    ActionKind.RECOVERY_OF_YOURS,
                    request.entry.id,
                    request.key,
                    request.effective,
                )
            )
        guardians = {devices.identity(g) for g in request.rules.guardians}
        approved = {devices.identity(a.author) for a in request.approvals}
        if status == PENDING and mine in guardians and mine not in approved:
            items.append(
                ActionItem(
                    ActionKind.RECOVERY_TO_APPROVE,
                    request.entry.id,
                    request.key,
                    request.entry.timestamp,
                )
            )
    return items
