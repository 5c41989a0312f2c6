"""Write ``tests/vectors/views/views.json``: void and waiting entries of every kind, and digests.

Usage: ``.venv/bin/python scripts/gen_view_vectors.py`` from the repository root
(``make vectors``).

Deterministic (fixed keys and timestamps; Ed25519 signatures are
deterministic). ``tests/test_view_vectors.py`` checks that the committed file
equals what this script builds, that this implementation satisfies it in any
delivery order, and that every reason code of ``docs/protocol.md`` §8.7
appears in some scenario.

Each scenario is a set of signed entries (and the authors flagged as forked)
with, for every entry, whether the views count it (``valid``), ignore it
(``void``, with its reason code) or keep it waiting (``waiting``; in the
agreements view with its code and the ids it waits for), and for every
domain the exact digest input (deterministic CBOR, hex) and its SHA-256.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from samoorg.crdt.algorithms.money import Amount  # noqa: E402
from samoorg.crdt.framework.fields import amount_fields  # noqa: E402
from samoorg.crdt.framework.index import EntryIndex  # noqa: E402
from samoorg.crdt.framework.views import DOMAINS, Views  # noqa: E402
from samoorg.crdt.kinds.agreements import (  # noqa: E402
    AGREEMENT_ACCEPT,
    AGREEMENT_EDIT,
    AGREEMENT_NEW,
    version_hash,
)
from samoorg.crdt.kinds.devices import (  # noqa: E402
    DEVICE_ACCEPT,
    DEVICE_ADD,
    DEVICE_REVOKE,
    DevicesState,
)
from samoorg.crdt.kinds.devices import accept_body as device_accept_body  # noqa: E402
from samoorg.crdt.kinds.devices import add_body as device_add_body  # noqa: E402
from samoorg.crdt.kinds.devices import revoke_body as device_revoke_body  # noqa: E402
from samoorg.crdt.kinds.listings import DONE, LISTING, LISTING_EDIT, ListingFields  # noqa: E402
from samoorg.crdt.kinds.listings import REQUEST as WANT  # noqa: E402
from samoorg.crdt.kinds.orgs import ORG_ADMIN, ORG_JOIN, ORG_NEW, org_self_body  # noqa: E402
from samoorg.crdt.kinds.pledges import FULFIL, INITIATIVE_CLOSE, INTEND, REQUEST, REQUEST_CLOSE  # noqa: E402
from samoorg.crdt.kinds.profiles import PROFILE_KIND, profile_body  # noqa: E402
from samoorg.crdt.kinds.recovery import (  # noqa: E402
    RECOVERY_APPROVE,
    RECOVERY_REQUEST,
    RECOVERY_SET,
    RECOVERY_VETO,
    RecoveryState,
    approve_body,
    request_body,
    set_body,
    veto_body,
)
from samoorg.crdt.kinds.reviews import REVIEW, review_body  # noqa: E402
from samoorg.crdt.kinds.trust import CONFIRM, INVITE  # noqa: E402
from samoorg.protocol import dcbor  # noqa: E402
from samoorg.protocol.device_code import (  # noqa: E402
    device_one_time_key,
    sign_device_acceptance,
)
from samoorg.protocol.entry import Entry  # noqa: E402
from samoorg.protocol.ids import peer_id  # noqa: E402
from samoorg.protocol.invite_code import one_time_key  # noqa: E402
from tests.agreement_fixtures import create  # noqa: E402
from tests.community_fixtures import DAY, T0, Author, join  # noqa: E402
from tests.org_fixtures import Org  # noqa: E402
from tests.portal_fixtures import deal, edit, post, review  # noqa: E402
from tests.social_fixtures import (  # noqa: E402
    comment_on,
    open_poll,
    post_idea,
    rate_idea,
    rate_member,
    trusted_star,
    vote_on,
)

OUTPUT = ROOT / "tests" / "vectors" / "views" / "views.json"
ABSENT = b"\x01" * 32
"""An entry id no scenario holds (what waiting entries name)."""


def _authors(*numbers: int) -> list[Author]:
    found = [Author(n) for n in numbers]
    for author in found:
        author.clock = T0
    return found


def trust() -> tuple[list[Entry], dict[bytes, int]]:
    """Every trust rule: single use, revocation, expiry, proofs, confirmations, forks."""
    alice, bob, carol, dave, fred = _authors(1, 2, 3, 4, 6)
    s1, s2, s3 = b"\x11" * 16, b"\x12" * 16, b"\x13" * 16
    used = alice.invite(s1)
    won = bob.accept(used, s1)
    late = carol.accept(used, s1)  # invite-used
    entries = [used, won, late]
    entries += [
        alice.revoke(used),  # already-accepted
        alice.write(CONFIRM, {"invite": used.id, "invitee": bob.key}),  # counts
        alice.write(CONFIRM, {"invite": used.id, "invitee": carol.key}),  # wrong-invitee
        bob.write(CONFIRM, {"invite": used.id, "invitee": bob.key}),  # not-inviter-confirm
    ]
    revoked = alice.invite(s2)
    entries += [
        revoked,
        bob.accept(revoked, s3),  # bad-proof
        alice.accept(revoked, s2),  # own-invite
        carol.write(  # wrong-inviter
            "trust.accept",
            {**dict(won.body), "invite": revoked.id, "inviter": dave.key},
        ),
        bob.revoke(revoked),  # not-inviter-revoke
    ]
    revocation = alice.revoke(revoked)
    dave.clock = revocation.timestamp + 1000
    entries += [revocation, dave.accept(revoked, s2)]  # invite-revoked
    brief = alice.write(
        INVITE,
        {
            **amount_fields(Amount.parse("10", "EUR")),
            "expires": alice.clock + 2000,
            "key": one_time_key(s3),
        },
    )
    carol.clock = brief.timestamp + 10_000
    entries += [brief, carol.accept(brief, s3)]  # invite-expired
    broken = alice.write(INVITE, {"amount": 0, "currency": "EUR", "expires": 1, "key": b""})
    stale = alice.write(
        INVITE,
        {
            **amount_fields(Amount.parse("10", "EUR")),
            "expires": alice.clock - DAY,
            "key": one_time_key(s3),
        },
    )  # malformed: expires before it was created
    entries += [broken, stale, dave.write("trust.accept", {**dict(won.body), "invite": broken.id})]
    pending = alice.invite(b"\x14" * 16)
    entries += [
        pending,
        alice.write(CONFIRM, {"invite": pending.id, "invitee": dave.key}),  # waits
        dave.write("trust.accept", {**dict(won.body), "invite": ABSENT}),  # waits
        dave.write("trust.revoke", {"invite": ABSENT}),  # waits
        dave.write("trust.accept", {"invite": used.id}),  # malformed
    ]
    kept_invite = fred.invite(b"\x16" * 16)  # seq 1: before fred's cut, stays valid
    forked_invite = fred.invite(b"\x15" * 16)  # seq 2: at the cut, void (forked-author)
    entries += [kept_invite, dave.accept(kept_invite, b"\x16" * 16)]  # valid: an edge remains
    entries += [forked_invite, dave.accept(forked_invite, b"\x15" * 16)]  # forked-inviter
    return entries, {fred.key: 2}


def pledges() -> tuple[list[Entry], list[bytes]]:
    """Every pledge rule: targets, the author's ops in seq order, closings."""
    alice, bob, carol, dave = _authors(1, 2, 3, 4)
    request = bob.request("100")
    initiative = carol.initiative("500", deadline=T0 + 30_000)
    broken = bob.write(REQUEST, {"amount": 1, "currency": "XYZ", "reason": "x"})
    pledge = alice.intend("50", request=request.id)
    commit = alice.commit(pledge)
    foreign = dave.commit(pledge)  # not-pledger
    entries = [request, initiative, broken, pledge, commit, foreign]
    entries += [
        bob.close(pledge, commit),  # fulfils
        bob.close(pledge, commit, forgive=True),  # already-closed
        carol.close(pledge, commit),  # not-beneficiary
        bob.close(pledge, foreign),  # not-the-commitment
        alice.revise(pledge, 10),  # pledge-committed
        bob.write(FULFIL, {"pledge": pledge.id, "commitment": ABSENT}),  # waits for it
    ]
    withdrawn = alice.intend("5", to=carol.key)
    entries += [withdrawn, alice.withdraw(withdrawn), alice.commit(withdrawn)]  # pledge-withdrawn
    early = alice.intend("5", to=dave.key)
    entries += [early, alice.commit(early, due=T0)]  # due-before-commit
    void_target = alice.intend("5", request=broken.id)  # invalid-target
    entries += [
        alice.intend("5", to=alice.key),  # self-pledge
        bob.intend("5", request=request.id),  # own-target
        alice.intend("5", "USD", initiative=initiative.id),  # currency-mismatch
        alice.intend("5", initiative=request.id),  # wrong-target-kind
        void_target,
        alice.revise(void_target, 1),  # invalid-intention
    ]
    dave.clock = T0 + 60_000
    malformed = dave.write(INTEND, {"amount": 5, "currency": "EUR"})  # malformed: no target
    entries += [
        dave.intend("5", initiative=initiative.id),  # initiative-closed
        malformed,
        dave.revise(malformed, 1),  # invalid-intention
        dave.intend("5", request=ABSENT),  # waits for its request
        dave.write("pledge.withdraw", {"pledge": ABSENT}),  # waits for its intention
    ]
    return entries + _closings(alice, carol, dave, pledge, broken, initiative), []


