"""The contract every registered record family keeps (in the spirit of trio's stream
conformance suites): the same checks, parametrized over :func:`registry.families`.

* its samples are well-formed (each decoder accepts them);
* every decoder maps any body to a record or a RuleViolation, never another exception;
* any delivery order, with duplicates and with queries between deliveries, gives the
  same digest and the same void entries as a rebuild from the set (incremental equals
  rebuild), even when references arrive before their targets;
* every history groups its authors into identities of 1..3 devices (drawn per example,
  :func:`tests.kind_kit.identity_links`), delivered in any order like the rest, so the
  views per identity converge too (§8.11.1);
* a forked author's entries never count: the domain's state is the same whether or not
  the node holds them, each is listed with the forked-author reason, and flagging the
  author mid-stream ends where a rebuild does.
"""

from __future__ import annotations

import importlib
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework import registry
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.exclusion import FORKED_REASON
from samoorg.crdt.framework.registry import Family, SampleContext
from samoorg.crdt.framework.views import DOMAINS
from samoorg.protocol.entry import Entry
from tests.community_fixtures import Author
from tests.feed_fixtures import values
from tests.kind_kit import (
    any_order,
    assert_same_views,
    checkpoints,
    family_history,
    feed_order,
    incremental,
    rebuild,
)

FAMILIES = registry.families()
KINDS = [(f, kind) for f in FAMILIES for kind in f.kinds]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def by_name(family: Family) -> str:
    return family.name


def kind_id(pair: tuple[Family, str]) -> str:
    return pair[1]


def test_every_domain_is_a_registered_family() -> None:
    assert [f.domain for f in FAMILIES] == list(DOMAINS)
    assert len({k for f in FAMILIES for k in f.kinds}) == sum(len(f.kinds) for f in FAMILIES)
    for found in FAMILIES:
        assert registry.family(found.name) is found
        assert all(registry.family_of(kind) is found for kind in found.kinds)
        assert set(found.uses) <= {f.name for f in FAMILIES} - {found.name}


def test_each_kind_constant_name_means_one_kind() -> None:
    # TRUST_ACCEPT and AGREEMENT_ACCEPT, never two ACCEPTs meaning different kinds.
    meaning: dict[str, set[str]] = {}
    for module in registry.FAMILY_MODULES:
        for name, value in vars(importlib.import_module(module)).items():
            if name.isupper() and isinstance(value, str) and value in registry.kind_names():
                meaning.setdefault(name, set()).add(value)
    assert {n: v for n, v in meaning.items() if len(v) > 1} == {}
    assert set().union(*meaning.values()) == registry.kind_names()


def test_each_family_has_its_spec_section() -> None:
    protocol = (Path(__file__).parents[1] / "docs" / "protocol.md").read_text()
    for found in FAMILIES:
        assert re.search(rf"^#+ {re.escape(found.spec)}\b", protocol, re.M), found.name


@pytest.mark.parametrize("subject", FAMILIES, ids=by_name)
@SETTINGS
@given(data=st.data())
def test_samples_are_well_formed(subject: Family, data: st.DataObject) -> None:
    _, entries = family_history(data, subject)
    for entry in entries:
        registry.decode(entry)  # raises RuleViolation if a sample is malformed


def _fake_entry(kind: str, body: dict[str, Any]) -> Entry:
    return Entry(
        b"\x01" * 32, 2, b"\x02" * 32, 1_700_000_000_000, kind, body, b"", b"", b"\x03" * 32
    )


@st.composite
def mangled(draw: st.DrawFn, subject: Family) -> dict[str, Any]:
    """A sample body with fields replaced, removed or added, or any body at all."""
    author = Author(1)
    ctx = SampleContext((), author.key, (author.key,), 1_700_000_000_000)
    _, body = draw(subject.samples(ctx))
    body = dict(body)
    for _ in range(draw(st.integers(0, 3))):
        if body and draw(st.booleans()):
            field = draw(st.sampled_from(sorted(body)))
            if draw(st.booleans()):
                body[field] = draw(values)
            else:
                del body[field]
        else:
            body[draw(st.text(max_size=8))] = draw(values)
    return body


@pytest.mark.parametrize("pair", KINDS, ids=kind_id)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_decoder_maps_any_body_to_a_record_or_a_rule_violation(
    pair: tuple[Family, str], data: st.DataObject
) -> None:
    subject, kind = pair
    body = data.draw(mangled(subject) | st.dictionaries(st.text(max_size=10), values, max_size=6))
    try:
        subject.decoders[kind](_fake_entry(kind, body))
    except RuleViolation as exc:
        reason = exc.malformed(kind)
    else:
        return
    assert reason.text.startswith(f"malformed {kind}: ")


@pytest.mark.parametrize("subject", FAMILIES, ids=by_name)
@SETTINGS
@given(data=st.data(), rng=st.randoms(use_true_random=False))
def test_any_order_and_duplication_give_the_rebuilt_state(
    subject: Family, data: st.DataObject, rng: random.Random
) -> None:
    _, entries = family_history(data, subject)
    expected = rebuild(entries)
    causal = feed_order(data, entries)
    assert_same_views(incremental(causal, checkpoints(data, causal)), expected)
    shuffled = any_order(rng, entries, duplicates=2)
    assert_same_views(incremental(shuffled, checkpoints(data, shuffled)), expected)


@pytest.mark.parametrize("subject", FAMILIES, ids=by_name)
@SETTINGS
@given(data=st.data())
def test_a_forked_authors_entries_never_count(subject: Family, data: st.DataObject) -> None:
    authors, entries = family_history(data, subject)
    forked = authors[data.draw(st.integers(0, len(authors) - 1), label="forked")].key
    theirs = {e.id for e in entries if e.author == forked}
    holding = rebuild(entries, [forked])
    without = rebuild([e for e in entries if e.author != forked], [forked])
    assert_same_views(holding, without, only=subject.name)
    assert not theirs & set(holding.domain(subject.domain).invalid())
    invalid = holding.invalid()
    assert all(invalid[i] == FORKED_REASON for i in theirs)
    order = feed_order(data, entries)
    fork_at = data.draw(st.integers(0, len(order)), label="fork at")
    views = incremental(order, checkpoints(data, order), forked=[forked], fork_at=fork_at)
    assert_same_views(views, holding)
