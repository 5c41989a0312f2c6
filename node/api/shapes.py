"""The JSON shapes of Samoorg's answers, shared by the CLI's ``--json`` and the API.

Each builder takes views (or records) and returns plain JSON values; the CLI
prints them, the API sends them. Keeping one builder per shape is what makes
``samoorg idea list --json`` and ``GET /api/v1/ideas`` agree field for field.
No web stack and nothing heavy is imported here: every CLI command loads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeAlias, overload

from samoorg.node.api.times import Instant, format_time, instant, rfc3339
from samoorg.protocol.ids import parse_peer_id, peer_id

__all__ = ["Instant", "format_time", "instant", "rfc3339"]

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.crdt.algorithms.netting import Cycle, Debts, Netting
    from samoorg.crdt.framework.reasons import Reason
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.agreements import Agreement
    from samoorg.crdt.kinds.inbox import ActionItem
    from samoorg.crdt.kinds.pledges import Appeal, PledgeOutcome, PledgeState
    from samoorg.crdt.kinds.polls import Tally
    from samoorg.crdt.kinds.social import SocialViews
    from samoorg.crdt.kinds.trust import InviteOutcome
    from samoorg.node.store import StoreStats
    from samoorg.protocol.entry import Entry

PERCENT_DIGITS = 4


def jsonable(value: Any) -> Any:
    """Convert values for JSON: bytes become lowercase hex, instants RFC 3339 text."""
    if isinstance(value, Instant):
        return rfc3339(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def percent(part: int, whole: int, digits: int = PERCENT_DIGITS) -> str:
    """``part / whole`` as a percentage with ``digits`` decimals, rounded half up, exactly."""
    if whole <= 0:
        return f"{0:.{digits}f}"
    scaled = (part * 100 * 10**digits * 2 + whole) // (2 * whole)
    text = str(scaled).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}" if digits else text


def money_json(minor: int, currency: str) -> dict[str, str]:
    """The JSON shape of one amount: ``{"EUR": "100.00"}``."""
    from samoorg.crdt.algorithms.money import Amount

    return {currency: Amount(currency, minor).format()}


def entry_json(entry: Entry) -> dict[str, Any]:
    """One entry, as in ``samoorg log --json``."""
    return {
        "id": entry.id.hex(),
        "author": peer_id(entry.author),
        "seq": entry.seq,
        "prev": entry.prev.hex() if entry.prev else None,
        "timestamp": Instant(entry.timestamp),
        "kind": entry.kind,
        "body": jsonable(entry.body),
    }


def created_json(entry: Entry, **fields: Any) -> dict[str, Any]:
    """A newly written record: its id and kind (``idea post --json``, ``POST /ideas``)."""
    return {"id": entry.id.hex(), "kind": entry.kind, **fields}


def status_json(
    ident: str,
    home: str,
    stats: StoreStats,
    daemon: dict[str, Any] | None,
    digests: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``samoorg status --json`` and ``GET /api/v1/status``.

    ``api`` is the running daemon's API (``{url, token_file}``), or ``null``.
    """
    return {
        "id": ident,
        "home": home,
        "store": {"entries": stats.entries, "feeds": stats.feeds, "fork_proofs": stats.forked},
        "daemon": daemon_json(daemon),
        "api": (daemon or {}).get("api"),
        **({"digests": digests} if digests is not None else {}),
    }


def daemon_json(daemon: dict[str, Any] | None) -> dict[str, Any] | None:
    """The daemon's published state (``daemon.json``) with its times marked for JSON."""
    if daemon is None:
        return None
    # Keys sorted, as daemon.json has them: the CLI prints the same either way.
    peers = [
        {
            **dict(sorted(p.items())),
            "last_sync": instant(p.get("last_sync")),
            # The daemon writes when it dials next in seconds (time.time()).
            "next_dial": instant(
                None if p.get("next_dial") is None else int(p["next_dial"] * 1000)
            ),
        }
        for p in daemon.get("peers", [])
    ]
    started, updated = instant(daemon.get("started")), instant(daemon.get("updated"))
    return {**dict(sorted(daemon.items())), "started": started, "updated": updated, "peers": peers}