def _closings(
    alice: Author, carol: Author, dave: Author, pledge: Entry, broken: Entry, initiative: Entry
) -> list[Entry]:
    """Closing requests and initiatives (§8.5 rule 6): every code, and closings that wait."""
    (erin,) = _authors(5)
    shut = erin.request("80")
    kept = alice.intend("20", request=shut.id, at=T0 + 70_000)
    released = carol.intend("10", request=shut.id, at=T0 + 72_000)
    entries = [
        shut,
        kept,
        alice.commit(kept, at=T0 + 71_000),  # made before the closing: stays committed
        released,
    ]
    late = dave.intend("10", request=shut.id, at=T0 + 73_000)
    entries += [
        late,
        erin.write(INITIATIVE_CLOSE, {"initiative": shut.id}, T0 + 79_000),  # close-wrong-kind
        erin.close_appeal(shut, at=T0 + 80_000, note="met elsewhere"),  # closes it
        erin.close_appeal(shut, at=T0 + 81_000),  # close-again
        alice.close_appeal(shut, at=T0 + 82_000),  # close-not-author
        dave.commit(late, due=T0, at=T0 + 89_000),  # due-before-commit comes first
        dave.commit(late, at=T0 + 90_000),  # commit-after-close; the pledge is released
        carol.revise(released, 700),  # counts: a released pledge's amount is 700
    ]
    after = carol.intend("5", request=shut.id, at=T0 + 90_000)  # intend-after-close
    entries += [
        after,
        carol.revise(after, 1),  # invalid-intention
        dave.close_appeal(broken, at=T0 + 91_000),  # close-invalid-target
        dave.write(INITIATIVE_CLOSE, {"initiative": broken.id}),  # close-invalid-target too
        # closes the initiative after its deadline: its pledges stay void as they were
        carol.close_appeal(initiative, at=T0 + 40_000),
        erin.write(REQUEST_CLOSE, {"request": ABSENT}),  # waits for its request
        erin.write(INITIATIVE_CLOSE, {"initiative": pledge.id}),  # waits: not an initiative
    ]
    return entries


