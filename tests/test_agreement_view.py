"""The agreements view: merging, versions, acceptance, refusals, forgery, convergence."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.reasons import ReasonCode
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.agreements import (
    AGREEMENT_ACCEPT,
    AGREEMENT_EDIT,
    AGREEMENT_NEW,
    CURRENT,
    OUTDATED,
    UNVERIFIED,
    version_hash,
)
from samoorg.protocol.entry import MAX_ENTRY_SIZE, Entry, create_entry, decode_entry
from samoorg.protocol.errors import BadSignature
from tests.agreement_fixtures import accept, create, edit, state_of
from tests.community_fixtures import Author, views_of
from tests.kind_kit import any_order, incremental

BASE = "Rules\n\n1. We decide in public.\n2. Anyone may propose.\n3. No leaders.\n"


def agreement_of(views: Views, doc: bytes):  # type: ignore[no-untyped-def]
    found = views.agreements.get(doc)
    assert found is not None
    return found


def test_concurrent_edits_merge_without_loss() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    root = create(alice, BASE)
    doc = root[0].id
    bob.clock = carol.clock = alice.clock  # they edit after Alice wrote
    by_bob = edit(bob, doc, root, BASE.replace("in public", "openly, in public"))
    by_carol = edit(carol, doc, root, BASE.replace("No leaders.", "No leaders.\n4. Vote."))
    views = views_of(*root, *by_carol, *by_bob)
    agreement = agreement_of(views, doc)
    assert agreement.text == (
        "Rules\n\n1. We decide openly, in public.\n2. Anyone may propose.\n"
        "3. No leaders.\n4. Vote.\n"
    )
    assert set(agreement.heads) == {by_bob[0].id, by_carol[0].id}
    assert not views.invalid()
    # The same entries in another order give the same state.
    assert views_of(*by_bob, *by_carol, *root).digests() == views.digests()
    blame = {line.number: line.entry.author for line in agreement.blame()}
    assert blame[3] == bob.key
    assert blame[6] == carol.key
    assert blame[1] == alice.key
    history = agreement.history()
    assert [row.entry.author for row in history] == [alice.key, bob.key, carol.key]
    assert history[1].inserted_pieces == ("openly, ",)
    # Both branches, merged later by Alice, form one head again.
    merged = edit(alice, doc, [*root, *by_bob, *by_carol], agreement.text + "5. Done.\n")
    after = agreement_of(views_of(*root, *by_bob, *by_carol, *merged), doc)
    assert after.heads == (merged[0].id,)
    assert after.text_at([by_bob[0].id]) == BASE.replace("in public", "openly, in public")


def test_edits_wait_for_what_they_name() -> None:
    alice, bob = Author(1), Author(2)
    root = create(alice, BASE)
    doc = root[0].id
    first = edit(alice, doc, root, BASE + "4. More.\n")
    second = edit(bob, doc, [*root, *first], BASE + "4. More!\n")
    index = EntryIndex([second[0]])
    views = Views(index)
    assert views.agreements.get(doc) is None
    waiting = views.agreements.pending()[second[0].id]
    assert "waiting for agreement" in waiting.text
    assert (waiting.code, waiting.ids) == (ReasonCode.WAITING_AGREEMENT, (doc,))
    index.add(root[0])
    assert agreement_of(views, doc).text == BASE
    waiting = views.agreements.pending()[second[0].id]
    assert first[0].id.hex()[:12] in waiting.text
    assert (waiting.code, waiting.ids) == (ReasonCode.WAITING_DEPENDENCIES, (first[0].id,))
    assert not views.invalid()
    index.add(first[0])
    assert agreement_of(views, doc).text == BASE + "4. More!\n"
    assert not views.agreements.pending()


def test_large_texts_span_entries_under_the_cap() -> None:
    alice, bob = Author(1), Author(2)
    text = "".join(f"{i:05d} свобода 🙂 agreement line\n" for i in range(9000))
    root = create(alice, text)
    assert len(root) > 3
    assert all(len(e.raw) <= MAX_ENTRY_SIZE for e in root)
    assert root[0].kind == AGREEMENT_NEW
    assert {e.kind for e in root[1:]} == {AGREEMENT_EDIT}
    doc = root[0].id
    changed = text.replace("5 свобода", "5 СВОБОДА")
    edits = edit(bob, doc, root, changed)
    views = views_of(*reversed(root + edits))
    assert agreement_of(views, doc).text == changed
    assert not views.invalid()


def test_acceptance_versions() -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    root = create(alice, BASE)
    doc = root[0].id
    by_alice = accept(alice, doc, root)
    change = edit(bob, doc, root, BASE + "4. New rule.\n")
    by_bob = accept(bob, doc, [*root, *change])
    revert = edit(carol, doc, [*root, *change], BASE)
    # Before the edit: Alice's acceptance is current.
    agreement = agreement_of(views_of(*root, by_alice), doc)
    assert agreement.accepted[alice.key].status == CURRENT
    assert agreement.accepted[alice.key].version == version_hash(doc, BASE)
    # After it: outdated; Bob's (of the edited text) is current.
    agreement = agreement_of(views_of(*root, by_alice, *change, by_bob), doc)
    assert agreement.accepted[alice.key].status == OUTDATED
    assert agreement.accepted[bob.key].status == CURRENT
    # Bob's acceptance names an edit this node lacks: unverified, not invalid.
    agreement = agreement_of(views_of(*root, by_bob), doc)
    assert agreement.accepted[bob.key].status == UNVERIFIED
    # A revert restores the text, so the first acceptance is current again.
    views = views_of(*root, by_alice, *change, by_bob, *revert)
    agreement = agreement_of(views, doc)
    assert agreement.text == BASE
    assert agreement.accepted[alice.key].status == CURRENT
    assert agreement.accepted[bob.key].status == OUTDATED
    # A lying hash is refused with its reason.
    liar = carol.write(
        AGREEMENT_ACCEPT,
        {"agreement": doc, "heads": [root[0].id], "version": version_hash(doc, "other")},
    )
    views = views_of(*root, liar)
    assert "does not match the text" in views.invalid()[liar.id].text
    assert views.invalid()[liar.id].code is ReasonCode.VERSION_MISMATCH
    assert carol.key not in agreement_of(views, doc).accepted


MALFORMED = [
    ({"ops": [[2, None, None, "x"]]}, "expected an operation"),
    ({"ops": [[0, None, None, "x", [1, 0]]]}, "expected an operation"),
    ({"ops": [[0, [3, 0], None, "x"]]}, "reference to entry slot 3"),
    ({"ops": [[0, [1, 99], None, "x"]]}, "which has"),
    ({"ops": [[0, None, None, ""]]}, "expected inserted text"),
    ({"ops": []}, "expected 'ops'"),
    ({"ops": [[1, [1, 0], 0]]}, "deletion length"),
    ({"deps": [], "ops": [[0, None, None, "x"]]}, "expected 'deps'"),
]


@pytest.mark.parametrize(("change", "reason"), MALFORMED)
def test_malformed_edits_are_ignored_with_a_reason(change: dict[str, object], reason: str) -> None:
    alice, mallory = Author(1), Author(9)
    root = create(alice, BASE)
    doc = root[0].id
    body = {"agreement": doc, "deps": [doc], "refs": [doc], **change}
    bad = mallory.write(AGREEMENT_EDIT, body)  # type: ignore[arg-type]
    views = views_of(*root, bad)
    assert reason in views.invalid()[bad.id].text
    assert agreement_of(views, doc).text == BASE


def test_characters_cannot_be_forged_or_misattributed() -> None:
    alice, mallory = Author(1), Author(9)
    root = create(alice, BASE)
    doc = root[0].id
    honest = edit(alice, doc, root, BASE + "4. Alice's rule.\n")
    # Tampering with Alice's entry breaks her signature: no node stores it.
    tampered = bytearray(honest[0].raw)
    where = tampered.find(b"Alice")
    tampered[where : where + 5] = b"Malic"
    with pytest.raises(BadSignature):
        decode_entry(bytes(tampered))
    # Replaying Alice's operations in Mallory's entry creates Mallory's characters:
    # ids come from the carrying entry, so there is no field in which to claim hers.
    copied = mallory.write(AGREEMENT_EDIT, dict(honest[0].body))
    views = views_of(*root, copied)
    agreement = agreement_of(views, doc)
    assert agreement.text == BASE + "4. Alice's rule.\n"
    assert agreement.blame()[-1].entry.author == mallory.key
    assert all(span.agent != honest[0].id for span in agreement.replica.doc.spans())
    # An entry that names a character Alice's entry never inserted is refused.
    ghost = mallory.write(
        AGREEMENT_EDIT,
        {"agreement": doc, "deps": [doc], "refs": [doc], "ops": [[1, [1, 10_000], 1]]},
    )
    refused = views_of(*root, ghost).invalid()[ghost.id]
    assert "which has" in refused.text
    assert refused.code is ReasonCode.UNKNOWN_CHARACTER
    # A forged "new agreement" by Mallory does not touch Alice's.
    other = create(mallory, "Mallory's rules\n", title="Rules")
    views = views_of(*root, *other)
    assert agreement_of(views, doc).text == BASE
    assert len(views.agreements.all()) == 2


def test_an_entry_of_another_kind_is_not_an_agreement() -> None:
    alice = Author(1)
    other = alice.write("note.something", {"text": "hi"})
    edit_body = {
        "agreement": other.id,
        "deps": [other.id],
        "refs": [],
        "ops": [[0, None, None, "x"]],
    }
    stray = alice.write(AGREEMENT_EDIT, edit_body)  # type: ignore[arg-type]
    views = views_of(other, stray)
    assert views.agreements.get(other.id) is None
    assert stray.id in views.agreements.pending()
    bad_title = alice.write(AGREEMENT_NEW, {"title": " ", "ops": [[0, None, None, "x"]]})
    assert "expected 'title'" in views_of(bad_title).invalid()[bad_title.id].text
    assert views_of(bad_title).invalid()[bad_title.id].code is ReasonCode.MALFORMED
    no_doc = alice.write(AGREEMENT_EDIT, {"agreement": b"short", "deps": [], "refs": [], "ops": []})
    assert "32-byte entry id" in views_of(no_doc).invalid()[no_doc.id].text
    assert views_of(no_doc).invalid()[no_doc.id].code is ReasonCode.MALFORMED


# -- convergence ------------------------------------------------------------------

WORDS = ["alpha ", "beta ", "gamma\n", "δ ", "\n", "x"]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Entry], bytes]:
    """Three authors editing, accepting and syncing; entries in creation order."""
    authors = [Author(n + 1) for n in range(3)]
    root = create(authors[0], "start\n")
    doc = root[0].id
    known: list[list[Entry]] = [list(root), [], []]
    everything = list(root)
    for _ in range(draw(st.integers(1, 12))):
        who = draw(st.integers(0, 2))
        action = draw(st.sampled_from(["edit", "edit", "sync", "accept"]))
        if action == "sync" or not known[who]:
            source = draw(st.integers(0, 2))
            known[who] = list(dict.fromkeys([*known[who], *known[source]]))
            continue
        if action == "accept":
            made = [accept(authors[who], doc, known[who])]
        else:
            text = state_of(doc, known[who]).text
            pos = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, min(6, len(text) - pos)))
            new = text[:pos] + draw(st.sampled_from(WORDS)) * draw(st.integers(0, 2))
            new += text[pos + cut :]
            made = edit(authors[who], doc, known[who], new)
        known[who].extend(made)
        everything.extend(made)
    return everything, doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False))
def test_every_delivery_order_converges(
    history: tuple[list[Entry], bytes], rng: random.Random
) -> None:
    entries, doc = history
    full = views_of(*entries)
    expected, expected_invalid = full.digests(), full.invalid()
    assert not expected_invalid
    assert not full.agreements.pending()
    for _ in range(3):
        order = any_order(rng, entries, duplicates=rng.randrange(4))
        stops = {i for i in range(len(order)) if rng.random() < 0.3}
        views = incremental(order, stops, probe=lambda v, _: v.agreements.get(doc))
        assert views.digests() == expected
        assert views.invalid() == expected_invalid
    # Whatever order, each author's text equals the text of the full history.
    assert agreement_of(full, doc).text == state_of(doc, list(reversed(entries))).text


def test_signed_size_limit_is_respected_by_create_entry() -> None:
    # A body over the cap cannot even be signed (the planner never makes one).
    alice = Author(1)
    with pytest.raises(Exception, match="at most 65536"):
        create_entry(
            alice.signer, seq=1, prev=None, timestamp=0, kind=AGREEMENT_NEW,
            body={"title": "t", "ops": [[0, None, None, "x" * 70_000]]},
        )  # fmt: skip


def test_an_edit_depending_on_a_malformed_edit_is_void_not_waiting() -> None:
    """§8.9: depending on a void entry of the agreement voids, whatever made it void."""
    alice, bob = Author(1), Author(2)
    root = create(alice, BASE)
    doc = root[0].id
    broken = alice.write(
        AGREEMENT_EDIT, {"agreement": doc, "deps": [doc], "refs": [doc], "ops": []}
    )
    on_broken = bob.write(
        AGREEMENT_EDIT,
        {"agreement": doc, "deps": [broken.id], "refs": [], "ops": [[0, None, None, "x"]]},
    )
    on_that = bob.write(
        AGREEMENT_EDIT,
        {"agreement": doc, "deps": [on_broken.id], "refs": [], "ops": [[0, None, None, "y"]]},
    )
    for order in ([*root, broken, on_broken, on_that], [on_that, on_broken, broken, *root]):
        views = views_of(*order)
        invalid = views.invalid()
        assert invalid[broken.id].code is ReasonCode.MALFORMED
        assert invalid[on_broken.id].code is ReasonCode.DEPENDS_ON_VOID
        assert invalid[on_that.id].code is ReasonCode.DEPENDS_ON_VOID
        assert not views.agreements.pending()
        assert agreement_of(views, doc).text == BASE
