"""Why a view ignores an entry, or what it waits for: a stable code plus human text.

Theory of operation. Every void or waiting entry a view keeps carries a
:class:`Reason`: a :class:`ReasonCode` (the enumerated, stable part that
state digests hash, listed per kind in ``docs/protocol.md`` §8.7), the ids
the reason names for the digest (only waiting agreement entries name some:
what they wait for), and a human sentence for ``samoorg log --invalid`` and
the CLI. Rewording the sentence never changes a digest; changing a code
does, so codes are part of the protocol and never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, unique

from samoorg.protocol import dcbor


@unique
class ReasonCode(Enum):
    """Every reason a view gives; the value is the text hashed into state digests."""

    # any kind
    MALFORMED = "malformed"
    FORKED_AUTHOR = "forked-author"
    # trust (§8.3)
    FORKED_INVITER = "forked-inviter"
    INVALID_INVITE = "invalid-invite"
    NOT_INVITER_REVOKE = "not-inviter-revoke"
    OWN_INVITE = "own-invite"
    WRONG_INVITER = "wrong-inviter"
    BAD_PROOF = "bad-proof"
    INVITE_EXPIRED = "invite-expired"
    INVITE_REVOKED = "invite-revoked"
    INVITE_USED = "invite-used"
    ALREADY_ACCEPTED = "already-accepted"
    NOT_INVITER_CONFIRM = "not-inviter-confirm"
    WRONG_INVITEE = "wrong-invitee"
    # pledges (§8.5)
    SELF_PLEDGE = "self-pledge"
    INVALID_TARGET = "invalid-target"
    WRONG_TARGET_KIND = "wrong-target-kind"
    OWN_TARGET = "own-target"
    CURRENCY_MISMATCH = "currency-mismatch"
    INITIATIVE_CLOSED = "initiative-closed"
    INVALID_INTENTION = "invalid-intention"
    NOT_PLEDGER = "not-pledger"
    PLEDGE_WITHDRAWN = "pledge-withdrawn"
    PLEDGE_COMMITTED = "pledge-committed"
    DUE_BEFORE_COMMIT = "due-before-commit"
    NOT_BENEFICIARY = "not-beneficiary"
    NOT_THE_COMMITMENT = "not-the-commitment"
    ALREADY_CLOSED = "already-closed"
    CLOSE_INVALID_TARGET = "close-invalid-target"
    CLOSE_WRONG_KIND = "close-wrong-kind"
    CLOSE_NOT_AUTHOR = "close-not-author"
    CLOSE_AGAIN = "close-again"
    INTEND_AFTER_CLOSE = "intend-after-close"
    COMMIT_AFTER_CLOSE = "commit-after-close"
    # forum, ratings, polls (§8.8)
    NOT_AN_IDEA = "not-an-idea"
    SELF_RATING = "self-rating"
    OWN_IDEA_RATING = "own-idea-rating"
    NOT_A_POLL = "not-a-poll"
    NO_SUCH_OPTION = "no-such-option"
    POLL_CLOSED = "poll-closed"
    # agreements (§8.9)
    INVALID_AGREEMENT = "invalid-agreement"
    DEPENDS_ON_VOID = "depends-on-void"
    UNKNOWN_CHARACTER = "unknown-character"
    SAME_ORIGINS = "same-origins"
    ORIGINS_OUT_OF_ORDER = "origins-out-of-order"
    VERSION_MISMATCH = "version-mismatch"
    WAITING_AGREEMENT = "waiting-agreement"
    WAITING_DEPENDENCIES = "waiting-dependencies"
    # listings and reviews (§8.10)
    NOT_A_LISTING = "not-a-listing"
    NOT_LISTING_AUTHOR = "not-listing-author"
    REVIEW_NOT_FULFILLED = "review-not-fulfilled"
    REVIEW_WRONG_COMMITMENT = "review-wrong-commitment"
    REVIEW_NO_LISTING = "review-no-listing"
    REVIEW_NOT_PARTY = "review-not-party"
    REVIEW_AGAIN = "review-again"
    # devices (§8.11)
    ACCEPT_NOT_FIRST = "accept-not-first"
    NOT_A_DEVICE_ADD = "not-a-device-add"
    DEVICE_BAD_PROOF = "device-bad-proof"
    DEVICE_CODE_USED = "device-code-used"
    SELF_REVOKE = "self-revoke"
    OTHER_IDENTITY = "other-identity"
    REVOKED_DEVICE = "revoked-device"
    # organizations (§8.14)
    NOT_AN_ORG = "not-an-org"
    ORG_BEFORE_NEW = "org-before-new"
    ORG_NOT_ADMIN = "org-not-admin"
    ORG_NOT_MEMBER = "org-not-member"
    ORG_NO_CHANGE = "org-no-change"
    ORG_LAST_ADMIN = "org-last-admin"
    # recovery (§8.13)
    REQUEST_NOT_FIRST = "request-not-first"
    OWN_IDENTITY = "own-identity"
    NO_RECOVERY_SET = "no-recovery-set"
    SET_REPLACED = "set-replaced"
    NOT_A_RECOVERY_REQUEST = "not-a-recovery-request"
    WRONG_REQUESTER = "wrong-requester"
    NOT_A_GUARDIAN = "not-a-guardian"
    ALREADY_APPROVED = "already-approved"
    NOT_A_DEVICE = "not-a-device"
    VETO_TOO_LATE = "veto-too-late"


@dataclass(frozen=True, slots=True)
class Reason:
    """One entry's reason: :attr:`code` and :attr:`ids` are digested, :attr:`text` is not."""

    code: ReasonCode
    text: str
    """The human sentence (``samoorg log --invalid``); free to change between versions."""
    ids: tuple[bytes, ...] = ()
    """Ids the digest names with the code, sorted (what a waiting entry waits for)."""

    def __str__(self) -> str:
        return self.text

    def digested(self, entry_id: bytes) -> dcbor.Value:
        """``[entry id, code]``, or ``[entry id, code, [ids]]`` for a reason naming ids."""
        if self.ids:
            return [entry_id, self.code.value, [*self.ids]]
        return [entry_id, self.code.value]


def digested(reasons: dict[bytes, Reason]) -> list[dcbor.Value]:
    """Every ``[entry id, code(, [ids])]`` of ``reasons``, by entry id: what digests hash."""
    return [reasons[k].digested(k) for k in sorted(reasons)]


def utc(ms: int) -> str:
    """A millisecond timestamp as ISO 8601 UTC text, for reasons and listings."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")