def pool_json(views: Views, me: bytes, hops: int | None) -> dict[str, Any]:
    """``trust pool --json``: member count and the pool of intentions per currency."""
    from samoorg.crdt.algorithms.money import format_totals

    pool = views.trust.pool(me, hops)
    return {"members": pool.members, "pool": format_totals(pool.totals)}


def trust_rows(views: Views, me: bytes, hops: int | None) -> list[dict[str, Any]]:
    """``trust list --json``: everyone reachable from ``me``, then forked participants."""
    from samoorg.crdt.algorithms.money import format_totals

    trust = views.trust
    reach = sorted(trust.reachable(me, hops).values(), key=lambda r: (r.distance, r.member))
    listed = {r.member for r in reach}
    rows: list[dict[str, Any]] = [
        {
            "id": peer_id(r.member),
            "distance": r.distance,
            "chain": [peer_id(k) for k in r.chain],
            "guarantee": format_totals(trust.guarantee(r.member)),
            "forked": views.is_forked(r.member),
        }
        for r in reach
    ]
    rows += [
        {"id": peer_id(key), "distance": None, "chain": [], "guarantee": {}, "forked": True}
        for key in sorted(views.index.forked)
        if key not in listed
    ]
    return rows


def idea_order(social: SocialViews, sort: str) -> list[bytes]:
    """Idea ids, most supported (``utility``) or most recent (``recent``) first."""
    ideas = social.forum.ideas
    if sort == "utility":
        return sorted(ideas, key=lambda i: (-social.idea_support(i), -ideas[i].timestamp, i))
    return sorted(ideas, key=lambda i: (-ideas[i].timestamp, i))


def idea_summary(social: SocialViews, idea_id: bytes) -> dict[str, Any]:
    """One row of ``idea list --json``."""
    idea = social.forum.ideas[idea_id]
    scores = [r.score for (_, s), r in social.ratings.ideas.items() if s == idea_id]
    support = social.idea_support(idea_id)
    return {
        "id": idea.id.hex(),
        "title": idea.title,
        "author": peer_id(idea.author),
        "time": Instant(idea.timestamp),
        "support": support,
        "support_percent": percent(support, social.utility.params.scale),
        "ratings": len(scores),
        "average_score": percent(sum(scores), len(scores) * 100, 2) if scores else None,
        "comments": len(social.forum.comments.get(idea_id, ())),
    }


def idea_detail(social: SocialViews, idea_id: bytes) -> dict[str, Any]:
    """``idea show --json``: the summary, the body, the ratings and the comments."""
    idea = social.forum.ideas[idea_id]
    rating_rows = [
        {
            "rater": peer_id(rater),
            "score": r.score,
            "comment": r.comment,
            "time": Instant(r.timestamp),
            "counts": rater in social.members,
        }
        for (rater, subject), r in sorted(social.ratings.ideas.items())
        if subject == idea_id
    ]
    comment_rows = [
        {
            "id": c.id.hex(),
            "author": peer_id(c.author),
            "time": Instant(c.timestamp),
            "text": c.text,
        }
        for c in social.forum.comments.get(idea_id, ())
    ]
    return {
        **idea_summary(social, idea_id),
        "body": idea.body,
        "rating_list": rating_rows,
        "comment_list": comment_rows,
    }


def listed_pledge_ids(
    views: Views, me: bytes, *, mine: bool = False, to_me: bool = False, everyone: bool = False
) -> list[bytes]:
    """The ids of the pledges ``pledge list`` shows (not waiting or void), ascending.

    By default only pledges ``me`` gives or receives; ``everyone`` widens
    that to every pledge the views hold (ids only: nothing is decoded), and
    ``mine`` and ``to_me`` narrow it to ``me``'s own again.
    """
    pledges = views.pledges
    if everyone and not (mine or to_me):
        return pledges.listed_ids()
    return [
        o.id
        for o in pledges.pledges_of(me)
        if (not mine or o.author == me) and (not to_me or o.beneficiary == me)
    ]


