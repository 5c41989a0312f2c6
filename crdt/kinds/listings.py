"""The portal: offers and requests (``listing``, ``listing.edit``).

Theory of operation. A ``listing`` entry publishes an offer or a request with
its whole description (title, tags, price, quantity, place, availability,
expiry, status). A ``listing.edit`` entry names a listing and carries the
whole description again: it *replaces* every field, the status included
(closing a listing is an edit that sets the status to ``done`` or
``withdrawn``). Only the listing's author may edit it, so every valid edit
lies in the author's own feed after the listing, and "the last edit wins"
means the valid edit with the highest ``seq`` in that feed (the order the
author signed, which no delivery order can change). The state is a
last-writer-wins register per listing with ``seq`` as the version: any order
and duplication of delivery gives the same listings.

Rules (an entry breaking one is ignored by the views, with its reason):

* ``malformed``: the body breaks a field rule (:func:`parse_fields`: known
  side, 1..10 tags of which at least one from :data:`CATEGORIES`, bounded
  texts, an optional 32-byte ``org`` id, a positive integer amount in a
  known currency or ``gift`` or ``exchange`` with what is wanted, a frequency only with an amount, a
  quantity with a unit, a geohash of 1..12 characters of the geohash
  alphabet, ``from <= until``, times non-negative);
* ``not-a-listing``: an edit names a held entry that is not a valid listing;
* ``not-listing-author``: an edit by someone else than the listing's author.

An edit naming an entry the node does not hold *waits* (neither valid nor
void). Time-dependent labels are taken at query time with ``now``: an active
listing whose expiry has passed is shown as ``expired`` and is not active
(:meth:`Listing.effective_status`); the digested state holds no clock.

A listing may name an ``org`` it is on behalf of; whether it counts for the
org (its author a member then) is the org view's question
(:meth:`samoorg.crdt.kinds.orgs.OrgState.counts_for`), never a reason to
ignore the listing: one whose author is not a member is shown without the org.

The node's store keeps a full-text search index of the same listings
(:mod:`samoorg.node.listing_index`), maintained in the store's write
transaction with the same parser and the same two edit rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.algorithms.money import MAX_MINOR, check_currency
from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import found, read_choice, read_id, read_integer, read_text
from samoorg.crdt.framework.identity import by_feed
from samoorg.crdt.framework.reasons import Reason, ReasonCode, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry

LISTING: Final = "listing"
LISTING_EDIT: Final = "listing.edit"
LISTING_KINDS: Final = (LISTING, LISTING_EDIT)

OFFER: Final = "offer"
REQUEST: Final = "request"
SIDES: Final = (OFFER, REQUEST)
CATEGORIES: Final = (
    "goods",
    "services",
    "jobs",
    "housing",
    "food",
    "transport",
    "education",
    "health",
    "help",
)
"""The default taxonomy: every listing carries at least one of these tags."""
PRICE_AMOUNT: Final = "amount"
PRICE_GIFT: Final = "gift"
PRICE_EXCHANGE: Final = "exchange"
PRICES: Final = (PRICE_AMOUNT, PRICE_GIFT, PRICE_EXCHANGE)
FREQUENCIES: Final = ("once", "hourly", "daily", "monthly")
ACTIVE: Final = "active"
RESERVED: Final = "reserved"
DONE: Final = "done"
WITHDRAWN: Final = "withdrawn"
STATUSES: Final = (ACTIVE, RESERVED, DONE, WITHDRAWN)
EXPIRED: Final = "expired"
"""Shown instead of ``active`` once the expiry has passed (never stored)."""
SHOWN_STATUSES: Final = (*STATUSES, EXPIRED)
HOURS: Final = "hours"

MAX_TITLE: Final = 200
MAX_DESCRIPTION: Final = 8000
MAX_WANTED: Final = 500
MAX_PLACE: Final = 200
MAX_UNIT: Final = 20
MAX_TAGS: Final = 10
MAX_TAG: Final = 32
MAX_QUANTITY: Final = 10**12
MAX_GEOHASH: Final = 12
GEOHASH_ALPHABET: Final = "0123456789bcdefghjkmnpqrstuvwxyz"
TAG_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_GEOHASH: Final = re.compile(f"[{GEOHASH_ALPHABET}]{{1,{MAX_GEOHASH}}}")


@dataclass(frozen=True, slots=True)
class ListingFields:
    """Everything a ``listing`` or ``listing.edit`` body describes."""

    side: str
    title: str
    tags: tuple[str, ...]
    description: str = ""
    price: str = PRICE_GIFT
    amount: int | None = None
    currency: str | None = None
    wanted: str = ""
    frequency: str | None = None
    quantity: int | None = None
    unit: str = ""
    place: str = ""
    geohash: str = ""
    available_from: int | None = None
    available_until: int | None = None
    expires: int | None = None
    status: str = ACTIVE
    org: bytes | None = None
    """The org (its ``org.new`` id) the listing is on behalf of (§8.14 decides if it counts)."""

    def body(self) -> dict[str, dcbor.Value]:
        """The body fields (absent where empty), checked by :func:`parse_fields`."""
        body: dict[str, dcbor.Value] = {
            "side": self.side,
            "title": self.title,
            "tags": list(self.tags),
            "price": self.price,
            "status": self.status,
        }
        optional: dict[str, dcbor.Value] = {
            "description": self.description,
            "amount": self.amount,
            "currency": self.currency,
            "wanted": self.wanted,
            "frequency": self.frequency,
            "quantity": self.quantity,
            "unit": self.unit,
            "place": self.place,
            "geohash": self.geohash,
            "from": self.available_from,
            "until": self.available_until,
            "expires": self.expires,
            "org": self.org,
        }
        body.update({k: v for k, v in optional.items() if v is not None and v != ""})
        parse_fields(body)
        return body


@dataclass(frozen=True, slots=True)
class Listing:
    """One listing as the views see it: its creating entry and its current fields."""

    id: bytes
    author: bytes
    created: int
    """Timestamp of the ``listing`` entry (the order of "newest first")."""
    fields: ListingFields
    version: bytes
    """Id of the entry whose fields are current (the listing or its winning edit)."""
    seq: int
    """Seq of that entry in the author's feed."""
    edits: int = 0
    """How many valid edits the listing has."""
    updated: int = 0
    """Timestamp of the entry whose fields are current (when its ``org`` was claimed)."""

    def effective_status(self, now: int) -> str:
        """The stored status, or ``expired`` for an active listing past its expiry."""
        status = self.fields.status
        expires = self.fields.expires
        if status == ACTIVE and expires is not None and expires <= now:
            return EXPIRED
        return status

    def is_active(self, now: int) -> bool:
        """Active and not expired."""
        return self.effective_status(now) == ACTIVE


