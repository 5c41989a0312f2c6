"""Convergence of the social views: any causally valid delivery order, with duplicates,
gives the same digests, and incremental updates equal a full rebuild."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.views import Views
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author
from tests.kind_kit import checkpoints, feed_order, incremental, rebuild
from tests.social_fixtures import (
    comment_on,
    open_poll,
    post_idea,
    rate_idea,
    rate_member,
    trusted_star,
    vote_on,
)

AUTHORS = 5
OPS = ("idea", "comment", "rate_member", "rate_idea", "poll", "vote")


def history(data: st.DataObject) -> tuple[list[Author], list[Entry]]:
    """A random multi-author history of social records over a small trust list."""
    authors = [Author(i + 1) for i in range(AUTHORS)]
    entries = trusted_star(authors[0], authors[1:4])  # authors[4] stays outside
    ideas: list[Entry] = []
    polls: list[Entry] = []
    for _ in range(data.draw(st.integers(1, 25), label="length")):
        who = authors[data.draw(st.integers(0, AUTHORS - 1), label="author")]
        op = data.draw(st.sampled_from(OPS), label="op")
        if op == "idea":
            ideas.append(post_idea(who, f"idea {len(ideas)}"))
            entries.append(ideas[-1])
        elif op == "comment" and ideas:
            entries.append(comment_on(who, data.draw(st.sampled_from(ideas)), "hm"))
        elif op == "rate_member":
            other = authors[data.draw(st.integers(0, AUTHORS - 1), label="ratee")]
            entries.append(rate_member(who, other, data.draw(st.integers(-1, 6), label="score")))
        elif op == "rate_idea" and ideas:
            target = data.draw(st.sampled_from(ideas))
            entries.append(rate_idea(who, target, data.draw(st.integers(0, 5), label="score")))
        elif op == "poll":
            closes = who.clock + data.draw(st.integers(1, 20), label="closes") * 1000
            polls.append(open_poll(who, "who?", ["a", "b", "c"], closes))
            entries.append(polls[-1])
        elif op == "vote" and polls:
            poll = data.draw(st.sampled_from(polls))
            entries.append(vote_on(who, poll, data.draw(st.integers(0, 3), label="option")))
    return authors, entries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_delivery_order_gives_the_same_state(data: st.DataObject) -> None:
    authors, entries = history(data)
    forked = authors[3].key if data.draw(st.booleans(), label="forked") else None
    rebuilt = rebuild(entries, [forked] if forked else [])
    expected = rebuilt.digests()
    expected_social = rebuilt.social(authors[0].key).digest()
    expected_invalid = rebuilt.invalid()
    for _ in range(2):
        order = feed_order(data, entries)
        stops = checkpoints(data, order) | {0}
        fork_at = data.draw(st.integers(0, len(order)), label="fork at")
        views = incremental(order, stops, forked=[forked] if forked else [], fork_at=fork_at)
        assert views.digests() == expected
        assert views.social(authors[0].key).digest() == expected_social
        assert views.invalid() == expected_invalid


def test_the_social_domains_are_registered() -> None:
    views = Views(EntryIndex())
    assert {"forum", "ratings", "polls"} <= set(views.digests())