def social() -> tuple[list[Entry], list[bytes]]:
    """Forum, ratings and polls: malformed bodies, wrong targets, missing targets."""
    alice, bob, carol = _authors(1, 2, 3)
    idea = post_idea(alice, "A bench in the park")
    poll = open_poll(alice, "Who speaks?", ["Bob", "Carol"], closes=T0 + 20_000)
    bob.clock = carol.clock = T0 + 5000
    entries = [
        idea,
        poll,
        alice.write("forum.idea", {"title": "two\nlines"}),  # malformed
        comment_on(bob, idea, "Yes"),
        comment_on(bob, poll, "Which?"),  # not-an-idea
        bob.write("forum.comment", {"on": ABSENT, "text": "Waiting"}),  # waits
        bob.write("forum.comment", {"on": idea.id, "text": " "}),  # malformed
        rate_member(bob, carol, 4),
        rate_member(bob, bob, 5),  # self-rating
        rate_idea(alice, idea, 5),  # own-idea-rating
        rate_idea(bob, poll, 3),  # not-an-idea
        bob.write("rating", {"about": "idea", "subject": ABSENT, "score": 2}),  # waits
        rate_member(carol, bob, 9),  # malformed
        vote_on(bob, poll, 0),
        vote_on(carol, poll, 5),  # no-such-option
        vote_on(carol, poll, 1, at=T0 + 20_000),  # poll-closed
        vote_on(carol, idea, 0),  # not-a-poll
        carol.write("poll.vote", {"poll": ABSENT, "option": 0}),  # waits
        carol.write("poll.vote", {"poll": poll.id}),  # malformed
        alice.write("poll.new", {"question": "Only one?", "options": ["yes"]}),  # malformed
    ]
    return entries, []