def listed_pledges(
    views: Views,
    me: bytes,
    at: int,
    *,
    mine: bool = False,
    to_me: bool = False,
    overdue: bool = False,
    everyone: bool = False,
    ids: Sequence[bytes] | None = None,
) -> Sequence[PledgeOutcome] | Iterator[PledgeOutcome]:
    """The pledges of :func:`listed_pledge_ids` (or of ``ids``, its result kept).

    Each outcome is read only when a page needs it: a sequence whose slices
    read their own outcomes, or with ``overdue`` (at ``at``) a filtering
    iterator.
    """
    if ids is None:
        ids = listed_pledge_ids(views, me, mine=mine, to_me=to_me, everyone=everyone)
    outcomes = PledgeOutcomes(views.pledges, ids)
    if overdue:
        return (o for o in outcomes if o.overdue(at))
    return outcomes


class PledgeOutcomes(Sequence["PledgeOutcome"]):
    """The outcomes of pledges named by id, each read from the view when indexed."""

    def __init__(self, pledges: PledgeState, ids: Sequence[bytes]) -> None:
        self.pledges = pledges
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, position: int) -> PledgeOutcome: ...
    @overload
    def __getitem__(self, position: slice) -> list[PledgeOutcome]: ...
    def __getitem__(self, position: int | slice) -> PledgeOutcome | list[PledgeOutcome]:
        if isinstance(position, slice):
            return [self._read(i) for i in self.ids[position]]
        return self._read(self.ids[position])

    def _read(self, pledge_id: bytes) -> PledgeOutcome:
        outcome = self.pledges.pledge(pledge_id)
        assert outcome is not None, "a listed pledge has an outcome"
        return outcome


def pledge_row(views: Views, outcome: PledgeOutcome, at: int) -> dict[str, Any]:
    """One row of ``pledge list --json``."""
    record = outcome.record
    assert record is not None
    assert outcome.author is not None
    return {
        "id": outcome.id.hex(),
        "from": peer_id(outcome.author),
        "to": peer_id(outcome.beneficiary) if outcome.beneficiary else None,
        "target": {"kind": record.target.kind, "id": record.target.ref.hex()},
        "amount": money_json(outcome.minor, record.amount.currency),
        "state": outcome.state,
        "overdue": outcome.overdue(at),
        "due": instant(outcome.due),
        "commitment": outcome.commit.id.hex() if outcome.commit else None,
        # Views ignore a forked author's pledges, but a pledge may name a forked beneficiary.
        "forked": outcome.beneficiary is not None and views.is_forked(outcome.beneficiary),
    }


def log_page(
    rows: Iterable[tuple[int, Entry]], limit: int | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of ``samoorg log`` from ``(rowid, entry)`` pairs, newest first.

    The next cursor names the rowid of the page's last entry (the next page
    lies below it), and is given only if another entry follows, so the store
    and the daemon's in-memory log give the same pages and cursors.
    """
    from itertools import islice

    from samoorg.node.api.pages import encode_cursor

    taken = list(islice(rows, None if limit is None else limit + 1))
    if limit is None or len(taken) <= limit:
        return [entry_json(entry) for _, entry in taken], None
    page = taken[:limit]
    return [entry_json(entry) for _, entry in page], encode_cursor(page[-1][0])


LEDGER_SECTIONS: Final = ("outstanding", "netting", "after_netting")
"""The lists of a ledger answer, in the order it shows them."""

DebtKey: TypeAlias = tuple[str, bytes, bytes]
"""``(currency, debtor, creditor)``."""


class LedgerRows(NamedTuple):
    """The rows of each list of a ledger answer, in the ledger's order (before paging)."""

    outstanding: list[DebtKey]
    netting: list[Cycle]
    after_netting: list[DebtKey]


_NO_ROWS: Final = LedgerRows([], [], [])


@dataclass(frozen=True, slots=True)
class LedgerIndex:
    """What a ledger answer is made of, indexed once per change of the pledges.

    The debts, their commitment counts and their netting (suggested over
    every outstanding debt, so every node suggests the same cycles), with
    every list in order and, per member, the rows that involve them: a page
    of ``--mine`` or ``--with`` costs that member's rows, not the ledger.
    """

    debts: Debts
    counts: Mapping[DebtKey, int]
    netting: Netting
    every: LedgerRows
    by_member: Mapping[bytes, LedgerRows] | None
    """Each member's rows, or ``None``: found by one filtering walk per query (a
    command asks once; the daemon indexes every member)."""

    def rows(self, me: bytes, with_member: bytes | None, mine: bool) -> LedgerRows:
        """Every row (neither filter), those involving ``me`` (``mine``), or ``me`` and
        ``with_member`` both."""
        if with_member is None and not mine:
            return self.every
        if self.by_member is None:
            own = _rows_of(self.every, me)
        else:
            own = self.by_member.get(me, _NO_ROWS)
        if with_member is None or with_member == me:
            return own
        return _rows_of(own, with_member)