ORDER_BITS: Final = 20
"""Bits of the id under the timestamp in :func:`order_key`."""
MAX_ORDER_TIME: Final = (1 << 43) - 1
"""Timestamps (ms) above this (the year 2248) sort as this."""


def order_key(created: int, listing_id: bytes) -> int:
    """The position of a listing in "newest first" order (descending), a 63-bit integer.

    The ``listing`` entry's timestamp in ms, then the first 20 bits of its id.
    """
    top = int.from_bytes(listing_id[:3], "big") >> (24 - ORDER_BITS)
    return (min(max(created, 0), MAX_ORDER_TIME) << ORDER_BITS) | top


def _optional_int(body: Mapping[str, dcbor.Value], name: str, low: int, high: int) -> int | None:
    if body.get(name) is None:
        return None
    value = read_integer(body, name)
    if not low <= value <= high:
        raise RuleViolation(f"expected {name!r} as an integer {low}..{high}, found {value}")
    return value


def _tags(body: Mapping[str, dcbor.Value]) -> tuple[str, ...]:
    value = body.get("tags")
    if type(value) is not list or not 1 <= len(value) <= MAX_TAGS:
        raise RuleViolation(
            f"expected 'tags' as a list of 1..{MAX_TAGS} tags, found {found(value)}"
        )
    tags: list[str] = []
    for tag in value:
        if type(tag) is not str or TAG_PATTERN.fullmatch(tag) is None:
            raise RuleViolation(
                f"expected each tag as 1..{MAX_TAG} characters a-z, 0-9 or '-' "
                f"(not first), found {found(tag)}"
            )
        if tag in tags:
            raise RuleViolation(f"expected distinct tags, found {tag!r} twice")
        tags.append(tag)
    if not any(tag in CATEGORIES for tag in tags):
        raise RuleViolation(f"expected at least one category tag ({', '.join(CATEGORIES)})")
    return tuple(tags)