def devices() -> tuple[list[Entry], list[bytes]]:
    """Device links, a used code, bad acceptances, revocations and what a revoked device wrote."""
    laptop, phone, tablet, stranger, other, late = _authors(11, 12, 13, 14, 15, 16)
    s1, s2 = b"\x21" * 16, b"\x22" * 16
    add = laptop.write(DEVICE_ADD, device_add_body(device_one_time_key(s1)))
    unused = laptop.write(DEVICE_ADD, device_add_body(device_one_time_key(s2)))  # waits
    joined = phone.write(
        DEVICE_ACCEPT, device_accept_body(add.id, sign_device_acceptance(s1, add.id, phone.key))
    )
    tablet.clock = phone.clock + DAY  # later: the code was used already
    used = tablet.write(
        DEVICE_ACCEPT, device_accept_body(add.id, sign_device_acceptance(s1, add.id, tablet.key))
    )
    entries = [add, unused, joined, used]
    entries += [
        phone.write(DEVICE_ACCEPT, device_accept_body(add.id, bytes(64))),  # accept-not-first
        stranger.write(DEVICE_ACCEPT, device_accept_body(add.id, bytes(64))),  # device-bad-proof
        other.write(DEVICE_ACCEPT, device_accept_body(joined.id, bytes(64))),  # not-a-device-add
        late.write(DEVICE_ACCEPT, device_accept_body(ABSENT, bytes(64))),  # waits
        phone.write(DEVICE_REVOKE, device_revoke_body(phone.key, 9)),  # self-revoke
        stranger.write(DEVICE_REVOKE, device_revoke_body(laptop.key, 1)),  # other-identity
    ]
    laptop.clock = phone.clock + DAY
    stolen = post_idea(phone, "sold my bike")  # phone seq 4: revoked from here
    entries += [laptop.write(DEVICE_REVOKE, device_revoke_body(phone.key, stolen.seq)), stolen]
    phone.clock = laptop.clock + DAY  # the thief's revoke comes after the owner's
    entries += [
        phone.write(DEVICE_ADD, device_add_body(device_one_time_key(s2))),  # revoked-device
        phone.write(DEVICE_REVOKE, device_revoke_body(laptop.key, 1)),  # revoked-device
    ]
    return entries, []


def _approval(request: Entry) -> dict[str, Any]:
    return approve_body(request.id, request.author)


