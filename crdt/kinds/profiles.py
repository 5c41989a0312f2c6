"""Profiles: how each participant presents themselves, and how they are doing.

Theory of operation. A ``profile`` entry is a participant's whole self-description:
a display name, a short "about", typed contacts (email, phone, telegram,
address, url) and a **status** in the Exodus sense, with a message:

    fine      all is well
    support   needs regular support
    urgent    needs urgent help

Per author, the well-formed profile with the highest ``seq`` in the author's
own feed counts (last write wins; ``seq`` is unique in a feed that is not
forked, so there is no tie to break, and no timestamp is compared). Earlier
profiles are superseded, not invalid. The state is a last-writer-wins map
from author to their latest well-formed profile: merging takes the maximum
``seq``, so any order of delivery, with duplicates, ends in the same map.

Rules (docs/protocol.md §8.12): every field rule below is a *field* rule, so
a body breaking one is void with the code ``malformed`` and the profile
before it keeps counting. A display name is text of 1..64 code points with no
control character (line breaks included) and not itself a peer id (which
would pass for someone else's id in every table); ``about`` at most 500;
at most 8 contacts, each ``[type, value]`` with a known type and a value of
1..200 code points without control characters, no two the same; ``status``
one of the three above (absent: ``fine``); ``message`` at most 280.

Display names are self-chosen: anyone may choose any name. Nodes show them
marked as such, and let local petnames win (``node/names.py``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from samoorg.crdt.framework.domain import ResolvedDomain
from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.fields import found, read_choice, read_text
from samoorg.crdt.framework.identity import latest_per_identity
from samoorg.crdt.framework.reasons import Reason, digested
from samoorg.crdt.framework.registry import Family, Sample, SampleContext
from samoorg.protocol import dcbor

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.views import Views
    from samoorg.protocol.entry import Entry

PROFILE_KIND: Final = "profile"
MAX_NAME: Final = 64
MAX_ABOUT: Final = 500
MAX_CONTACTS: Final = 8
MAX_CONTACT: Final = 200
MAX_MESSAGE: Final = 280
CONTACT_TYPES: Final = ("email", "phone", "telegram", "address", "url")
STATUS_FINE: Final = "fine"
STATUS_SUPPORT: Final = "support"
STATUS_URGENT: Final = "urgent"
STATUSES: Final = (STATUS_FINE, STATUS_SUPPORT, STATUS_URGENT)
STATUS_LABELS: Final = {
    STATUS_FINE: "fine",
    STATUS_SUPPORT: "needs regular support",
    STATUS_URGENT: "needs urgent help",
}


@dataclass(frozen=True, slots=True)
class Contact:
    """One way to reach a participant."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class Profile:
    """One well-formed profile entry."""

    author: bytes
    seq: int
    entry_id: bytes
    timestamp: int
    name: str
    about: str
    contacts: tuple[Contact, ...]
    status: str
    message: str


# -- bodies -------------------------------------------------------------------


def profile_body(
    name: str,
    about: str = "",
    contacts: Sequence[tuple[str, str]] = (),
    status: str = STATUS_FINE,
    message: str = "",
) -> dict[str, dcbor.Value]:
    """The body of a new profile entry; raises :class:`RuleViolation` naming the broken rule."""
    body: dict[str, dcbor.Value] = {"name": name}
    if about:
        body["about"] = about
    if contacts:
        body["contacts"] = [[kind, value] for kind, value in contacts]
    if status != STATUS_FINE:
        body["status"] = status
    if message:
        body["message"] = message
    _check(body)
    return body


