"""Social recovery rules (docs/protocol.md §8.13): thresholds, guardians, vetoes, the wait."""

from __future__ import annotations

import random
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.framework.index import EntryIndex
from samoorg.crdt.framework.reasons import ReasonCode
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds.devices import DevicesState, DevicesView
from samoorg.crdt.kinds.forum import IDEA_KIND, idea_body
from samoorg.crdt.kinds.recovery import (
    APPROVED,
    PENDING,
    RECOVERED,
    RECOVERY_APPROVE,
    RECOVERY_REQUEST,
    RECOVERY_SET,
    RECOVERY_VETO,
    VETOED,
    WAITING,
    RecoveryState,
    RecoveryView,
    approve_body,
    request_body,
    set_body,
    veto_body,
)
from samoorg.protocol.entry import Entry
from tests.community_fixtures import DAY, T0, Author
from tests.kind_kit import (
    any_order,
    assert_same_views,
    checkpoints,
    feed_order,
    incremental,
    rebuild,
)

HOUR = 3_600_000
WAIT = 72 * HOUR


class Scene:
    """An identity (``owner``) with three guardians, and a new key (``new``) that asks."""

    def __init__(self) -> None:
        self.owner, self.g1, self.g2, self.g3, self.new, self.stranger = (
            Author(n) for n in (31, 32, 33, 34, 35, 36)
        )
        for author in (self.owner, self.g1, self.g2, self.g3, self.new, self.stranger):
            author.clock = T0
        guardians = [self.g1.key, self.g2.key, self.g3.key]
        self.set = self.owner.write(RECOVERY_SET, set_body(guardians, 2, WAIT))
        self.before = post_idea(self.owner, "written before the loss")
        self.new.clock = T0 + DAY
        self.request = self.new.write(RECOVERY_REQUEST, request_body(self.owner.key))
        self.entries: list[Entry] = [self.set, self.before, self.request]

    def approve(self, guardian: Author, at: int) -> Entry:
        entry = guardian.write(
            RECOVERY_APPROVE, approve_body(self.request.id, self.request.author), at=at
        )
        self.entries.append(entry)
        return entry

    def add(self, *entries: Entry) -> None:
        self.entries.extend(entries)


def post_idea(author: Author, title: str, at: int | None = None) -> Entry:
    return author.write(IDEA_KIND, idea_body(title, ""), at=at)


def views_of(entries: Sequence[Entry]) -> Views:
    shuffled = list(entries)
    random.Random(len(entries)).shuffle(shuffled)  # the order of arrival never matters
    return Views(EntryIndex(shuffled, []))


def devices(views: Views) -> DevicesView:
    return views.domain(DevicesState).view()


def recovery(views: Views) -> RecoveryView:
    return views.domain(RecoveryState).view()


def test_below_the_threshold_the_new_key_is_not_a_device() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0 + DAY + HOUR)
    views = views_of(scene.entries)
    assert devices(views).identity(scene.new.key) == scene.new.key
    (outcome,) = recovery(views).of_identity(scene.owner.key)
    assert outcome.status == PENDING
    assert outcome.effective is None
    assert [a.author for a in outcome.approvals] == [scene.g1.key]
    assert views.revoked() == {}


def test_two_of_three_guardians_make_the_new_key_a_device_and_revoke_the_old() -> None:
    scene = Scene()
    scene.approve(scene.g2, T0 + DAY + 2 * HOUR)
    second = scene.approve(scene.g1, T0 + DAY + 3 * HOUR)
    effective = second.timestamp + WAIT
    late = post_idea(scene.owner, "written by whoever holds the old laptop", at=effective + 1)
    scene.add(late)
    views = views_of(scene.entries)
    forest = devices(views)
    assert forest.identity(scene.new.key) == scene.owner.key
    assert forest.devices(scene.owner.key) == [scene.owner.key, scene.new.key]
    assert forest.links[scene.new.key].recovered
    assert forest.cuts == {scene.owner.key: late.seq}
    assert forest.revoked_by[scene.owner.key] == scene.request
    (outcome,) = recovery(views).of_identity(scene.owner.key)
    assert outcome.status == APPROVED
    assert outcome.effective == effective
    assert outcome.status_at(effective - 1) == WAITING
    assert outcome.status_at(effective) == RECOVERED
    invalid = views.invalid()
    assert invalid[late.id].code is ReasonCode.REVOKED_DEVICE
    assert scene.before.id not in invalid  # what was written before stays valid
    assert recovery(views).guarded_by(scene.g3.key) == [outcome]