def recovery() -> tuple[list[Entry], list[bytes]]:
    """A recovery by 2 of 3 guardians, a vetoed one, a replaced set and every void code."""
    owner, g1, g2, g3, new, stranger = _authors(41, 42, 43, 44, 45, 46)
    other, vetoed, thief, loner, nobody = _authors(47, 48, 49, 50, 51)
    hour, wait = 3_600_000, 72 * 3_600_000
    guardians = [g1.key, g2.key, g3.key]
    entries = [owner.write(RECOVERY_SET, set_body(guardians, 2, wait))]
    entries.append(owner.write(RECOVERY_SET, {"guardians": [], "threshold": 1, "wait": 0}))
    entries.append(other.write(RECOVERY_SET, set_body([g1.key], 1, wait)))
    new.clock = vetoed.clock = loner.clock = nobody.clock = owner.clock + DAY
    request = new.write(RECOVERY_REQUEST, request_body(owner.key))
    entries += [
        request,
        new.write(RECOVERY_REQUEST, request_body(owner.key)),  # request-not-first
        stranger.write(RECOVERY_REQUEST, request_body(stranger.key)),  # own-identity
        loner.write(RECOVERY_REQUEST, request_body(g3.key)),  # waits: g3 named no guardians
    ]
    nobody.clock = T0
    entries.append(nobody.write(RECOVERY_REQUEST, request_body(other.key)))  # no-recovery-set
    g1.clock = g2.clock = g3.clock = stranger.clock = request.timestamp + hour
    first = g1.write(RECOVERY_APPROVE, _approval(request))
    second = g2.write(RECOVERY_APPROVE, _approval(request))
    effective = second.timestamp + wait
    entries += [
        first,
        second,
        g1.write(RECOVERY_APPROVE, _approval(request)),  # already-approved
        stranger.write(RECOVERY_APPROVE, _approval(request)),  # not-a-guardian
        stranger.write(RECOVERY_VETO, veto_body(request.id)),  # not-a-device
        g3.write(RECOVERY_APPROVE, approve_body(ABSENT, new.key)),  # waits
        g3.write(RECOVERY_APPROVE, approve_body(entries[0].id, owner.key)),  # not a request
        g3.write(RECOVERY_APPROVE, approve_body(request.id, stranger.key)),  # wrong-requester
        g3.write(RECOVERY_APPROVE, _approval(request)),  # counts, too late to matter
    ]
    owner.clock = effective
    entries.append(owner.write(RECOVERY_VETO, veto_body(request.id)))  # revoked-device
    new.clock = effective
    entries.append(new.write(RECOVERY_VETO, veto_body(request.id)))  # veto-too-late
    # A request for the other identity, vetoed inside its wait by its own device.
    vetoed.clock = other.clock + hour
    asked = vetoed.write(RECOVERY_REQUEST, request_body(other.key))
    g1.clock = asked.timestamp + hour
    entries += [asked, g1.write(RECOVERY_APPROVE, _approval(asked))]
    other.clock = g1.clock + hour
    entries.append(other.write(RECOVERY_VETO, veto_body(asked.id)))
    # A request answered by a new set of the identity before it took effect: set-replaced.
    replaced = thief.write(RECOVERY_REQUEST, request_body(other.key), at=other.clock + hour)
    at = replaced.timestamp + hour
    entries += [
        replaced,
        g1.write(RECOVERY_APPROVE, _approval(replaced), at=at),
    ]
    entries.append(other.write(RECOVERY_SET, set_body([g2.key], 1, wait), at=at + hour))
    return entries, []


def agreements() -> tuple[list[Entry], list[bytes]]:
    """Malformed and refused changes, what depends on them, waiting entries, acceptances."""
    alice, bob, carol = _authors(1, 2, 3)
    root = create(alice, "abc")
    doc = root[0].id

    def change(author: Author, deps: Sequence[bytes], ops: list[dcbor.Value]) -> Entry:
        body = {"agreement": doc, "deps": sorted(deps), "refs": [doc], "ops": ops}
        return author.write(AGREEMENT_EDIT, body)  # type: ignore[arg-type]

    broken = change(bob, [doc], [])  # malformed: no operations
    entries = [*root, broken]
    entries += [
        change(carol, [broken.id], [[0, None, None, "x"]]),  # depends-on-void
        change(bob, [doc], [[1, [1, 2], 5]]),  # unknown-character
        change(bob, [doc], [[0, [1, 0], [1, 0], "x"]]),  # same-origins
        change(bob, [doc], [[0, [1, 2], [1, 0], "x"]]),  # origins-out-of-order
        change(carol, [ABSENT], [[0, None, None, "y"]]),  # waits for ABSENT
        bob.write(
            AGREEMENT_ACCEPT,
            {"agreement": doc, "heads": [doc], "version": version_hash(doc, "abd")},
        ),  # version-mismatch
        carol.write(
            AGREEMENT_ACCEPT,
            {"agreement": doc, "heads": [doc], "version": version_hash(doc, "abc")},
        ),  # counts, current
        bob.write(
            AGREEMENT_EDIT,
            {"agreement": ABSENT, "deps": [ABSENT], "refs": [], "ops": [[0, None, None, "z"]]},
        ),  # waits for its agreement
        bob.write(
            AGREEMENT_ACCEPT, {"agreement": b"\x02" * 31, "heads": [doc], "version": bytes(32)}
        ),  # malformed
    ]
    void_root = carol.write(
        AGREEMENT_NEW, {"title": "", "ops": [[0, None, None, "t"]]}
    )  # malformed
    entries += [
        void_root,
        alice.write(
            AGREEMENT_EDIT,
            {
                "agreement": void_root.id,
                "deps": [void_root.id],
                "refs": [],
                "ops": [[0, None, None, "u"]],
            },
        ),  # invalid-agreement
    ]
    return entries, []