def parse_fields(body: Mapping[str, dcbor.Value]) -> ListingFields:
    """The fields of a listing body; raises :class:`RuleViolation` naming the broken rule."""
    side = read_choice(body, "side", SIDES)
    title = read_text(body, "title", max_chars=MAX_TITLE)
    tags = _tags(body)
    description = read_text(body, "description", max_chars=MAX_DESCRIPTION, required=False)
    price = read_choice(body, "price", PRICES)
    amount = currency = None
    wanted = ""
    if price == PRICE_AMOUNT:
        amount = _optional_int(body, "amount", 1, MAX_MINOR)
        raw_currency = body.get("currency")
        if amount is None or type(raw_currency) is not str:
            raise RuleViolation("expected a positive 'amount' and a 'currency' with price 'amount'")
        currency = check_currency(raw_currency)
    else:
        if body.get("amount") is not None or body.get("currency") is not None:
            raise RuleViolation(f"expected no 'amount' or 'currency' with price {price!r}")
        if price == PRICE_EXCHANGE:
            wanted = read_text(body, "wanted", max_chars=MAX_WANTED)
    if price != PRICE_EXCHANGE and body.get("wanted") is not None:
        raise RuleViolation("expected 'wanted' only with price 'exchange'")
    frequency = None
    if body.get("frequency") is not None:
        if price != PRICE_AMOUNT:
            raise RuleViolation("expected 'frequency' only with price 'amount'")
        frequency = read_choice(body, "frequency", FREQUENCIES)
    quantity = _optional_int(body, "quantity", 1, MAX_QUANTITY)
    unit = read_text(body, "unit", max_chars=MAX_UNIT, required=quantity is not None)
    if quantity is None and unit:
        raise RuleViolation("expected 'unit' only with a 'quantity'")
    place = read_text(body, "place", max_chars=MAX_PLACE, required=False)
    geohash = read_text(body, "geohash", max_chars=MAX_GEOHASH, required=False)
    if geohash and _GEOHASH.fullmatch(geohash) is None:
        raise RuleViolation(
            f"expected 'geohash' as 1..{MAX_GEOHASH} characters of {GEOHASH_ALPHABET}, "
            f"found {geohash!r}"
        )
    available_from = _optional_int(body, "from", 0, 2**63 - 1)
    available_until = _optional_int(body, "until", 0, 2**63 - 1)
    if (
        available_from is not None
        and available_until is not None
        and available_from > available_until
    ):
        raise RuleViolation("expected 'from' at or before 'until'")
    expires = _optional_int(body, "expires", 0, 2**63 - 1)
    status = read_choice(body, "status", STATUSES)
    org = read_id(body, "org") if body.get("org") is not None else None
    return ListingFields(
        side,
        title,
        tags,
        description,
        price,
        amount,
        currency,
        wanted,
        frequency,
        quantity,
        unit,
        place,
        geohash,
        available_from,
        available_until,
        expires,
        status,
        org,
    )


def listing_body(fields: ListingFields) -> dict[str, dcbor.Value]:
    """The body of a new ``listing`` entry; raises :class:`RuleViolation` if it breaks a rule."""
    return fields.body()


def edit_body(listing_id: bytes, fields: ListingFields) -> dict[str, dcbor.Value]:
    """The body of a ``listing.edit`` entry replacing every field of ``listing_id``."""
    return {"listing": listing_id, **fields.body()}


def parse_edit(body: Mapping[str, dcbor.Value]) -> tuple[bytes, ListingFields]:
    """``(listing id, fields)`` of an edit body; raises :class:`RuleViolation`."""
    return read_id(body, "listing"), parse_fields(body)


NOT_A_LISTING: Final = "the edited entry is not a valid listing"
NOT_AUTHOR: Final = "only the listing's author can edit it"


def decode_listing(entry: Entry) -> ListingFields:
    """The fields of a ``listing`` entry; raises :class:`RuleViolation`."""
    return parse_fields(entry.body)


def decode_edit(entry: Entry) -> tuple[bytes, ListingFields]:
    """``(listing id, fields)`` of a ``listing.edit`` entry; raises :class:`RuleViolation`."""
    return parse_edit(entry.body)


