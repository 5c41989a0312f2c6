"""Polls: simple votes, e.g. to choose a spokesperson for one occasion.

Theory of operation. A ``poll`` entry asks a question with 2..20 distinct
options and an optional closing time (milliseconds since the epoch, UTC). A
``vote`` entry names a poll by entry id and an option by its 0-based index.

Each voter has one vote per poll: of their *valid* votes on it, the one with
the highest ``seq`` in their own feed counts, so a vote can be changed until
the poll closes. A vote is valid when its option exists and its (signed)
timestamp is before the poll's closing time; votes after closing are ignored
with that reason. A vote for a poll the node does not hold yet is pending.

The tally counts only the votes of the members passed in (the trust list):
one vote per trust-list member. Votes by others are listed as not counted.
Polls and votes are grow-only sets keyed by entry id, so every delivery
order gives the same state; the cross-entry rules run when the view is read.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable
from dataclasses import dataclass, field
from typing import Final

from samoorg.crdt.digest import sorted_ids
from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.fields import read_id, read_int, read_text
from samoorg.crdt.index import EntryIndex
from samoorg.crdt.rejections import FORKED_REASON, Rejected
from samoorg.protocol import dcbor
from samoorg.protocol.entry import MAX_TIMESTAMP, Entry

POLL_KIND: Final = "poll"
VOTE_KIND: Final = "vote"
MIN_OPTIONS: Final = 2
MAX_OPTIONS: Final = 20
MAX_QUESTION: Final = 500
MAX_OPTION: Final = 200


@dataclass(frozen=True, slots=True)
class Poll:
    """A question with options."""

    id: bytes
    author: bytes
    question: str
    options: tuple[str, ...]
    closes: int | None
    timestamp: int


@dataclass(frozen=True, slots=True)
class Vote:
    """One vote entry."""

    id: bytes
    voter: bytes
    seq: int
    poll: bytes
    option: int
    timestamp: int


def poll_body(question: str, options: list[str], closes: int | None) -> dict[str, dcbor.Value]:
    """The body of a new poll entry; raises :class:`RuleViolation`."""
    body: dict[str, dcbor.Value] = {
        "question": question.strip(),
        "options": [o.strip() for o in options],
    }
    if closes is not None:
        body["closes"] = closes
    _check_poll(body)
    return body


def vote_body(poll: Poll, option: int, timestamp: int) -> dict[str, dcbor.Value]:
    """The body of a vote for ``poll``; refuses an unknown option or a closed poll."""
    if not 0 <= option < len(poll.options):
        raise RuleViolation(
            f"expected an option 1..{len(poll.options)} of this poll, found {option + 1}"
        )
    if poll.closes is not None and timestamp >= poll.closes:
        raise RuleViolation("the poll is closed: votes after its closing time are ignored")
    return {"poll": poll.id, "option": option}


def _check_poll(body: dict[str, dcbor.Value]) -> tuple[str, tuple[str, ...], int | None]:
    question = read_text(body, "question", max_chars=MAX_QUESTION)
    raw = body.get("options")
    if not isinstance(raw, list) or not MIN_OPTIONS <= len(raw) <= MAX_OPTIONS:
        raise RuleViolation(
            f"expected 'options' as a list of {MIN_OPTIONS}..{MAX_OPTIONS} texts, found "
            f"{len(raw) if isinstance(raw, list) else type(raw).__name__}"
        )
    options = tuple(read_text({"option": o}, "option", max_chars=MAX_OPTION) for o in raw)
    if len(set(options)) != len(options):
        raise RuleViolation("expected distinct options, found a repeated one")
    closes = None
    if body.get("closes") is not None:
        closes = read_int(body, "closes", 0, MAX_TIMESTAMP)
    return question, options, closes


@dataclass
class PollsState:
    """Grow-only sets of polls and votes; fold entries in any order with :meth:`add`."""

    polls: dict[bytes, Poll] = field(default_factory=dict)
    votes: dict[bytes, Vote] = field(default_factory=dict)
    rejected: dict[bytes, Rejected] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        """Fold one ``poll`` or ``vote`` entry in (other kinds are ignored)."""
        try:
            if entry.kind == POLL_KIND:
                question, options, closes = _check_poll(dict(entry.body))
                self.polls[entry.id] = Poll(
                    entry.id, entry.author, question, options, closes, entry.timestamp
                )
            elif entry.kind == VOTE_KIND:
                poll = read_id(entry.body, "poll")
                option = read_int(entry.body, "option", 0, MAX_OPTIONS - 1)
                self.votes[entry.id] = Vote(
                    entry.id, entry.author, entry.seq, poll, option, entry.timestamp
                )
        except RuleViolation as exc:
            self.rejected[entry.id] = Rejected.of(entry, str(exc))

    def add_all(self, entries: Iterable[Entry]) -> None:
        """Fold several entries in."""
        for entry in entries:
            self.add(entry)

    @classmethod
    def from_index(cls, index: EntryIndex) -> PollsState:
        """A full rebuild from the ``poll`` and ``vote`` entries of ``index``."""
        state = cls()
        state.add_all(index.of_kind(POLL_KIND, VOTE_KIND))
        return state


@dataclass(frozen=True)
class Tally:
    """The result of one poll."""

    poll: Poll
    counts: tuple[int, ...]
    """Votes per option, counting trust-list members only."""
    ballots: dict[bytes, Vote]
    """Voter -> the vote that counts (members and non-members)."""
    counted: frozenset[bytes]
    """Voters whose vote is in :attr:`counts`."""

    @property
    def leaders(self) -> tuple[int, ...]:
        """Indexes of the options with the most votes (several on a tie, none if no votes)."""
        best = max(self.counts, default=0)
        return tuple(i for i, c in enumerate(self.counts) if best and c == best)

    def is_open(self, now_ms: int) -> bool:
        """Whether votes cast at ``now_ms`` still count."""
        return self.poll.closes is None or now_ms < self.poll.closes


@dataclass(frozen=True)
class PollsView:
    """Every poll's tally, after cross-entry rules are applied."""

    tallies: dict[bytes, Tally]
    pending: tuple[Vote, ...]
    rejected: tuple[Rejected, ...]

    def canonical(self) -> dcbor.Value:
        """A sorted, encodable form of the state for :func:`state_digest`."""
        return {
            "polls": [
                [
                    k,
                    list(self.tallies[k].counts),
                    [[v, self.tallies[k].ballots[v].id] for v in sorted(self.tallies[k].ballots)],
                ]
                for k in sorted(self.tallies)
            ],
            "pending": sorted_ids(v.id for v in self.pending),
            "rejected": [[r.entry_id, r.reason] for r in sorted(self.rejected)],
        }