def _rows_of(rows: LedgerRows, member: bytes) -> LedgerRows:
    """The rows of ``rows`` that involve ``member``, in the same order."""
    return LedgerRows(
        [k for k in rows.outstanding if member in k[1:]],
        [c for c in rows.netting if member in c.members],
        [k for k in rows.after_netting if member in k[1:]],
    )


def ledger_index(
    debts: Debts, counts: Mapping[DebtKey, int], netting: Netting, *, per_member: bool = True
) -> LedgerIndex:
    """The ledger of ``debts`` netted as ``netting``; if ``per_member``, its rows indexed
    per member (one walk of the debts and cycles)."""
    every = LedgerRows(list(debts), list(netting.cycles), list(netting.remaining))
    if not per_member:
        return LedgerIndex(debts, counts, netting, every, None)
    by_member: dict[bytes, LedgerRows] = {}

    def of(member: bytes) -> LedgerRows:
        found = by_member.get(member)
        if found is None:
            found = by_member[member] = LedgerRows([], [], [])
        return found

    for key in every.outstanding:
        for member in dict.fromkeys(key[1:]):
            of(member).outstanding.append(key)
    for cycle in every.netting:
        for member in dict.fromkeys(cycle.members):
            of(member).netting.append(cycle)
    for key in every.after_netting:
        for member in dict.fromkeys(key[1:]):
            of(member).after_netting.append(key)
    return LedgerIndex(debts, counts, netting, every, by_member)


def ledger_of(views: Views) -> LedgerIndex:
    """The pledge view's ledger (offline: once per command, so a member's rows are found by
    filtering, not indexed)."""
    pledges = views.pledges
    debts, counts = pledges.debts(), pledges.commitment_counts()
    return ledger_index(debts, counts, pledges.netting(), per_member=False)


def ledger_json(
    views: Views, ledger: LedgerIndex, rows: LedgerRows, start: int, limit: int | None
) -> dict[str, Any]:
    """``samoorg ledger --json``: a page of outstanding commitments, netting suggestions
    and what remains.

    ``rows`` are those asked for (:meth:`LedgerIndex.rows`); the page holds
    the rows ``start`` to ``start + limit`` of *each* list (``None``: to the
    end), ``totals`` how many rows each list has, and ``next_cursor`` continues
    every list at once (``None`` when none has rows past this page).
    """
    from samoorg.node.api.pages import encode_cursor

    stop = None if limit is None else start + limit

    def debt_rows(keys: list[DebtKey], table: Mapping[DebtKey, int]) -> list[dict[str, Any]]:
        return [
            {
                "from": peer_id(debtor),
                "to": peer_id(creditor),
                "amount": money_json(table[(currency, debtor, creditor)], currency),
                # A forked participant's commitments are ignored; debts *to* them remain.
                "forked": views.is_forked(creditor),
            }
            for currency, debtor, creditor in keys
        ]

    shown = rows.outstanding[start:stop]
    outstanding = debt_rows(shown, ledger.debts)
    for row, key in zip(outstanding, shown, strict=True):
        row["commitments"] = ledger.counts[key]
    sizes = (len(rows.outstanding), len(rows.netting), len(rows.after_netting))
    more = stop is not None and max(sizes) > stop
    return {
        "outstanding": outstanding,
        "netting": [
            {
                "cycle": [peer_id(k) for k in cycle.members],
                "amount": money_json(cycle.amount, cycle.currency),
            }
            for cycle in rows.netting[start:stop]
        ],
        "after_netting": debt_rows(rows.after_netting[start:stop], ledger.netting.remaining),
        "totals": dict(zip(LEDGER_SECTIONS, sizes, strict=True)),
        "next_cursor": encode_cursor(stop) if more and stop is not None else None,
    }