def plain(value: str, name: str) -> str:
    """``value`` if it has no control character (line breaks included)."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise RuleViolation(f"expected {name!r} without control characters or line breaks")
    return value


def _check(body: Mapping[str, dcbor.Value]) -> tuple[str, str, tuple[Contact, ...], str, str]:
    from samoorg.protocol.ids import BadIdentifier, parse_peer_id

    name = plain(read_text(body, "name", max_chars=MAX_NAME), "name")
    try:
        parse_peer_id(name)
    except BadIdentifier:
        pass
    else:
        raise RuleViolation("expected 'name' to be a name, found a peer id")
    about = read_text(body, "about", max_chars=MAX_ABOUT, required=False)
    contacts = read_contacts(body.get("contacts"))
    status = STATUS_FINE if body.get("status") is None else read_choice(body, "status", STATUSES)
    message = read_text(body, "message", max_chars=MAX_MESSAGE, required=False)
    return name, about, contacts, status, message


def read_contacts(value: dcbor.Value) -> tuple[Contact, ...]:
    if value is None:
        return ()
    if type(value) is not list or len(value) > MAX_CONTACTS:
        raise RuleViolation(
            f"expected 'contacts' as a list of at most {MAX_CONTACTS} items, found {found(value)}"
        )
    contacts: list[Contact] = []
    for item in value:
        if type(item) is not list or len(item) != 2:
            raise RuleViolation(f"expected each contact as [type, value], found {found(item)}")
        kind = read_choice({"type": item[0]}, "type", CONTACT_TYPES)
        text = plain(read_text({"value": item[1]}, "value", max_chars=MAX_CONTACT), "value")
        contact = Contact(kind, text)
        if contact in contacts:
            raise RuleViolation(f"expected distinct contacts, found {kind} {text!r} twice")
        contacts.append(contact)
    return tuple(contacts)


def parse_profile(entry: Entry) -> Profile:
    """The profile carried by ``entry``; raises :class:`RuleViolation`."""
    name, about, contacts, status, message = _check(entry.body)
    return Profile(
        entry.author,
        entry.seq,
        entry.id,
        entry.timestamp,
        name,
        about,
        contacts,
        status,
        message,
    )


# -- the view -----------------------------------------------------------------


@dataclass(frozen=True)
class ProfilesView:
    """Each author's profile that counts."""

    profiles: Mapping[bytes, Profile]
    """Author key -> their latest well-formed profile."""
    invalid: dict[bytes, Reason]

    def canonical(self) -> dcbor.Value:
        """``[profiles, voids]``: ``[author, seq, entry id]`` ascending by author; voids."""
        return [
            [[k, self.profiles[k].seq, self.profiles[k].entry_id] for k in sorted(self.profiles)],
            digested(self.invalid),
        ]


class ProfilesState(ResolvedDomain[ProfilesView]):
    """The last-writer-wins map of profiles, per author by ``seq``."""

    name = "profiles"
    decoders = MappingProxyType({PROFILE_KIND: parse_profile})
    reads_keys = False

    def __init__(self, views: Views) -> None:
        super().__init__(views)
        self._latest: dict[bytes, Profile] = {}

    def _file(self, entry: Entry, record: Profile) -> None:
        held = self._latest.get(record.author)
        if held is None or held.seq < record.seq:
            self._latest[record.author] = record

    def _resolve_view(self) -> ProfilesView:
        # Plain dicts: the views are pickled into checkpoints (node/checkpoint.py).
        if not self.views.folds():
            return ProfilesView(dict(self._latest), dict(self._malformed))
        won = latest_per_identity(  # last write wins across devices (§8.11.1)
            self._latest.values(),
            group=lambda p: self.views.identity(p.author),
            device=lambda p: p.author,
            seq=lambda p: p.seq,
            order=lambda p: (p.timestamp, p.entry_id),
        )
        return ProfilesView(won, dict(self._malformed))

    def profile(self, author: bytes) -> Profile | None:
        """The profile of ``author``'s identity that counts, if any."""
        return self.view().profiles.get(self.views.identity(author))

    def display_names(self) -> dict[bytes, str]:
        """Author key -> self-chosen display name."""
        return {key: p.name for key, p in self.view().profiles.items()}


def samples(ctx: SampleContext) -> SearchStrategy[Sample]:
    """Well-formed profiles, with every field and colliding names."""
    from hypothesis import strategies as st

    names = st.sampled_from(["Ana", "Ben", "ana", "Cleo Δ"])
    contacts = st.lists(
        st.tuples(st.sampled_from(CONTACT_TYPES), st.sampled_from(["a@b.org", "+33 1 23"])),
        max_size=3,
        unique=True,
    )
    good = st.builds(
        lambda n, a, c, s, m: (PROFILE_KIND, profile_body(n, a, c, s, m)),
        names,
        st.sampled_from(["", "baker"]),
        contacts,
        st.sampled_from(STATUSES),
        st.sampled_from(["", "back soon"]),
    )
    return good


FAMILY: Final = Family(ProfilesState, samples, spec="8.12")
