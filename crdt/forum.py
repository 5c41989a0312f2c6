"""The forum of ideas: ``forum.idea`` and ``forum.comment`` entries.

Theory of operation. An idea is immutable once signed: its id is the entry
id, its author the entry's author. A comment names the idea it belongs to by
entry id. Both are grow-only sets keyed by entry id, so the state after any
delivery order, with duplicates, is the same set; :meth:`ForumState.apply`
only files entries.

Cross-entry rules run when the view is read (:meth:`ForumState.view`, cached
on the index version): a comment on an entry the node does not hold yet is
*pending* (it shows up once the idea arrives); a comment on a held entry that
is not a valid idea is invalid. A forked author's void ideas and comments never
reach this domain (:mod:`samoorg.crdt.views`), so a comment on a forked
author's idea is pending on every node, whether or not it holds the idea.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from samoorg.crdt.digest import sorted_ids
from samoorg.crdt.domain import Domain
from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.fields import read_id, read_text
from samoorg.crdt.reasons import Reason, ReasonCode, digested
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry

if TYPE_CHECKING:
    from samoorg.crdt.views import Views

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


def idea_body(title: str, body: str = "") -> dict[str, dcbor.Value]:
    """The body of a new idea entry; raises :class:`RuleViolation`."""
    value: dict[str, dcbor.Value] = {"title": title.strip()}
    if body.strip():
        value["body"] = body
    _check_idea(value)
    return value


def comment_body(on: bytes, text: str) -> dict[str, dcbor.Value]:
    """The body of a new comment entry; raises :class:`RuleViolation`."""
    value: dict[str, dcbor.Value] = {"on": on, "text": text}
    _check_comment(value)
    return value


def _check_idea(fields: Mapping[str, dcbor.Value]) -> tuple[str, str]:
    title = read_text(fields, "title", max_chars=MAX_TITLE)
    if "\n" in title:
        raise RuleViolation("expected 'title' on one line, found a line break")
    return title, read_text(fields, "body", max_chars=MAX_BODY, required=False)


def _check_comment(fields: Mapping[str, dcbor.Value]) -> tuple[bytes, str]:
    return read_id(fields, "on"), read_text(fields, "text", max_chars=MAX_COMMENT)


@dataclass(frozen=True)
class ForumView:
    """Ideas with their comments, after the cross-entry rules."""

    ideas: dict[bytes, Idea]
    comments: dict[bytes, tuple[Comment, ...]]
    """Idea id -> its comments in ``(timestamp, author, seq)`` order."""
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


class ForumState(Domain):
    """Grow-only sets of ideas and comments, resolved lazily against the index."""

    name = "forum"
    kinds = (IDEA_KIND, COMMENT_KIND)

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._ideas: dict[bytes, Idea] = {}
        self._comments: dict[bytes, Comment] = {}
        self._malformed: dict[bytes, Reason] = {}
        self._cache: tuple[int, ForumView] | None = None

    def apply(self, entries: Sequence[Entry]) -> None:
        """File new ideas and comments (any order, duplicates harmless)."""
        for entry in entries:
            try:
                if entry.kind == IDEA_KIND:
                    title, text = _check_idea(entry.body)
                    self._ideas[entry.id] = Idea(
                        entry.id, entry.author, title, text, entry.timestamp
                    )
                elif entry.kind == COMMENT_KIND:
                    on, text = _check_comment(entry.body)
                    self._comments[entry.id] = Comment(
                        entry.id, entry.author, on, text, entry.timestamp, entry.seq
                    )
            except RuleViolation as exc:
                self._malformed[entry.id] = exc.malformed(entry.kind)
        self._cache = None

    def view(self) -> ForumView:
        """The resolved forum (recomputed when the index changed)."""
        version = self.views.index.version
        if self._cache is None or self._cache[0] != version:
            self._cache = (version, self._resolve())
        return self._cache[1]

    def _resolve(self) -> ForumView:
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
            k: tuple(sorted(v, key=lambda c: (c.timestamp, c.author, c.seq)))
            for k, v in threads.items()
        }
        return ForumView(ideas, comments, tuple(pending), invalid)

    def invalid(self) -> Mapping[bytes, Reason]:
        """Malformed forum entries and comments the rules void."""
        return self.view().invalid

    def state(self) -> dcbor.Value:
        """Ideas, threads, pending comments and invalid entries, sorted."""
        return self.view().canonical()
