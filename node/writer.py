"""The one write path for records the views judge: CLI, daemon, API all sign through here.

Usage::

    writer = Writer(store, live, signer)       # live: node.checkpoint.StoreViews
    entry = writer.write("forum.idea", body)   # or RuleViolation(reason); nothing stored
    made = writer.write_chain(build, kinds=AGREEMENT_KINDS)

Theory of operation. :meth:`Writer.write_chain` opens the store's write
transaction on our own feed (:meth:`Store.own_feed
<samoorg.node.store.Store.own_feed>`, ``BEGIN IMMEDIATE``) and, inside it:

1. applies to the views every entry stored since they were last brought up to
   date (by the daemon, another command, a sync): no other process can store
   anything until we commit, so the check below sees the final state;
2. signs the new entries on top of the stored head (never a seq another
   writer used: two processes can neither fork our feed nor both pass a check
   that only one may pass, such as accepting the same invite twice);
3. adds them to the views as a trial (:meth:`Views.trial
   <samoorg.crdt.framework.views.Views.trial>`) and asks each domain that owns their
   kinds for its reason to ignore them (for agreements also the reason an edit
   would wait, ``pending``);
4. on a reason, raises :class:`~samoorg.crdt.framework.errors.RuleViolation` with it: the
   transaction rolls back and the trial is retracted, so a refused record
   leaves no trace in the store or the views; otherwise the transaction
   commits and the views keep the entries.

The CLI and a peer therefore apply exactly the same rules, and a refusal's
message is the reason ``samoorg log --invalid`` would show for that entry.
Domains are brought up to date *before* the transaction, so the lock is held
only for the entries that arrived meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.exclusion import REVOKED_REASON
from samoorg.crdt.framework.reasons import Reason
from samoorg.crdt.framework.views import DOMAINS, Views
from samoorg.crdt.kinds.agreements import AgreementState

if TYPE_CHECKING:
    from samoorg.crdt.framework.domain import Domain
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.store import Store
    from samoorg.protocol import dcbor
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.entry import Entry

Step = tuple[str, Mapping[str, "dcbor.Value"]]


def owners(kinds: Sequence[str]) -> list[type[Domain]]:
    """The domains that judge entries of ``kinds``, in :data:`DOMAINS` order."""
    return [cls for cls in DOMAINS if any(kind in cls.kinds for kind in kinds)]


def refusal(views: Views, made: Sequence[Entry]) -> Reason | None:
    """The first reason a domain gives to ignore one of ``made`` (held in ``views``)."""
    found: dict[bytes, Reason] = {}
    for cls in owners([entry.kind for entry in made]):
        domain = views.domain(cls)
        found.update(domain.invalid())
        if isinstance(domain, AgreementState):
            found.update(domain.pending())
    revoked = views.revoked()  # a revoked device writes nothing that counts (§8.11)
    for entry in made:
        reason = found.get(entry.id)
        cut = revoked.get(entry.author, entry.seq + 1)
        if reason is None and entry.seq >= cut:
            reason = Reason(REVOKED_REASON.code, _revoked_text(views, entry.author, cut))
        if reason is not None:
            return reason
    return None


def _check_recovered(views: Views, key: bytes, kinds: Sequence[str], timestamp: int | None) -> None:
    """Refuse to write for an identity our key recovered before the recovery takes effect.

    Views have no clock, so they already count such a key as a device (§8.13);
    a device of the identity may still veto until then, which would void what
    the key wrote as the identity. Recovery records themselves may be written.
    """
    from samoorg.crdt.framework.reasons import utc
    from samoorg.crdt.kinds.devices import DevicesState
    from samoorg.crdt.kinds.recovery import RECOVERY_KINDS, RECOVERY_REQUEST, RecoveryState
    from samoorg.node.errors import StoreError
    from samoorg.node.store import now_ms

    if not views.index.of_kind(RECOVERY_REQUEST) or all(k in RECOVERY_KINDS for k in kinds):
        return
    link = views.domain(DevicesState).view().links.get(key)
    if link is None or not link.recovered:
        return
    outcome = views.domain(RecoveryState).view().requests.get(link.add.id)
    at = now_ms() if timestamp is None else timestamp
    if outcome is not None and outcome.effective is not None and at < outcome.effective:
        raise StoreError(
            f"your recovery takes effect at {utc(outcome.effective)}: until then a device of "
            "the identity may still veto it, so this key writes nothing yet (try again then)"
        )


def _revoked_text(views: Views, key: bytes, cut: int) -> str:
    from samoorg.crdt.kinds.devices import DevicesState
    from samoorg.crdt.kinds.recovery import RECOVERY_REQUEST

    by = views.domain(DevicesState).view().revoked_by.get(key)
    if by is not None and by.kind == RECOVERY_REQUEST:
        return (
            f"your guardians recovered your identity on a new key (request {by.id.hex()[:16]}): "
            f"this device is revoked from entry {cut} on and nothing it writes counts"
        )
    return (
        f"this device was revoked from entry {cut} on by another device of your "
        "identity: nothing it writes counts (write from another device)"
    )


class Writer:
    """Signs records of our own feed after the views accept them (see the module docstring)."""

    def __init__(self, store: Store, live: StoreViews, signer: Signer) -> None:
        self.store = store
        self.live = live
        self.signer = signer

    def write(
        self, kind: str, body: Mapping[str, dcbor.Value], *, timestamp: int | None = None
    ) -> Entry:
        """Sign and store one record, or raise :class:`RuleViolation` and store nothing."""
        (entry,) = self.write_chain(
            lambda made: None if made else (kind, body), kinds=(kind,), timestamp=timestamp
        )
        return entry

    def write_chain(
        self,
        build: Callable[[Sequence[Entry]], Step | None],
        *,
        kinds: Sequence[str],
        timestamp: int | None = None,
    ) -> list[Entry]:
        """Sign consecutive records: all of them, or none if a view refuses any.

        ``build(made)`` returns the next ``(kind, body)`` given the entries
        signed so far (so a body can name an earlier one's id), or ``None``
        to stop; ``kinds`` are the kinds it may return (their domains are
        brought up to date before the store is locked).
        """
        live, views = self.live, self.live.views
        live.catch_up()
        _check_recovered(views, self.signer.public_key, kinds, timestamp)
        for cls in owners(kinds):
            views.domain(cls).invalid()
        with views.trial() as trial:
            with self.store.own_feed(self.signer) as feed:
                live.catch_up()
                while (step := build(feed.made)) is not None:
                    feed.sign(*step, timestamp=timestamp)
                trial.add(feed.made)
                reason = refusal(views, feed.made)
                if reason is not None:
                    raise RuleViolation(reason.text, reason.code)
            trial.keep()
        live.catch_up()  # moves past our own rows (already in the views)
        return feed.made