def _cuts(forked: Sequence[bytes] | Mapping[bytes, int]) -> dict[bytes, int]:
    return dict(forked) if isinstance(forked, Mapping) else dict.fromkeys(forked, 1)


def profiles() -> tuple[list[Entry], list[bytes]]:
    """Profiles (§8.12): the latest well-formed one per author counts; malformed ones are void."""
    alice, bob, carol = _authors(1, 2, 3)
    entries = [
        alice.write(PROFILE_KIND, profile_body("Alice", "baker", [("email", "alice@example.org")])),
        # Alice's latest: counts, and replaces the whole first profile.
        alice.write(PROFILE_KIND, profile_body("Alice", status="urgent", message="flooded")),
        # Later but malformed (unknown status): void, Alice's second profile keeps counting.
        alice.write(PROFILE_KIND, {"name": "Alice", "status": "sad"}),
        bob.write(PROFILE_KIND, profile_body("alice", contacts=[("telegram", "@bob")])),
        bob.write(PROFILE_KIND, {"name": ""}),  # malformed: blank name
        bob.write(PROFILE_KIND, {"name": "Bob", "contacts": [["fax", "1"]]}),  # malformed
        carol.write(PROFILE_KIND, {"name": "two\nlines"}),  # malformed: not plain
        carol.write(PROFILE_KIND, {"name": "x" * 65}),  # malformed: too long
        carol.write(PROFILE_KIND, {"name": peer_id(carol.key)}),  # malformed: a peer id
        carol.write(PROFILE_KIND, profile_body("Carol", status="support")),
    ]
    return entries, []


def portal() -> tuple[list[Entry], list[bytes]]:
    """Every listing and review rule: edits by the author only, one review per party."""
    alice, bob, carol, dave = _authors(1, 2, 3, 4)
    lessons = post(alice)
    wanted = post(bob, side=WANT, title="Looking for guitar lessons", geohash="ud1h")
    pledge_free = dave.write(LISTING, {"side": "offer"})  # malformed
    entries = [lessons, wanted, pledge_free]
    entries += [
        edit(alice, lessons, quantity=5),  # replaced by the next edit
        edit(alice, lessons, quantity=4),  # wins (highest seq)
        edit(carol, lessons, status=DONE),  # not-listing-author
        edit(bob, wanted, status=DONE),  # valid: bob closes his request
        alice.write(LISTING, {"side": "offer", "title": "x", "tags": ["music"]}),  # malformed
        alice.write(LISTING_EDIT, {"listing": lessons.id, "title": "x"}),  # malformed
        alice.write(LISTING_EDIT, {**lessons.body, "listing": ABSENT}),  # waits for it
        alice.write(LISTING_EDIT, {**lessons.body, "listing": wanted.id}),  # not-listing-author
        alice.write(LISTING_EDIT, {**lessons.body, "listing": pledge_free.id}),  # not-a-listing
    ]
    pledge, commit, fulfil = deal(bob, alice, lessons)
    entries += [pledge, commit, fulfil]
    entries += [
        review(bob, pledge, commit, 5, "patient teacher"),  # valid
        review(alice, pledge, commit, 4),  # valid
        review(bob, pledge, commit, 1),  # review-again
        review(carol, pledge, commit, 1),  # review-not-party
        review(bob, pledge, fulfil, 3),  # review-wrong-commitment
        bob.write(REVIEW, {"pledge": pledge.id, "commitment": commit.id, "rating": 9}),  # malformed
    ]
    open_pledge = dave.write(
        INTEND, {"to": alice.key, "amount": 100, "currency": "EUR", "listing": lessons.id}
    )
    open_commit = dave.commit(open_pledge)
    entries += [
        open_pledge,
        open_commit,
        review(dave, open_pledge, open_commit, 2),
    ]  # not-fulfilled
    plain, plain_commit, plain_fulfil = _plain_deal(carol, alice)
    entries += [
        plain,
        plain_commit,
        plain_fulfil,
        review(carol, plain, plain_commit, 3),
    ]  # no-listing
    strangers = dave.write(
        INTEND, {"to": carol.key, "amount": 100, "currency": "EUR", "listing": lessons.id}
    )
    s_commit = dave.commit(strangers)
    s_fulfil = carol.close(strangers, s_commit)
    entries += [strangers, s_commit, s_fulfil, review(dave, strangers, s_commit, 5)]  # no-listing
    waits = dave.write(REVIEW, review_body(ABSENT, open_commit.id, 4))  # waits for its pledge
    return [*entries, waits], []