def item_json(item: ActionItem) -> dict[str, Any]:
    """One item of ``samoorg inbox --json`` (crdt/kinds/inbox.py decides what needs action)."""
    amount = item.amount
    return {
        "kind": item.kind.value,
        "subject": item.subject.hex(),
        "with": peer_id(item.other) if item.other is not None else None,
        "when": instant(item.when),
        "amount": money_json(amount.minor, amount.currency) if amount is not None else None,
        "text": item.text,
    }


# -- help requests, initiatives and invites (pledge and trust commands) --------


def appeal_row(views: Views, appeal: Appeal, at: int) -> dict[str, Any]:
    """One row of ``request list --json`` or ``initiative list --json``."""
    from samoorg.crdt.kinds.pledges import Initiative, Request

    record = appeal.record
    totals = appeal.totals
    code = appeal.currency
    row: dict[str, Any] = {
        "id": appeal.id.hex(),
        "author": peer_id(appeal.entry.author),
        "goal": money_json(appeal.goal, code),
        "pledged": money_json(totals.pledged, code),
        "committed": money_json(totals.committed, code),
        "fulfilled": money_json(totals.fulfilled, code),
        "backers": totals.backers,
        "status": appeal.status(at),
        "created": Instant(appeal.entry.timestamp),
        "forked": views.is_forked(appeal.entry.author),
        "closed": instant(appeal.closed.timestamp) if appeal.closed else None,
        "closing": appeal.closed.id.hex() if appeal.closed else None,
    }
    if isinstance(record, Request):
        row["reason"] = record.reason
        row["monthly"] = record.monthly
    elif isinstance(record, Initiative):
        row["title"] = record.title
        row["description"] = record.description
        row["deadline"] = instant(record.deadline)
    return row


def held_appeal(views: Views, entry: Entry, kind: str) -> Appeal:
    """The request or initiative ``entry`` (of ``kind``) as the views hold it, or the refusal.

    A ``NotFound`` names the wrong kind; a ``RuleViolation`` says why the views void it.
    """
    from samoorg.crdt.framework.errors import RuleViolation
    from samoorg.crdt.kinds.pledges import LABELS
    from samoorg.node.errors import NotFound

    if entry.kind != kind:
        raise NotFound(f"expected the id of a {kind} entry, found an entry of kind {entry.kind}")
    appeal = views.pledges.appeal(entry.id)
    if appeal is None:
        reason = views.invalid().get(entry.id, f"not a valid {LABELS[kind]}")
        raise RuleViolation(f"{LABELS[kind]} {entry.id.hex()[:12]} is void: {reason}")
    return appeal


def appeal_detail(views: Views, appeal: Appeal, at: int) -> dict[str, Any]:
    """``request show --json`` or ``initiative show --json``: the row with its backers.

    ``backers`` lists the pledges (released ones too) instead of counting them.
    """
    row = appeal_row(views, appeal, at)
    backing = views.pledges.backers(appeal.id, released=True)
    row["backers"] = [pledge_row(views, p, at) for p in backing]
    if appeal.closed is not None:
        row["close_note"] = views.pledges.close_note(appeal.id)
    return row


def listed_invites(views: Views, me: bytes) -> list[tuple[InviteOutcome, str, bytes | None]]:
    """The invites ``invite list`` shows, by id: ``(outcome, direction, other participant)``.

    Invites ``me`` sent, invites ``me`` accepted, and invites whose acceptance
    by ``me`` waits for the invite itself (the other participant unknown yet).
    """
    listed: list[tuple[InviteOutcome, str, bytes | None]] = []
    for outcome in views.trust.invites_with(me):
        if outcome.inviter == me:
            listed.append((outcome, "sent", outcome.invitee))
        elif outcome.invitee == me:
            listed.append((outcome, "accepted", outcome.inviter))
        elif any(_author(views, i) == me for i in outcome.waiting):
            listed.append((outcome, "accepted", None))
    return listed


def _author(views: Views, entry_id: bytes) -> bytes | None:
    entry = views.index.get(entry_id)
    return entry.author if entry is not None else None


def invite_row(
    outcome: InviteOutcome, direction: str, other: bytes | None, at: int
) -> dict[str, Any]:
    """One row of ``invite list --json``."""
    record = outcome.record
    return {
        "invite": outcome.id.hex(),
        "direction": direction,
        "with": peer_id(other) if other else None,
        "guarantee": money_json(record.amount.minor, record.amount.currency) if record else {},
        "state": outcome.status(at),
        "expires": instant(record.expires) if record else None,
    }