@dataclass(frozen=True)
class ListingsView:
    """The valid listings with their winning versions, void and waiting edits."""

    listings: dict[bytes, Listing]
    invalid: dict[bytes, Reason]
    waiting: tuple[bytes, ...]
    """Edits naming an entry this node does not hold, ascending."""

    def canonical(self) -> dcbor.Value:
        """Each listing's current version, plus void and waiting entries, sorted (§8.7)."""
        rows: list[dcbor.Value] = [
            [key, self.listings[key].version, self.listings[key].seq]
            for key in sorted(self.listings)
        ]
        return [rows, digested(self.invalid), [*self.waiting]]


class ListingState(ResolvedDomain[ListingsView]):
    """Every listing with its winning edit (see the module docstring)."""

    name = "listings"
    decoders = MappingProxyType({LISTING: decode_listing, LISTING_EDIT: decode_edit})
    reads_keys = False

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._created: dict[bytes, tuple[Entry, ListingFields]] = {}
        self._edits: dict[bytes, list[tuple[Entry, ListingFields]]] = {}

    def _file(self, entry: Entry, record: ListingFields | tuple[bytes, ListingFields]) -> None:
        if isinstance(record, ListingFields):
            self._created[entry.id] = (entry, record)
        else:
            target, fields = record
            self._edits.setdefault(target, []).append((entry, fields))

    def _resolve_view(self) -> ListingsView:
        listings: dict[bytes, Listing] = {}
        invalid = dict(self._malformed)
        waiting: list[bytes] = []
        for key, (entry, fields) in self._created.items():
            author = self.views.author(entry)
            listings[key] = Listing(
                key, author, entry.timestamp, fields, key, entry.seq, 0, entry.timestamp
            )
        holds = self.views.holds
        identity = self.views.identity
        for target, edits in self._edits.items():
            base = listings.get(target)
            first = self._created[target][0] if base is not None else None
            for edit, fields in by_feed(edits, identity):  # per identity, §8.11.1
                if base is None:
                    if holds(target):
                        invalid[edit.id] = Reason(ReasonCode.NOT_A_LISTING, NOT_A_LISTING)
                    else:
                        waiting.append(edit.id)
                    continue
                if identity(edit.author) != base.author:
                    invalid[edit.id] = Reason(ReasonCode.NOT_LISTING_AUTHOR, NOT_AUTHOR)
                    continue
                assert first is not None
                if edit.author != first.author or edit.seq > first.seq:
                    base = Listing(
                        base.id,
                        base.author,
                        base.created,
                        fields,
                        edit.id,
                        edit.seq,
                        base.edits + 1,
                        edit.timestamp,
                    )
            if base is not None:
                listings[target] = base
        return ListingsView(listings, invalid, tuple(sorted(waiting)))

    def get(self, listing_id: bytes) -> Listing | None:
        """One held, valid listing with its current fields."""
        return self.view().listings.get(listing_id)

    def listings(self) -> list[Listing]:
        """Every valid listing, newest first (:func:`order_key`, then id, descending)."""
        found = self.view().listings.values()
        return sorted(found, key=lambda item: (order_key(item.created, item.id), item.id))[::-1]

    def waiting(self) -> list[bytes]:
        """Edits naming an entry this node does not hold, by id."""
        return list(self.view().waiting)


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Listings, and edits of held listings (some by others) or of unknown ids."""
    from hypothesis import strategies as st

    fields = st.builds(
        ListingFields,
        side=st.sampled_from(SIDES),
        title=st.sampled_from(["Guitar lessons", "Bike repair", "Soup"]),
        tags=st.sampled_from([("services",), ("food", "local"), ("goods", "kids")]),
        status=st.sampled_from(STATUSES),
        expires=st.one_of(st.none(), st.just(ctx.now)),
        org=st.one_of(st.none(), st.binary(min_size=32, max_size=32)),
    )
    new = fields.map(lambda f: (LISTING, listing_body(f)))
    targets = st.binary(min_size=32, max_size=32)
    held = [e.id for e in ctx.of_kind(LISTING)]
    if held:
        targets = st.sampled_from(held) | targets
    edits = st.builds(lambda t, f: (LISTING_EDIT, edit_body(t, f)), targets, fields)
    return new | edits


FAMILY: Final = Family(ListingState, samples, spec="8.10")