def test_without_later_entries_the_old_device_is_cut_after_what_is_held() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0 + DAY + HOUR)
    scene.approve(scene.g3, T0 + DAY + HOUR)
    assert devices(views_of(scene.entries)).cuts == {scene.owner.key: scene.before.seq + 1}


def test_the_wait_runs_from_the_request_when_guardians_approved_earlier() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0)  # dated before the request: the wait still starts there
    scene.approve(scene.g2, T0 + 1)
    (outcome,) = recovery(views_of(scene.entries)).of_identity(scene.owner.key)
    assert outcome.effective == scene.request.timestamp + WAIT


def test_a_veto_inside_the_waiting_period_stops_it() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0 + DAY + HOUR)
    second = scene.approve(scene.g2, T0 + DAY + HOUR)
    veto = scene.owner.write(
        RECOVERY_VETO, veto_body(scene.request.id), at=second.timestamp + WAIT - 1
    )
    scene.add(veto)
    views = views_of(scene.entries)
    assert devices(views).identity(scene.new.key) == scene.new.key
    assert views.revoked() == {}
    (outcome,) = recovery(views).of_identity(scene.owner.key)
    assert outcome.status == VETOED
    assert outcome.veto == veto
    assert outcome.status_at(second.timestamp + WAIT) == VETOED


def test_a_veto_after_the_waiting_period_does_not() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0 + DAY + HOUR)
    second = scene.approve(scene.g2, T0 + DAY + HOUR)
    veto = scene.owner.write(RECOVERY_VETO, veto_body(scene.request.id), at=second.timestamp + WAIT)
    scene.add(veto)
    views = views_of(scene.entries)
    assert devices(views).identity(scene.new.key) == scene.owner.key
    assert views.invalid()[veto.id].code is ReasonCode.REVOKED_DEVICE  # past the cut
    assert recovery(views).of_identity(scene.owner.key)[0].status == APPROVED


def test_approvals_from_non_guardians_and_repeated_approvals_do_not_count() -> None:
    scene = Scene()
    stranger = scene.approve(scene.stranger, T0 + DAY + HOUR)
    first = scene.approve(scene.g1, T0 + DAY + 2 * HOUR)
    again = scene.approve(scene.g1, T0 + DAY + 3 * HOUR)
    views = views_of(scene.entries)
    invalid = views.invalid()
    assert invalid[stranger.id].code is ReasonCode.NOT_A_GUARDIAN
    assert invalid[again.id].code is ReasonCode.ALREADY_APPROVED
    assert first.id not in invalid
    (outcome,) = recovery(views).of_identity(scene.owner.key)
    assert outcome.status == PENDING
    assert outcome.approvals == (first,)
    assert devices(views).identity(scene.new.key) == scene.new.key


def test_a_new_set_before_the_effect_cancels_the_request() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0 + DAY + HOUR)
    second = scene.approve(scene.g2, T0 + DAY + HOUR)
    renamed = scene.owner.write(
        RECOVERY_SET, set_body([scene.g3.key], 1, WAIT), at=second.timestamp + HOUR
    )
    scene.add(renamed)
    views = views_of(scene.entries)
    invalid = views.invalid()
    assert invalid[scene.request.id].code is ReasonCode.SET_REPLACED
    assert invalid[second.id].code is ReasonCode.NOT_A_RECOVERY_REQUEST
    assert devices(views).identity(scene.new.key) == scene.new.key
    assert recovery(views).sets[scene.owner.key][0] == renamed