# -- ratings, utility, polls, agreements ------------------------------------


def rating_rows(views: Views, social: SocialViews) -> list[dict[str, Any]]:
    """``samoorg ratings --json`` items: each rater's latest rating of each subject."""

    def row(rater: bytes, about: str, subject: str, rating: Any, forked: bool) -> dict[str, Any]:
        return {
            "rater": peer_id(rater),
            "about": about,
            "subject": subject,
            "score": rating.score,
            "comment": rating.comment,
            "entry": rating.entry_id.hex(),
            "time": Instant(rating.timestamp),
            "forked": forked,
        }

    ratings = social.ratings
    # Views ignore a forked participant's ratings, but others' ratings may name them.
    return [
        row(rater, "member", peer_id(subject), rating, views.is_forked(subject))
        for (rater, subject), rating in sorted(ratings.members.items())
    ] + [
        row(rater, "idea", subject.hex(), rating, False)
        for (rater, subject), rating in sorted(ratings.ideas.items())
    ]


def utility_rows(social: SocialViews) -> list[dict[str, Any]]:
    """``samoorg utility --json`` items: each member's utility, highest first."""
    result = social.utility
    total = result.total_utility
    received = social.raters()
    rows: list[dict[str, Any]] = [
        {
            "id": peer_id(key),
            "utility": result.utility[key],
            "utility_percent": percent(result.utility[key], total),
            "standing": result.standing[key],
            "standing_percent": percent(result.standing[key], result.params.scale),
            "raters": received.get(key, 0),
        }
        for key in result.members
    ]
    rows.sort(key=lambda r: (-r["utility"], -r["standing"], r["id"]))
    return rows


def utility_summary(social: SocialViews) -> dict[str, Any]:
    """What every page of ``samoorg utility --json`` adds: the member count and the algorithm."""
    result = social.utility
    params = result.params
    return {
        "total": len(result.members),
        "algorithm": "personalised PageRank / EigenTrust over the trust list, integer fixed point",
        "damping": f"{params.damping_num}/{params.damping_den}",
        "scale": params.scale,
        "tolerance": params.tolerance,
        "max_iterations": params.max_iterations,
        "iterations": result.iterations,
        "converged": result.converged,
        "edges": result.edges,
    }


def poll_order(social: SocialViews) -> list[bytes]:
    """Poll ids, newest first (``samoorg poll list``)."""
    held = social.polls.polls
    return sorted(held, key=lambda i: (-held[i].timestamp, i))


def tally_json(tally: Tally, now: int) -> dict[str, Any]:
    """One poll and its tally: a row of ``poll list --json`` and ``poll show --json``."""
    poll = tally.poll
    return {
        "id": poll.id.hex(),
        "question": poll.question,
        "author": peer_id(poll.author),
        "closes": instant(poll.closes),
        "open": tally.is_open(now),
        "options": [
            {"number": i + 1, "option": text, "votes": tally.counts[i]}
            for i, text in enumerate(poll.options)
        ],
        "leading": [poll.options[i] for i in tally.leaders],
        "votes_counted": len(tally.counted),
        "votes_not_counted": len(tally.ballots) - len(tally.counted),
    }


def held_agreement(views: Views, entry: Entry) -> Agreement:
    """The agreement whose ``agreement.new`` entry is ``entry``; a RuleViolation if ignored."""
    from samoorg.crdt.framework.errors import RuleViolation

    found = views.agreements.get(entry.id)
    if found is None or entry.id in found.invalid:
        reason = views.invalid().get(entry.id, "it is not valid")
        raise RuleViolation(f"agreement {entry.id.hex()[:12]} is ignored: {reason}")
    return found


def agreement_summary(agreement: Agreement, me: bytes) -> dict[str, Any]:
    """One row of ``samoorg agreement list --json``."""
    mine = agreement.accepted.get(me)
    return {
        "agreement": agreement.doc.hex(),
        "title": agreement.title,
        "version": agreement.version.hex(),
        "entries": len(agreement.replica.applied),
        "characters": len(agreement.text),
        "accepted": len(agreement.accepted),
        "accepted_current": sum(1 for x in agreement.accepted.values() if x.status == "current"),
        "you": None if mine is None else mine.status,
    }


