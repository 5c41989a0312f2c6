"""The forum of ideas: ``forum.idea`` and ``forum.comment`` entries.

Theory of operation. An idea is immutable once signed: its id is the entry
id, its author the entry's author. A comment names the idea it belongs to by
entry id. Both are grow-only sets keyed by entry id, so the state after any
delivery order, with duplicates, is the same set; :meth:`ForumState.apply`
only files entries.

Cross-entry rules run when the view is read (:meth:`ForumState.view`, cached
on the index version by :class:`~samoorg.crdt.framework.domain.ResolvedDomain`): a
comment on an entry the node does not hold yet is *pending* (it shows up
once the idea arrives); a comment on a held entry that is not a valid idea
is invalid. A forked author's void ideas and comments never
reach this domain (:mod:`samoorg.crdt.framework.views`), so a comment on a forked
author's idea is pending on every node, whether or not it holds the idea.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.digest import sorted_ids
from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import read_id, read_text
from samoorg.crdt.framework.identity import as_identity
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry

IDEA_KIND: Final = "forum.idea"
COMMENT_KIND: Final = "forum.comment"
MAX_TITLE: Final = 200
MAX_BODY: Final = 40_000
MAX_COMMENT: Final = 8_000


@dataclass(frozen=True, slots=True)
class Idea:
    """A proposal posted to the forum."""

    id: bytes
    author: bytes
    title: str
    body: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on an idea."""

    id: bytes
    author: bytes
    on: bytes
    text: str
    timestamp: int
    seq: int


# -- bodies -------------------------------------------------------------------


def idea_body(title: str, body: str = "") -> dict[str, dcbor.Value]:
    """The body of a new idea entry; raises :class:`RuleViolation`."""
    value: dict[str, dcbor.Value] = {"title": title.strip()}
    if body.strip():
        value["body"] = body
    _check_idea(value)
    return value


def comment_body(on: bytes, text: str, *, check: bool = True) -> dict[str, dcbor.Value]:
    """The body of a comment on entry ``on``; raises :class:`RuleViolation` (unless not
    ``check``: tests write broken ones)."""
    value: dict[str, dcbor.Value] = {"on": on, "text": text}
    if check:
        _check_comment(value)
    return value


def _check_idea(fields: Mapping[str, dcbor.Value]) -> tuple[str, str]:
    title = read_text(fields, "title", max_chars=MAX_TITLE)
    if "\n" in title:
        raise RuleViolation("expected 'title' on one line, found a line break")
    return title, read_text(fields, "body", max_chars=MAX_BODY, required=False)


def _check_comment(fields: Mapping[str, dcbor.Value]) -> tuple[bytes, str]:
    return read_id(fields, "on"), read_text(fields, "text", max_chars=MAX_COMMENT)


def decode_idea(entry: Entry) -> Idea:
    """The idea ``entry`` carries; raises :class:`RuleViolation`."""
    title, text = _check_idea(entry.body)
    return Idea(entry.id, entry.author, title, text, entry.timestamp)


def decode_comment(entry: Entry) -> Comment:
    """The comment ``entry`` carries; raises :class:`RuleViolation`."""
    on, text = _check_comment(entry.body)
    return Comment(entry.id, entry.author, on, text, entry.timestamp, entry.seq)


# -- the view -----------------------------------------------------------------


@dataclass(frozen=True)
class ForumView:
    """Ideas with their comments, after the cross-entry rules."""

    ideas: dict[bytes, Idea]
    comments: dict[bytes, tuple[Comment, ...]]
    """Idea id -> its comments in ``(timestamp, author identity, seq, id)`` order."""
    pending: tuple[Comment, ...]
    invalid: dict[bytes, Reason]

    def idea_authors(self) -> dict[bytes, bytes]:
        """Idea id -> author, for the ratings view."""
        return {idea.id: idea.author for idea in self.ideas.values()}

    def canonical(self) -> dcbor.Value:
        """A sorted, encodable form of the state for the digest."""
        threads: list[dcbor.Value] = [
            [k, sorted_ids(c.id for c in self.comments[k])] for k in sorted(self.comments)
        ]
        return {
            "ideas": sorted_ids(self.ideas),
            "comments": threads,
            "pending": sorted_ids(c.id for c in self.pending),
            "invalid": digested(self.invalid),
        }


class ForumState(ResolvedDomain[ForumView]):
    """Grow-only sets of ideas and comments, resolved lazily against the index."""

    name = "forum"
    decoders = MappingProxyType({IDEA_KIND: decode_idea, COMMENT_KIND: decode_comment})
    reads_keys = False

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._ideas: dict[bytes, Idea] = {}
        self._comments: dict[bytes, Comment] = {}

    def _file(self, entry: Entry, record: Idea | Comment) -> None:
        record = as_identity(record, self.views.author(entry))  # §8.11.1
        if isinstance(record, Idea):
            self._ideas[entry.id] = record
        else:
            self._comments[entry.id] = record

    def _resolve_view(self) -> ForumView:
        holds = self.views.holds
        invalid = dict(self._malformed)
        ideas = dict(self._ideas)
        threads: dict[bytes, list[Comment]] = {}
        pending: list[Comment] = []
        for comment in self._comments.values():
            if comment.on in ideas:
                threads.setdefault(comment.on, []).append(comment)
            elif holds(comment.on):
                invalid[comment.id] = Reason(
                    ReasonCode.NOT_AN_IDEA, "the entry commented on is not a valid idea"
                )
            else:
                pending.append(comment)
        comments = {
            k: tuple(sorted(v, key=lambda c: (c.timestamp, c.author, c.seq, c.id)))
            for k, v in threads.items()
        }
        return ForumView(ideas, comments, tuple(pending), invalid)


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Well-formed ideas, and comments on held entries (mostly ideas) or on unknown ids."""
    from hypothesis import strategies as st

    words = st.text("abc xyz", min_size=1, max_size=12).filter(str.strip)
    ideas = st.builds(lambda t, b: (IDEA_KIND, idea_body(t, b)), words, st.text(max_size=8))
    ons = st.binary(min_size=32, max_size=32)
    if ctx.entries:
        ons = st.sampled_from([e.id for e in ctx.of_kind(IDEA_KIND)] or [ctx.entries[0].id]) | ons
    comments = st.builds(lambda on, t: (COMMENT_KIND, comment_body(on, t)), ons, words)
    return ideas | comments


FAMILY: Final = Family(ForumState, samples, spec="8.8")