def orgs() -> tuple[list[Entry], list[bytes]]:
    """Every org rule (§8.14): admins, mutual membership, the last admin, listings for an org."""
    alice, bob, carol, dave = _authors(1, 2, 3, 4)
    org = Org(alice, "Bakers")
    org.edit(bob, "Hijacked")  # org-not-admin
    org.join(carol)  # carol asks first
    org.invite(alice, bob)
    org.invite(alice, bob)  # org-no-change
    org.join(bob)  # bob is a member
    org.admin(alice, carol)  # org-not-member: carol is asking, not invited
    org.invite(alice, carol)  # carol is a member
    org.admin(alice, bob)  # bob is an admin
    org.edit(bob, "Bakers United")  # counts: the current name
    org.leave(dave)  # org-not-member
    org.remove(carol, bob)  # org-not-admin
    org.leave(carol)
    org.admin(bob, alice, grant=False)  # alice is no longer an admin
    org.admin(bob, bob, grant=False)  # org-last-admin
    org.leave(bob)  # org-last-admin
    listing = LISTING, ListingFields("offer", "Bread", ("food",), org=org.new.id).body()
    counted = org.write(alice, *listing)  # alice is a member: counts for the org
    org.write(carol, *listing)  # carol left: a valid listing, without the org
    early = dave.write(ORG_JOIN, org_self_body(org.new.id), at=org.new.timestamp - 1)
    no_org = dave.write(ORG_JOIN, org_self_body(counted.id))  # not-an-org
    waits = dave.write(ORG_ADMIN, {"org": ABSENT, "member": dave.key, "admin": True})
    broken = dave.write(ORG_NEW, {"name": "two\nlines"})  # malformed
    return [*org.entries, early, no_org, waits, broken], []


def identities() -> tuple[list[Entry], list[bytes]]:
    """Views per identity (§8.11.1): a laptop and a phone of one person count as one."""
    laptop, phone, cleo, dan = _authors(21, 22, 23, 24)
    entries = join(laptop, phone, b"\x31" * 16)
    entries += trusted_star(cleo, [laptop])  # Cleo and the laptop's identity
    entries += trusted_star(phone, [dan])  # the phone invites Dan: one chain through one person
    gift = phone.intend("20", to=cleo.key)
    kept = laptop.commit(gift)  # committed from the other device of the pledger
    entries += [gift, kept, cleo.close(gift, kept)]  # fulfilled
    debt = laptop.intend("7", to=dan.key)
    entries += [debt, phone.commit(debt)]  # outstanding: debtor is the identity
    entries += [phone.intend("1", to=laptop.key)]  # self-pledge
    phone.clock = laptop.clock = max(phone.clock, laptop.clock)
    entries += [rate_member(laptop, cleo, 2), rate_member(phone, cleo, 5)]  # the phone's counts
    entries += [rate_member(phone, laptop, 5)]  # self-rating
    poll = open_poll(cleo, "bread or soup?", ["bread", "soup"])
    laptop.clock = phone.clock = max(phone.clock, laptop.clock, cleo.clock)
    entries += [poll, vote_on(laptop, poll, 0), vote_on(phone, poll, 1)]  # one vote: soup
    entries += [laptop.write(PROFILE_KIND, profile_body("Ana"))]
    entries += [phone.write(PROFILE_KIND, profile_body("Ana P"))]  # later: counts
    lessons = post(laptop)
    entries += [lessons, edit(phone, lessons, quantity=2)]  # the other device edits it
    return entries, []