def agreement_detail(views: Views, agreement: Agreement, version: str | None) -> dict[str, Any]:
    """``samoorg agreement show --json``: the text of the current version or of ``version``.

    ``version`` is a lowercase hex prefix of a version hash or of an edit's entry id.
    """
    from samoorg.crdt.kinds.agreements import find_version

    if version is None:
        digest, text, heads = agreement.version, agreement.text, agreement.heads
    else:
        digest, text, heads = find_version(agreement, version)
    root = agreement.root
    assert root is not None
    return {
        "agreement": agreement.doc.hex(),
        "title": agreement.title,
        "version": digest.hex(),
        "current": digest == agreement.version,
        "heads": [h.hex() for h in heads],
        "author": peer_id(root.author),
        "forked": views.is_forked(root.author),
        "time": Instant(root.timestamp),
        "version_entries": len(agreement.replica.closure(heads)),
        "text": text,
    }


def profile_json(views: Views, key: bytes) -> dict[str, Any]:
    """``samoorg profile show --json`` and ``GET /profiles/{id}``: a participant's profile.

    ``display_name`` is the self-chosen name (``name``, added beside ``id`` by
    ``node/names.py``, is what this node calls them); ``entry`` is ``null`` and
    the fields empty when no profile of theirs is held.
    """
    from samoorg.crdt.kinds.profiles import STATUS_FINE, STATUS_LABELS

    profile = views.profiles.profile(key)
    if profile is None:
        return {
            "id": peer_id(key),
            "display_name": None,
            "about": "",
            "contacts": [],
            "status": STATUS_FINE,
            "status_label": STATUS_LABELS[STATUS_FINE],
            "message": "",
            "entry": None,
            "updated": None,
            "forked": views.is_forked(key),
        }
    return {
        "id": peer_id(key),
        "display_name": profile.name,
        "about": profile.about,
        "contacts": [{"type": c.type, "value": c.value} for c in profile.contacts],
        "status": profile.status,
        "status_label": STATUS_LABELS[profile.status],
        "message": profile.message,
        "entry": profile.entry_id.hex(),
        "updated": Instant(profile.timestamp),
        "forked": views.is_forked(key),
    }


def distribute_json(
    social: SocialViews, total: Amount, among: Iterable[bytes] | None = None
) -> dict[str, Any]:
    """``samoorg distribute --json``: ``total`` split by utility (largest remainder, exact).

    ``among`` (an org's members, ``distribute --org``) limits the split to those
    participants, each weighted by their utility in the trust list (0 outside
    it); ``utility_percent`` is then each one's part of their summed utility.
    """
    from samoorg.crdt.algorithms.shares import distribute
    from samoorg.crdt.framework.errors import RuleViolation

    utility = social.utility.utility
    rows = utility_rows(social)
    if among is None:
        weights = dict(utility)
        shown = [(parse_peer_id(r["id"]), r["utility_percent"]) for r in rows]
    else:
        wanted = set(among)
        weights = {key: utility.get(key, 0) for key in wanted}
        whole = sum(weights.values())
        if whole == 0:
            raise RuleViolation(
                "nothing to distribute by: no member of the org has any utility in your "
                "trust list yet (members get utility when other members rate them)"
            )
        ranked = [parse_peer_id(r["id"]) for r in rows]
        ordered = [k for k in ranked if k in wanted]
        ordered += sorted(wanted - set(ordered), key=peer_id)
        shown = [(key, percent(weights[key], whole)) for key in ordered]
    shares = distribute(total, weights)
    return {
        "amount": total.format(),
        "currency": total.currency,
        "shares": [
            {"id": peer_id(key), "utility_percent": part, "share": shares[key].format()}
            for key, part in shown
        ],
    }


def invalid_items(
    items: list[dict[str, Any]], reasons: Mapping[bytes, Reason]
) -> list[dict[str, Any]]:
    """``log --invalid --json`` items: log items with the reason the views ignore each."""
    return [
        {
            **e,
            "invalid": reasons[bytes.fromhex(e["id"])].text,
            "code": reasons[bytes.fromhex(e["id"])].code.value,
        }
        for e in items
    ]