def test_requests_judged_by_their_own_rules() -> None:
    scene = Scene()
    not_first = scene.new.write(RECOVERY_REQUEST, request_body(scene.owner.key))
    own = scene.stranger.write(RECOVERY_REQUEST, request_body(scene.stranger.key))
    loner = Author(37)
    loner.clock = T0
    early = loner.write(RECOVERY_REQUEST, request_body(scene.owner.key), at=T0)  # before the set
    unknown = Author(38).write(RECOVERY_REQUEST, request_body(Author(39).key))  # no set held
    absent = scene.g1.write(RECOVERY_APPROVE, approve_body(b"\x01" * 32, scene.new.key))
    wrong = scene.g1.write(RECOVERY_APPROVE, approve_body(scene.set.id, scene.owner.key))
    scene.add(not_first, own, early, unknown, absent, wrong)
    views = views_of(scene.entries)
    invalid = views.invalid()
    assert invalid[not_first.id].code is ReasonCode.REQUEST_NOT_FIRST
    assert invalid[own.id].code is ReasonCode.OWN_IDENTITY
    assert invalid[early.id].code is ReasonCode.NO_RECOVERY_SET
    assert invalid[wrong.id].code is ReasonCode.NOT_A_RECOVERY_REQUEST
    waiting = set(recovery(views).waiting)
    assert {unknown.id, absent.id} <= waiting
    assert unknown.id not in invalid


def test_a_veto_needs_an_active_device_of_the_identity() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0 + DAY + HOUR)
    scene.approve(scene.g2, T0 + DAY + HOUR)
    outsider = scene.stranger.write(RECOVERY_VETO, veto_body(scene.request.id), at=T0 + DAY + HOUR)
    scene.add(outsider)
    views = views_of(scene.entries)
    assert views.invalid()[outsider.id].code is ReasonCode.NOT_A_DEVICE
    assert devices(views).identity(scene.new.key) == scene.owner.key


def test_the_recovered_key_speaks_for_the_identity_afterwards() -> None:
    scene = Scene()
    scene.approve(scene.g1, T0 + DAY + HOUR)
    second = scene.approve(scene.g2, T0 + DAY + HOUR)
    after = second.timestamp + WAIT + HOUR
    idea = post_idea(scene.new, "back again", at=after)
    again = scene.new.write(RECOVERY_SET, set_body([scene.g1.key, scene.g3.key], 1, WAIT), at=after)
    scene.add(idea, again)
    views = views_of(scene.entries)
    assert idea.id not in views.invalid()
    assert recovery(views).sets[scene.owner.key][0] == again  # its set counts for the identity
    assert devices(views).identity(scene.new.key) == scene.owner.key


@st.composite
def recovery_history(draw: st.DrawFn) -> list[Entry]:
    """A guarded identity, one or two requests, approvals by anyone at any time, vetoes,
    new sets and entries of the old device around the effective moment."""
    scene = Scene()
    actors = [scene.g1, scene.g2, scene.g3, scene.stranger, scene.owner, scene.new]
    times = st.integers(T0, T0 + 2 * DAY + 2 * WAIT)
    second = Author(40)
    second.clock = T0
    if draw(st.booleans(), label="second request"):
        scene.add(second.write(RECOVERY_REQUEST, request_body(scene.owner.key), at=draw(times)))
    requests = [e for e in scene.entries if e.kind == RECOVERY_REQUEST]
    for _ in range(draw(st.integers(0, 8), label="steps")):
        who = draw(st.sampled_from(actors), label="who")
        target = draw(st.sampled_from(requests), label="request")
        at = draw(times, label="at")
        step = draw(st.sampled_from(["approve", "approve", "veto", "set", "idea"]), label="step")
        if step == "approve":
            scene.add(who.write(RECOVERY_APPROVE, approve_body(target.id, target.author), at=at))
        elif step == "veto":
            scene.add(who.write(RECOVERY_VETO, veto_body(target.id), at=at))
        elif step == "set":
            scene.add(who.write(RECOVERY_SET, set_body([scene.g1.key], 1, WAIT), at=at))
        else:
            scene.add(post_idea(who, "something", at=at))
    return scene.entries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), entries=recovery_history(), rng=st.randoms(use_true_random=False))
def test_recovery_histories_converge_in_any_order(
    data: st.DataObject, entries: list[Entry], rng: random.Random
) -> None:
    expected = rebuild(entries)
    causal = feed_order(data, entries)
    assert_same_views(incremental(causal, checkpoints(data, causal)), expected)
    shuffled = any_order(rng, entries, duplicates=2)
    assert_same_views(incremental(shuffled, checkpoints(data, shuffled)), expected)
    forest = devices(expected)
    for outcome in recovery(expected).requests.values():  # what "approved" means
        linked = forest.links.get(outcome.key)
        assert (outcome.status == APPROVED) == (linked is not None and linked.recovered)