def _plain_deal(payer: Any, payee: Any) -> tuple[Entry, Entry, Entry]:
    pledge = payer.intend("1", to=payee.key)
    commit = payer.commit(pledge)
    return pledge, commit, payee.close(pledge, commit)


SCENARIOS = {
    "trust": trust,
    "pledges": pledges,
    "social": social,
    "devices": devices,
    "recovery": recovery,
    "agreements": agreements,
    "profiles": profiles,
    "portal": portal,
    "orgs": orgs,
    "identities": identities,
}


def expected(
    entries: Sequence[Entry], forked: Sequence[bytes] | Mapping[bytes, int]
) -> dict[str, Any]:
    """What every node holding ``entries`` (and the fork proofs of ``forked``) derives."""
    views = Views(EntryIndex(entries, forked))
    invalid = views.invalid()
    waiting_ids: set[bytes] = set()
    for outcome in views.trust.outcomes():
        waiting_ids.update(outcome.waiting)
    for pledge in views.pledges.pledges():
        waiting_ids.update(pledge.waiting)
    waiting_ids.update(views.pledges.waiting_closings())
    waiting_ids.update(c.id for c in views.forum.view().pending)
    waiting_ids.update(r.entry_id for r in views.ratings.view().pending)
    waiting_ids.update(v.id for v in views.polls.view().pending)
    waiting_ids.update(views.domain(DevicesState).view().waiting)
    waiting_ids.update(views.domain(RecoveryState).view().waiting)
    waiting_ids.update(views.listings.waiting())
    waiting_ids.update(views.reviews.waiting())
    waiting_ids.update(views.orgs.waiting())
    pending = views.agreements.pending()
    statuses: dict[str, Any] = {}
    for entry in entries:
        if entry.id in invalid:
            status: Any = ["void", invalid[entry.id].code.value]
        elif entry.id in pending:
            reason = pending[entry.id]
            status = ["waiting", reason.code.value, [i.hex() for i in reason.ids]]
        elif entry.id in waiting_ids:
            status = ["waiting"]
        else:
            status = ["valid"]
        statuses[entry.id.hex()] = status
    digests: dict[str, Any] = {}
    for cls in DOMAINS:
        domain = views.domain(cls)
        digests[cls.name] = {
            "input": dcbor.encode(domain.digest_input()).hex(),
            "digest": domain.digest(),
        }
    return {"entries": statuses, "digests": digests}


def build() -> dict[str, Any]:
    """The whole vector file as a JSON-able dict."""
    scenarios: list[dict[str, Any]] = []
    for name, make in SCENARIOS.items():
        entries, forked = make()
        scenarios.append(
            {
                "name": name,
                "entries": [e.raw.hex() for e in entries],
                "forked": {k.hex(): c for k, c in sorted(_cuts(forked).items())},
                "expected": expected(entries, forked),
            }
        )
    return {
        "description": "Void and waiting entries of every kind and the state digests of every "
        "view (docs/protocol.md sections 8.1, 8.7).",
        "conventions": {
            "bytes": "byte strings are lowercase hex; entries are whole signed entries (§2)",
            "forked": "{author key: cut} of the authors flagged by a verified fork proof "
            "(§4.3, §4.4: their entries from seq cut on are void); no proof is included",
            "status": "per entry id: ['valid'], ['void', code], ['waiting'] or, in the "
            "agreements view, ['waiting', code, [ids waited for]]",
            "digests": "per domain: 'input' is dcbor([name, state, [[forked key, cut], ...]]) "
            "and 'digest' its SHA-256 (§8.7)",
            "order": "every delivery order of 'entries' must give 'expected'",
        },
        "scenarios": scenarios,
    }


def main() -> None:
    """Write the vector file."""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
