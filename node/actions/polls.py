"""Poll actions: open a poll, vote in one.

A vote names its option by number (``"2"``) or by its exact text (any case);
the answer is the vote's :func:`~samoorg.node.api.shapes.created_json` with
the poll, the option's text and its number. A vote from outside the trust
list is stored but not counted: a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.actions import Actor, Done, now
from samoorg.node.actions.forum import ignored
from samoorg.node.api.shapes import created_json


def poll_new(
    actor: Actor, *, question: str, options: Sequence[str], closes: int | None = None
) -> Done:
    """Open a poll of 2 to 20 ``options``, closing at ``closes`` (ms) if given."""
    from samoorg.crdt.kinds import polls

    entry = actor.write(polls.POLL_KIND, polls.poll_body(question, list(options), closes))
    return Done(created_json(entry), (entry,))


def vote(actor: Actor, *, poll: str, option: str) -> Done:
    """Vote for ``option`` (a number from 1, or the option's text) in the poll ``poll``."""
    from samoorg.crdt.kinds import polls

    entry = actor.entry(poll, polls.POLL_KIND)
    social = actor.social()
    if entry.id not in social.polls.polls:
        raise ignored(actor.views, entry, "poll")
    tally = social.tally(entry.id)
    choice = option_index(tally.poll.options, option)
    saved = actor.write(polls.VOTE_KIND, polls.vote_body(tally.poll, choice, now()))
    picked = tally.poll.options[choice]
    shape = created_json(saved, poll=entry.id.hex(), option=picked, number=choice + 1)
    notes: tuple[str, ...] = ()
    if actor.me not in social.members:
        notes = ("note: you are not on the trust list yet, so this vote is not counted",)
    return Done(shape, (saved,), notes)


def option_index(options: Sequence[str], text: str) -> int:
    """The index of the option named by ``text``: its number (from 1) or its text."""
    value = text.strip()
    if value.isdigit():
        return int(value) - 1
    matches = [i for i, o in enumerate(options) if o.casefold() == value.casefold()]
    if len(matches) != 1:
        raise RuleViolation(
            f"expected an option number 1..{len(options)} or one of "
            f"{', '.join(repr(o) for o in options)}, found {text!r}"
        )
    return matches[0]
