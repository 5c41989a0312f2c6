"""Record kinds of the trust list and the pledge ledger, and their body schemas.

Each kind is an entry ``kind`` string; its ``body`` is a CBOR map whose fields
are listed in ``docs/protocol.md`` §8. :func:`parse_record` turns a verified
entry into one of the frozen dataclasses below or raises
:class:`~samoorg.crdt.errors.RuleViolation` saying which field was expected
and what was found. Unknown extra fields are ignored (forward compatibility).

Parsing checks each body on its own (types, sizes, positive amounts, known
currencies). Rules that involve other entries (who may commit, whether an
invite expired, ...) belong to the domain views (:mod:`samoorg.crdt.trust`,
:mod:`samoorg.crdt.pledges`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.fields import found, read_bytes, read_integer, read_text
from samoorg.crdt.money import MAX_MINOR, Amount, check_currency

if TYPE_CHECKING:  # kept out of start-up: the CLI imports kind names from here
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

# -- kind names ---------------------------------------------------------------

INVITE: Final = "trust.invite"
ACCEPT: Final = "trust.accept"
REVOKE: Final = "trust.revoke"
CONFIRM: Final = "trust.confirm"
TRUST_KINDS: Final = (INVITE, ACCEPT, REVOKE, CONFIRM)

INTEND: Final = "pledge.intend"
REVISE: Final = "pledge.revise"
WITHDRAW: Final = "pledge.withdraw"
COMMIT: Final = "pledge.commit"
FULFIL: Final = "pledge.fulfil"
FORGIVE: Final = "pledge.forgive"
REQUEST: Final = "help.request"
INITIATIVE: Final = "initiative.propose"
REQUEST_CLOSE: Final = "help.close"
INITIATIVE_CLOSE: Final = "initiative.close"
CLOSES: Final = {REQUEST_CLOSE: REQUEST, INITIATIVE_CLOSE: INITIATIVE}
"""Each closing kind and the kind of entry it closes."""
PLEDGE_KINDS: Final = (
    REQUEST,
    INITIATIVE,
    INTEND,
    REVISE,
    WITHDRAW,
    COMMIT,
    FULFIL,
    FORGIVE,
    REQUEST_CLOSE,
    INITIATIVE_CLOSE,
)

# -- size limits (characters) -------------------------------------------------

MAX_NOTE: Final = 1000
MAX_TITLE: Final = 200
MAX_REASON: Final = 4000
MAX_DESCRIPTION: Final = 32000
PROOF_SIZE: Final = 64
KEY_SIZE: Final = 32
ID_SIZE: Final = 32


# -- records ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invite:
    """``trust.invite``: "I intend to help you with ``amount`` and count on reciprocity"."""

    amount: Amount
    expires: int
    key: bytes
    note: str


@dataclass(frozen=True, slots=True)
class Accept:
    """``trust.accept``: the invitee's reciprocal guarantee and proof of the secret.

    ``inviter`` names the invite's author, so that whoever holds the
    invitee's feed knows whose feed completes the edge (replication scope).
    """

    invite: bytes
    inviter: bytes
    amount: Amount
    proof: bytes


@dataclass(frozen=True, slots=True)
class Revoke:
    """``trust.revoke``: the inviter withdraws a pending invite."""

    invite: bytes


@dataclass(frozen=True, slots=True)
class Confirm:
    """``trust.confirm``: the inviter names who accepted an invite (for replication scope)."""

    invite: bytes
    invitee: bytes


@dataclass(frozen=True, slots=True)
class Target:
    """What an intention backs: a person (``to``), a help ``request`` or an ``initiative``."""

    kind: str
    ref: bytes


@dataclass(frozen=True, slots=True)
class Intend:
    """``pledge.intend``: "I would give ``amount`` to ``target``" (for ``listing``, if named)."""

    target: Target
    amount: Amount
    listing: bytes | None = None
    """The portal listing this pledge pays or gives for (optional; reviews need it)."""


@dataclass(frozen=True, slots=True)
class Revise:
    """``pledge.revise``: a new amount (same currency) for an open intention."""

    pledge: bytes
    minor: int


@dataclass(frozen=True, slots=True)
class Withdraw:
    """``pledge.withdraw``: the intention no longer stands."""

    pledge: bytes


@dataclass(frozen=True, slots=True)
class Commit:
    """``pledge.commit``: the intention becomes an irrevocable commitment."""

    pledge: bytes
    due: int | None


@dataclass(frozen=True, slots=True)
class Close:
    """``pledge.fulfil`` or ``pledge.forgive`` by the beneficiary of a commitment."""

    pledge: bytes
    commitment: bytes
    forgiven: bool


@dataclass(frozen=True, slots=True)
class Request:
    """``help.request``: emergency help (once) or regular support (``monthly``)."""

    amount: Amount
    reason: str
    monthly: bool


@dataclass(frozen=True, slots=True)
class Initiative:
    """``initiative.propose``: a proposal with a price that members back with intentions."""

    title: str
    goal: Amount
    description: str
    deadline: int | None


@dataclass(frozen=True, slots=True)
class AppealClose:
    """``help.close`` or ``initiative.close``: the author stops collecting for ``appeal``.

    ``kind`` is the kind of entry closed (``help.request`` or ``initiative.propose``).
    """

    appeal: bytes
    kind: str
    note: str


Record = (
    Invite
    | Accept
    | Revoke
    | Confirm
    | Intend
    | Revise
    | Withdraw
    | Commit
    | Close
    | Request
    | Initiative
    | AppealClose
)


# -- field readers ------------------------------------------------------------


def _optional_time(body: Mapping[str, dcbor.Value], key: str) -> int | None:
    if body.get(key) is None:
        return None
    value = read_integer(body, key)
    if value < 0:
        raise RuleViolation(f"expected {key!r} as a time in milliseconds, found {value}")
    return value


def check_minor(minor: int) -> None:
    """Raise unless ``0 < minor <= MAX_MINOR`` (an amount whose currency is known elsewhere)."""
    if minor <= 0:
        raise RuleViolation(f"expected a positive amount, found {minor} minor units")
    if minor > MAX_MINOR:
        raise RuleViolation(f"amount {minor} exceeds the limit of {MAX_MINOR} minor units")


def _amount(body: Mapping[str, dcbor.Value], key: str = "amount") -> Amount:
    currency = body.get("currency")
    if type(currency) is not str:
        raise RuleViolation(f"expected 'currency' as an ISO 4217 code, found {found(currency)}")
    amount = Amount(check_currency(currency), read_integer(body, key))
    amount.check_positive()
    return amount


def amount_fields(amount: Amount, key: str = "amount") -> dict[str, dcbor.Value]:
    """The body fields of an amount: ``{key: minor units, "currency": code}``."""
    return {key: amount.minor, "currency": amount.currency}


# -- parsers ------------------------------------------------------------------


def _invite(body: Mapping[str, dcbor.Value]) -> Invite:
    return Invite(
        amount=_amount(body),
        expires=read_integer(body, "expires"),
        key=read_bytes(body, "key", KEY_SIZE),
        note=read_text(body, "note", max_chars=MAX_NOTE, required=False),
    )


def _accept(body: Mapping[str, dcbor.Value]) -> Accept:
    return Accept(
        invite=read_bytes(body, "invite", ID_SIZE),
        inviter=read_bytes(body, "inviter", KEY_SIZE),
        amount=_amount(body),
        proof=read_bytes(body, "proof", PROOF_SIZE),
    )


def _revoke(body: Mapping[str, dcbor.Value]) -> Revoke:
    return Revoke(read_bytes(body, "invite", ID_SIZE))


def _confirm(body: Mapping[str, dcbor.Value]) -> Confirm:
    return Confirm(read_bytes(body, "invite", ID_SIZE), read_bytes(body, "invitee", KEY_SIZE))


_TARGETS: Final = (("to", KEY_SIZE), ("request", ID_SIZE), ("initiative", ID_SIZE))


def _intend(body: Mapping[str, dcbor.Value]) -> Intend:
    present = [(name, size) for name, size in _TARGETS if body.get(name) is not None]
    if len(present) != 1:
        raise RuleViolation(
            f"expected exactly one target ('to', 'request' or 'initiative'), found {len(present)}"
        )
    name, size = present[0]
    listing = read_bytes(body, "listing", ID_SIZE) if body.get("listing") is not None else None
    return Intend(Target(name, read_bytes(body, name, size)), _amount(body), listing)


def _revise(body: Mapping[str, dcbor.Value]) -> Revise:
    minor = read_integer(body, "amount")
    check_minor(minor)
    return Revise(read_bytes(body, "pledge", ID_SIZE), minor)


def _withdraw(body: Mapping[str, dcbor.Value]) -> Withdraw:
    return Withdraw(read_bytes(body, "pledge", ID_SIZE))


def _commit(body: Mapping[str, dcbor.Value]) -> Commit:
    return Commit(read_bytes(body, "pledge", ID_SIZE), _optional_time(body, "due"))


def _close(body: Mapping[str, dcbor.Value], *, forgiven: bool) -> Close:
    return Close(
        read_bytes(body, "pledge", ID_SIZE),
        read_bytes(body, "commitment", ID_SIZE),
        forgiven=forgiven,
    )


def _request(body: Mapping[str, dcbor.Value]) -> Request:
    monthly = body.get("monthly", False)
    if type(monthly) is not bool:
        raise RuleViolation(f"expected 'monthly' as true or false, found {found(monthly)}")
    return Request(
        _amount(body), read_text(body, "reason", max_chars=MAX_REASON, required=True), monthly
    )


def _initiative(body: Mapping[str, dcbor.Value]) -> Initiative:
    return Initiative(
        title=read_text(body, "title", max_chars=MAX_TITLE, required=True),
        goal=_amount(body, "goal"),
        description=read_text(body, "description", max_chars=MAX_DESCRIPTION, required=False),
        deadline=_optional_time(body, "deadline"),
    )


def _appeal_close(body: Mapping[str, dcbor.Value], closed: str) -> AppealClose:
    field = "request" if closed == REQUEST else "initiative"
    return AppealClose(
        read_bytes(body, field, ID_SIZE),
        closed,
        read_text(body, "note", max_chars=MAX_NOTE, required=False),
    )


def parse_record(entry: Entry) -> Record:
    """The record carried by ``entry``; raises :class:`RuleViolation` for a malformed body.

    Raises :class:`KeyError` only for a kind this module does not own (a
    programming error: callers dispatch on :data:`TRUST_KINDS` and
    :data:`PLEDGE_KINDS`).
    """
    body = entry.body
    kind = entry.kind
    if kind in (FULFIL, FORGIVE):
        return _close(body, forgiven=kind == FORGIVE)
    if kind in CLOSES:
        return _appeal_close(body, CLOSES[kind])
    parser = _PARSERS[kind]
    return parser(body)


_PARSERS: Final[dict[str, Callable[[Mapping[str, dcbor.Value]], Record]]] = {
    INVITE: _invite,
    ACCEPT: _accept,
    REVOKE: _revoke,
    CONFIRM: _confirm,
    INTEND: _intend,
    REVISE: _revise,
    WITHDRAW: _withdraw,
    COMMIT: _commit,
    REQUEST: _request,
    INITIATIVE: _initiative,
}
