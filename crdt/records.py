"""Record kinds of the trust list and the pledge ledger, and their body schemas.

Each kind is an entry ``kind`` string; its ``body`` is a CBOR map whose fields
are listed in ``docs/protocol.md`` §8. :func:`parse_record` turns a verified
entry into one of the frozen dataclasses below or raises
:class:`~samoorg.crdt.errors.RuleViolation` saying which field was expected
and what was found. Unknown extra fields are ignored (forward compatibility).

Parsing checks each body on its own (types, sizes, positive amounts, known
currencies). Rules that involve other entries (who may commit, whether an
invite expired, ...) belong to the domain views (:mod:`samoorg.crdt.kinds.trust`,
:mod:`samoorg.crdt.pledges`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from samoorg.crdt.errors import RuleViolation
from samoorg.crdt.fields import (
    ID_SIZE,
    KEY_SIZE,
    MAX_NOTE,
    check_minor,
    found,
    read_amount,
    read_bytes,
    read_integer,
    read_optional_time,
    read_text,
)
from samoorg.crdt.money import Amount

if TYPE_CHECKING:  # kept out of start-up: the CLI imports kind names from here
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

# -- kind names ---------------------------------------------------------------

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

MAX_TITLE: Final = 200
MAX_REASON: Final = 4000
MAX_DESCRIPTION: Final = 32000


# -- records ------------------------------------------------------------------


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


Record = Intend | Revise | Withdraw | Commit | Close | Request | Initiative | AppealClose


# -- parsers ------------------------------------------------------------------


_TARGETS: Final = (("to", KEY_SIZE), ("request", ID_SIZE), ("initiative", ID_SIZE))


def _intend(body: Mapping[str, dcbor.Value]) -> Intend:
    present = [(name, size) for name, size in _TARGETS if body.get(name) is not None]
    if len(present) != 1:
        raise RuleViolation(
            f"expected exactly one target ('to', 'request' or 'initiative'), found {len(present)}"
        )
    name, size = present[0]
    listing = read_bytes(body, "listing", ID_SIZE) if body.get("listing") is not None else None
    return Intend(Target(name, read_bytes(body, name, size)), read_amount(body), listing)


def _revise(body: Mapping[str, dcbor.Value]) -> Revise:
    minor = read_integer(body, "amount")
    check_minor(minor)
    return Revise(read_bytes(body, "pledge", ID_SIZE), minor)


def _withdraw(body: Mapping[str, dcbor.Value]) -> Withdraw:
    return Withdraw(read_bytes(body, "pledge", ID_SIZE))


def _commit(body: Mapping[str, dcbor.Value]) -> Commit:
    return Commit(read_bytes(body, "pledge", ID_SIZE), read_optional_time(body, "due"))


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
        read_amount(body), read_text(body, "reason", max_chars=MAX_REASON, required=True), monthly
    )


def _initiative(body: Mapping[str, dcbor.Value]) -> Initiative:
    return Initiative(
        title=read_text(body, "title", max_chars=MAX_TITLE, required=True),
        goal=read_amount(body, "goal"),
        description=read_text(body, "description", max_chars=MAX_DESCRIPTION, required=False),
        deadline=read_optional_time(body, "deadline"),
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
    INTEND: _intend,
    REVISE: _revise,
    WITHDRAW: _withdraw,
    COMMIT: _commit,
    REQUEST: _request,
    INITIATIVE: _initiative,
}
