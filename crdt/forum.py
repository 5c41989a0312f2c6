"""The forum of ideas: ``idea`` and ``comment`` entries.

Theory of operation. An ``idea`` is immutable once signed: its id is the
entry id, its author the entry's author. A ``comment`` names the idea it
belongs to by entry id. Both are grow-only sets keyed by entry id, so the
state after any delivery order, with duplicates, is the same set.

Cross-entry rules are applied when the view is read: a comment on an entry
the node does not hold yet is *pending* (it shows up once the idea arrives);
a comment on a held entry that is not a valid idea is rejected. Everything by
a forked author is excluded, and so are comments on an excluded idea.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable
from dataclasses import dataclass, field
from typing import Final

from samoorg.crdt.digest import sorted_ids
from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.fields import read_id, read_text
from samoorg.crdt.index import EntryIndex
from samoorg.crdt.rejections import FORKED_REASON, Rejected
from samoorg.protocol import dcbor
from samoorg.protocol.entry import Entry

IDEA_KIND: Final = "idea"
COMMENT_KIND: Final = "comment"
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


def _check_idea(body: dict[str, dcbor.Value] | Entry) -> tuple[str, str]:
    fields = body.body if isinstance(body, Entry) else body
    title = read_text(fields, "title", max_chars=MAX_TITLE)
    if "\n" in title:
        raise RuleViolation("expected 'title' on one line, found a line break")
    return title, read_text(fields, "body", max_chars=MAX_BODY, required=False)


def _check_comment(body: dict[str, dcbor.Value] | Entry) -> tuple[bytes, str]:
    fields = body.body if isinstance(body, Entry) else body
    return read_id(fields, "on"), read_text(fields, "text", max_chars=MAX_COMMENT)


@dataclass
class ForumState:
    """Grow-only sets of ideas and comments; fold entries in any order with :meth:`add`."""

    ideas: dict[bytes, Idea] = field(default_factory=dict)
    comments: dict[bytes, Comment] = field(default_factory=dict)
    rejected: dict[bytes, Rejected] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        """Fold one ``idea`` or ``comment`` entry in (other kinds are ignored)."""
        try:
            if entry.kind == IDEA_KIND:
                title, text = _check_idea(entry)
                self.ideas[entry.id] = Idea(entry.id, entry.author, title, text, entry.timestamp)
            elif entry.kind == COMMENT_KIND:
                on, text = _check_comment(entry)
                self.comments[entry.id] = Comment(
                    entry.id, entry.author, on, text, entry.timestamp, entry.seq
                )
        except RuleViolation as exc:
            self.rejected[entry.id] = Rejected.of(entry, str(exc))

    def add_all(self, entries: Iterable[Entry]) -> None:
        """Fold several entries in."""
        for entry in entries:
            self.add(entry)

    @classmethod
    def from_index(cls, index: EntryIndex) -> ForumState:
        """A full rebuild from the ``idea`` and ``comment`` entries of ``index``."""
        state = cls()
        state.add_all(index.of_kind(IDEA_KIND, COMMENT_KIND))
        return state


@dataclass(frozen=True)
class ForumView:
    """Ideas with their comments, after cross-entry rules are applied."""

    ideas: dict[bytes, Idea]
    comments: dict[bytes, tuple[Comment, ...]]
    """Idea id -> its comments in ``(timestamp, author, seq)`` order."""
    pending: tuple[Comment, ...]
    rejected: tuple[Rejected, ...]

    def idea_authors(self) -> dict[bytes, bytes]:
        """Idea id -> author, for the ratings view."""
        return {idea.id: idea.author for idea in self.ideas.values()}

    def canonical(self) -> dcbor.Value:
        """A sorted, encodable form of the state for :func:`state_digest`."""
        return {
            "ideas": sorted_ids(self.ideas),
            "comments": [[k, [c.id for c in self.comments[k]]] for k in sorted(self.comments)],
            "pending": sorted_ids(c.id for c in self.pending),
            "rejected": [[r.entry_id, r.reason] for r in sorted(self.rejected)],
        }


def resolve_forum(
    state: ForumState, *, held: Container[bytes], forked: Collection[bytes]
) -> ForumView:
    """Apply the rules that need other entries (see the module docstring)."""
    rejected = list(state.rejected.values())
    ideas: dict[bytes, Idea] = {}
    for idea in state.ideas.values():
        if idea.author in forked:
            rejected.append(Rejected(idea.id, IDEA_KIND, idea.author, FORKED_REASON))
        else:
            ideas[idea.id] = idea
    threads: dict[bytes, list[Comment]] = {}
    pending: list[Comment] = []
    for comment in state.comments.values():
        reason = ""
        if comment.author in forked:
            reason = FORKED_REASON
        elif comment.on in ideas:
            threads.setdefault(comment.on, []).append(comment)
        elif comment.on in state.ideas:
            reason = "the idea commented on is excluded: its author is forked"
        elif comment.on in held:
            reason = "the entry commented on is not a valid idea"
        else:
            pending.append(comment)
        if reason:
            rejected.append(Rejected(comment.id, COMMENT_KIND, comment.author, reason))
    comments = {
        k: tuple(sorted(v, key=lambda c: (c.timestamp, c.author, c.seq)))
        for k, v in threads.items()
    }
    return ForumView(ideas, comments, tuple(pending), tuple(sorted(rejected)))
