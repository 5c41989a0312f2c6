"""Polls: simple votes, e.g. to choose a spokesperson for one occasion.

Theory of operation. A ``poll.new`` entry asks a question with 2..20 distinct
options and an optional closing time (milliseconds since the epoch, UTC). A
``poll.vote`` entry names a poll by entry id and an option by its 0-based index.

Each voter has one vote per poll: of their *valid* votes on it, the one with
the highest ``seq`` in their own feed counts, so a vote can be changed until
the poll closes. A vote is valid when its option exists and its (signed)
timestamp is before the poll's closing time; votes after closing are ignored
with that reason. A vote for a poll the node does not hold yet is pending.

The tally counts only the votes of the members passed in (the trust list):
one vote per trust-list member. Votes by others are listed as not counted.
Polls and votes are grow-only sets keyed by entry id, so every delivery
order gives the same state; the cross-entry rules run when the view is read.
A forked author's void polls and votes never reach this domain
(:mod:`samoorg.crdt.framework.views`); a vote on a forked author's poll is pending on
every node.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.digest import sorted_ids
from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import read_id, read_int, read_text
from samoorg.crdt.framework.identity import as_identity, latest_per_identity
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor
from samoorg.protocol.entry import MAX_TIMESTAMP

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry

POLL_KIND: Final = "poll.new"
VOTE_KIND: Final = "poll.vote"
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
            f"expected an option 1..{len(poll.options)} of this poll, found {option + 1}",
            ReasonCode.NO_SUCH_OPTION,
        )
    if poll.closes is not None and timestamp >= poll.closes:
        raise RuleViolation(
            "the poll is closed: votes after its closing time are ignored", ReasonCode.POLL_CLOSED
        )
    return ballot_body(poll.id, option)


def ballot_body(poll: bytes, option: int) -> dict[str, dcbor.Value]:
    """The body of a vote for option index ``option`` of poll ``poll``, unchecked
    (:func:`vote_body` checks it against the poll)."""
    return {"poll": poll, "option": option}


def _check_poll(body: Mapping[str, dcbor.Value]) -> tuple[str, tuple[str, ...], int | None]:
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


def decode_poll(entry: Entry) -> Poll:
    """The poll ``entry`` carries; raises :class:`RuleViolation`."""
    question, options, closes = _check_poll(entry.body)
    return Poll(entry.id, entry.author, question, options, closes, entry.timestamp)


def decode_vote(entry: Entry) -> Vote:
    """The vote ``entry`` carries; raises :class:`RuleViolation`."""
    poll = read_id(entry.body, "poll")
    option = read_int(entry.body, "option", 0, MAX_OPTIONS - 1)
    return Vote(entry.id, entry.author, entry.seq, poll, option, entry.timestamp)


@dataclass(frozen=True)
class Tally:
    """The result of one poll for one trust list."""

    poll: Poll
    counts: tuple[int, ...]
    """Votes per option, counting trust-list members only."""
    ballots: Mapping[bytes, Vote]
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
    """Every poll and each voter's vote that counts, after the cross-entry rules."""

    polls: dict[bytes, Poll]
    ballots: dict[bytes, dict[bytes, Vote]]
    """Poll id -> voter -> their latest valid vote."""
    pending: tuple[Vote, ...]
    invalid: dict[bytes, Reason]

    def tally(self, poll_id: bytes, members: Collection[bytes]) -> Tally:
        """Count the ballots of ``members`` (the trust list) on one poll."""
        poll = self.polls[poll_id]
        ballots = self.ballots[poll_id]
        counts = [0] * len(poll.options)
        counted = frozenset(voter for voter in ballots if voter in members)
        for voter in counted:
            counts[ballots[voter].option] += 1
        return Tally(poll, tuple(counts), ballots, counted)

    def canonical(self) -> dcbor.Value:
        """A sorted, encodable form of the state for the digest."""
        polls: list[dcbor.Value] = [
            [k, [[v, self.ballots[k][v].id] for v in sorted(self.ballots[k])]]
            for k in sorted(self.polls)
        ]
        return {
            "polls": polls,
            "pending": sorted_ids(v.id for v in self.pending),
            "invalid": digested(self.invalid),
        }


def _vote_problem(vote: Vote, poll: Poll) -> Reason | None:
    if vote.option >= len(poll.options):
        return Reason(
            ReasonCode.NO_SUCH_OPTION,
            f"vote for option {vote.option + 1}, but the poll has {len(poll.options)} options",
        )
    if poll.closes is not None and vote.timestamp >= poll.closes:
        return Reason(ReasonCode.POLL_CLOSED, "vote cast after the poll closed")
    return None


class PollsState(ResolvedDomain[PollsView]):
    """Grow-only sets of polls and votes, resolved lazily against the index."""

    name = "polls"
    decoders = MappingProxyType({POLL_KIND: decode_poll, VOTE_KIND: decode_vote})
    reads_keys = False

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._polls: dict[bytes, Poll] = {}
        self._votes: dict[bytes, Vote] = {}

    def _file(self, entry: Entry, record: Poll | Vote) -> None:
        if isinstance(record, Poll):
            self._polls[entry.id] = as_identity(record, self.views.author(entry))
        else:
            self._votes[entry.id] = record

    def _resolve_view(self) -> PollsView:
        holds = self.views.holds
        invalid = dict(self._malformed)
        polls = dict(self._polls)
        ballots: dict[bytes, dict[bytes, Vote]] = {poll_id: {} for poll_id in polls}
        pending: list[Vote] = []
        counted: list[Vote] = []
        for vote in self._votes.values():
            target = polls.get(vote.poll)
            reason: Reason | None = None
            if target is not None:
                reason = _vote_problem(vote, target)
                if reason is None:
                    counted.append(vote)
            elif holds(vote.poll):
                reason = Reason(ReasonCode.NOT_A_POLL, "the entry voted on is not a valid poll")
            else:
                pending.append(vote)
            if reason is not None:
                invalid[vote.id] = reason
        identity = self.views.identity
        won = latest_per_identity(  # one vote per identity and poll (§8.11.1)
            counted,
            group=lambda v: (v.poll, identity(v.voter)),
            device=lambda v: v.voter,
            seq=lambda v: v.seq,
            order=lambda v: (v.timestamp, v.id),
        )
        for (poll_id, voter), vote in won.items():
            ballots[poll_id][voter] = as_identity(vote, voter, "voter")
        return PollsView(polls, ballots, tuple(pending), invalid)


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Polls closing soon or never, and votes on held polls (or unknown ids)."""
    from hypothesis import strategies as st

    closes = st.none() | st.integers(1, 30).map(lambda s: ctx.now + s * 1000)
    options = st.lists(st.sampled_from("abcdef"), min_size=2, max_size=4, unique=True)
    new = st.builds(lambda o, c: (POLL_KIND, poll_body("who?", o, c)), options, closes)
    polls = st.binary(min_size=32, max_size=32)
    if ctx.entries:
        polls = st.sampled_from([e.id for e in ctx.of_kind(POLL_KIND)] or [ctx.entries[0].id])
    votes = st.builds(lambda p, o: (VOTE_KIND, ballot_body(p, o)), polls, st.integers(0, 4))
    return new | votes


FAMILY: Final = Family(PollsState, samples, spec="8.8")