def _vote_problem(vote: Vote, poll: Poll) -> str:
    if vote.option >= len(poll.options):
        return f"vote for option {vote.option + 1}, but the poll has {len(poll.options)} options"
    if poll.closes is not None and vote.timestamp >= poll.closes:
        return "vote cast after the poll closed"
    return ""


def resolve_polls(
    state: PollsState,
    *,
    members: Collection[bytes],
    held: Container[bytes],
    forked: Collection[bytes],
) -> PollsView:
    """Tally every poll; ``members`` is the trust list whose votes count."""
    rejected = list(state.rejected.values())
    polls: dict[bytes, Poll] = {}
    for poll in state.polls.values():
        if poll.author in forked:
            rejected.append(Rejected(poll.id, POLL_KIND, poll.author, FORKED_REASON))
        else:
            polls[poll.id] = poll
    ballots: dict[bytes, dict[bytes, Vote]] = {poll_id: {} for poll_id in polls}
    pending: list[Vote] = []
    for vote in state.votes.values():
        target = polls.get(vote.poll)
        if vote.voter in forked:
            reason = FORKED_REASON
        elif target is not None:
            reason = _vote_problem(vote, target)
            if not reason:
                held_vote = ballots[target.id].get(vote.voter)
                if held_vote is None or held_vote.seq < vote.seq:
                    ballots[target.id][vote.voter] = vote
        elif vote.poll in state.polls:
            reason = "the poll voted on is excluded: its author is forked"
        elif vote.poll in held:
            reason = "the entry voted on is not a valid poll"
        else:
            pending.append(vote)
            reason = ""
        if reason:
            rejected.append(Rejected(vote.id, VOTE_KIND, vote.voter, reason))
    tallies: dict[bytes, Tally] = {}
    for poll_id, poll in polls.items():
        counts = [0] * len(poll.options)
        counted = frozenset(v for v in ballots[poll_id] if v in members)
        for voter in counted:
            counts[ballots[poll_id][voter].option] += 1
        tallies[poll_id] = Tally(poll, tuple(counts), ballots[poll_id], counted)
    return PollsView(tallies, tuple(pending), tuple(sorted(rejected)))
