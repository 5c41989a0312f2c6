"""Names of participants and the one resolver of what a user types for a participant or an entry.

Theory of operation. A participant is a 32-byte key, shown in full as its
peer id (52 characters, ``12D3KooW…``). Everywhere else it is shown in one
short form, :func:`short_id` (``…`` and the last :data:`SHORT_WIDTH`
characters, which are what tell ids apart: every id starts ``12D3KooW``),
followed by a name when one is known. Names come from two places:

* **petnames**, given by this node's user (``samoorg name set``), kept in the
  peer book (``node/peerbook.py``) and never replicated. They are unique on a
  node (case-insensitively) and always win;
* **self-chosen names**, the display names of ``profile`` records. Anyone can
  choose any name, so they are shown with a leading ``~``, and a name that
  more than one participant carries (self-chosen or given) is shown with a
  trailing ``!``: a collision is visible, never merged.

:class:`Names` is that directory for one command or one API request; the
CLI's tables (:meth:`Names.label`) and every ``--json`` and API answer
(:func:`with_names`, a ``<field>_name`` beside each peer id field) read it.

Resolving. :meth:`Names.resolve` turns typed text into a key: a whole peer
id; else an exact petname; else the keys whose self-chosen name is the text,
together with the known keys whose peer id starts or ends with it (at least
:data:`MIN_PARTIAL` characters, a leading ``…`` ignored, as a short id is
printed). One candidate is the answer; none is :class:`NotFound`; several are
:class:`Ambiguous`, naming every candidate. :func:`resolve_entry` does the
same for entry ids, among the entries of the kinds a command expects only.
The CLI (local commands) and the API (the daemon) call these same functions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from samoorg.node.errors import Ambiguous, NotFound
from samoorg.protocol.ids import BadIdentifier, parse_peer_id, peer_id

if TYPE_CHECKING:
    from samoorg.crdt.framework.views import Views
    from samoorg.node.home import Home
    from samoorg.node.store import Store
    from samoorg.protocol.entry import Entry

SHORT_WIDTH: Final = 8
"""Characters of a peer id kept in its short form (after ``…``)."""
ENTRY_WIDTH: Final = 12
"""Hex digits of an entry id kept in its short form."""
MIN_PARTIAL: Final = 6
"""Fewest characters of a peer id accepted as a prefix or a suffix."""
MAX_PETNAME: Final = 40
"""Longest petname, in characters."""
MAX_CANDIDATES: Final = 8
"""Candidates named in an ambiguity error."""
CHOSEN_MARK: Final = "~"
COLLISION_MARK: Final = "!"


class BadName(ValueError):
    """A petname that cannot be used (empty, too long, control characters, an id)."""


def short_id(key: bytes) -> str:
    """The one short form of a participant id: ``…`` and its last 8 characters."""
    return "…" + peer_id(key)[-SHORT_WIDTH:]


def short_entry(entry_id: bytes) -> str:
    """The one short form of an entry id: its first 12 hex digits."""
    return entry_id.hex()[:ENTRY_WIDTH]


def fold(name: str) -> str:
    """The form names are compared in (NFKC, case-folded): ``Alice`` and ``alice`` collide."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_petname(name: str) -> str:
    """``name`` if usable as a petname; raises :class:`BadName` saying why not."""
    if not name or name != name.strip():
        raise BadName(f"expected a name without leading or trailing spaces, found {name!r}")
    if len(name) > MAX_PETNAME:
        raise BadName(f"expected a name of at most {MAX_PETNAME} characters, found {len(name)}")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise BadName(f"expected a name without control characters, found {name!r}")
    if name[0] in (CHOSEN_MARK, "…") or name.endswith(COLLISION_MARK):
        raise BadName(f"expected a name not starting with ~ or … nor ending with !, found {name!r}")
    try:
        parse_peer_id(name)
    except BadIdentifier:
        return name
    raise BadName(f"expected a name, found a peer id {name!r}")


@dataclass(frozen=True)
class Names:
    """Who is called what, for one command or one API request."""

    me: bytes | None = None
    petnames: Mapping[bytes, str] = field(default_factory=dict)
    chosen: Mapping[bytes, str] = field(default_factory=dict)
    """Self-chosen display names (``profile`` records)."""
    known: frozenset[bytes] = frozenset()
    """Participants an id fragment may name (feeds held, peers, names)."""
    identities: Mapping[bytes, bytes] = field(default_factory=dict)
    """Joined device key -> its identity (``Views.identities``): a device stands for its
    identity everywhere (names, ``you``, resolving), as in the views (§8.11.1)."""
    _by_name: dict[str, set[bytes]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for source in (self.petnames, self.chosen):
            for key, name in source.items():
                self._by_name.setdefault(fold(name), set()).add(key)

    def identity(self, key: bytes) -> bytes:
        """The identity ``key`` belongs to (``key`` itself if it joined none)."""
        return self.identities.get(key, key)

    def name(self, key: bytes) -> str | None:
        """The name shown for ``key``'s identity: its petname, else its self-chosen name."""
        found = self.identity(key)
        return self.petnames.get(found) or self.petnames.get(key) or self.chosen.get(found)

    def collides(self, key: bytes) -> bool:
        """Whether another participant carries the name shown for ``key``."""
        shown = self.name(key)
        return shown is not None and len(self._by_name.get(fold(shown), ())) > 1

    def label(self, key: bytes, *, you: bool = True) -> str:
        """A table cell: ``you``, or ``[~]name[!] …x8oPPe`` (the short id alone if unnamed)."""
        if you and self.me is not None and self.identity(key) == self.me:
            return "you"
        return f"{self.tag(key)} {short_id(key)}".lstrip()

    def tag(self, key: bytes) -> str:
        """The name part of :meth:`label`: ``alice``, ``~alice`` or ``~alice!`` (or empty)."""
        if key in self.petnames:
            shown = self.petnames[key]
        elif key in self.chosen:
            shown = CHOSEN_MARK + self.chosen[key]
        else:
            return ""
        return shown + COLLISION_MARK if self.collides(key) else shown

    def label_text(self, text: str | None, *, you: bool = True) -> str:
        """:meth:`label` of a peer id string (empty for ``None``, the text if not an id)."""
        if text is None:
            return ""
        try:
            return self.label(parse_peer_id(text), you=you)
        except BadIdentifier:
            return text

    def resolve(self, text: str, *, device: bool = False) -> bytes:
        """The participant ``text`` names (see the module's docstring): its identity, or
        with ``device`` the very key named (``device revoke`` names one device)."""
        of = (lambda key: key) if device else self.identity
        cleaned = text.strip()
        try:
            return of(parse_peer_id(cleaned))
        except BadIdentifier:
            pass
        wanted = fold(cleaned)
        given = [k for k, n in self.petnames.items() if fold(n) == wanted]
        if given:
            return of(given[0])
        candidates = {k for k, n in self.chosen.items() if fold(n) == wanted}
        fragment = cleaned.lstrip("…")
        if len(fragment) >= MIN_PARTIAL:
            for key in self.known | set(self.petnames) | set(self.chosen):
                ident = peer_id(key)
                if ident.startswith(fragment) or ident.endswith(fragment):
                    candidates.add(of(key))
        elif not candidates:
            raise BadIdentifier(
                f"expected a participant id (12D3KooW…), at least {MIN_PARTIAL} of its "
                f"characters or a name, found {text[:64]!r}"
            )
        if not candidates:
            raise NotFound(f"no known participant is called {cleaned[:64]!r} or has such an id")
        if len(candidates) > 1:
            raise Ambiguous(
                f"{cleaned[:64]!r} names {len(candidates)} participants: "
                f"{self.candidates(candidates)}; give the whole id or set a petname"
            )
        return candidates.pop()

    def candidates(self, keys: Iterable[bytes]) -> str:
        """``alice (12D3KooW…), ~bob! (12D3KooW…)``: named candidates with their whole ids."""
        ordered = sorted(keys, key=peer_id)
        shown = [
            f"{'you' if self.identity(k) == self.me else self.tag(k) or 'unnamed'} ({peer_id(k)})"
            for k in ordered[:MAX_CANDIDATES]
        ]
        more = len(ordered) - MAX_CANDIDATES
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def resolve_entry(
    store: Store, names: Callable[[], Names], text: str, kinds: Sequence[str] = ()
) -> Entry:
    """The entry ``text`` (a whole id or a unique prefix) names, among entries of ``kinds``.

    ``names()`` is called only to name the candidates of an ambiguous prefix.
    """
    cleaned = text.strip().lower()
    found = store.matching(cleaned, kinds, MAX_CANDIDATES + 1)
    wanted = " or ".join(kinds) if kinds else "any"
    if not found:
        if kinds and store.matching(cleaned, (), 1):
            other = store.matching(cleaned, (), 1)[0]
            raise NotFound(
                f"expected the id of a {wanted} entry, found an entry of kind {other.kind}"
            )
        raise NotFound(f"no entry with id starting {cleaned}")
    if len(found) > 1:
        shown = names()
        listed = ", ".join(
            f"{short_entry(e.id)} ({e.kind} by {shown.label(e.author)})"
            for e in found[:MAX_CANDIDATES]
        )
        more = " and more" if len(found) > MAX_CANDIDATES else ""
        raise Ambiguous(
            f"id prefix {cleaned} matches {len(found)} {wanted} entries: {listed}{more}; "
            "give more digits"
        )
    return found[0]


def resolve_org(orgs: Mapping[bytes, str], text: str) -> bytes:
    """The org ``text`` names among ``orgs`` (id -> current name).

    A whole id (64 hex digits); else the orgs whose name is the text (folded as
    :func:`fold`), together with those whose id starts or ends with it (at
    least :data:`MIN_PARTIAL` hex digits). One is the answer; none is
    :class:`NotFound`; several are :class:`Ambiguous`, naming every candidate.
    """
    cleaned = text.strip()
    lower = cleaned.lower()
    if len(lower) == 64 and all(c in "0123456789abcdef" for c in lower):
        key = bytes.fromhex(lower)
        if key in orgs:
            return key
        raise NotFound(f"no known org has the id {lower}")
    wanted = fold(cleaned)
    candidates = {k for k, n in orgs.items() if fold(n) == wanted}
    if len(lower) >= MIN_PARTIAL and all(c in "0123456789abcdef" for c in lower):
        candidates |= {k for k in orgs if k.hex().startswith(lower) or k.hex().endswith(lower)}
    if not candidates:
        raise NotFound(
            f"no known org is called {cleaned[:64]!r} or has an id with it "
            f"(give a name, or at least {MIN_PARTIAL} hex digits of the id)"
        )
    if len(candidates) > 1:
        ordered = sorted(candidates, key=lambda k: (fold(orgs[k]), k))
        listed = ", ".join(f"{orgs[k]} ({k.hex()})" for k in ordered[:MAX_CANDIDATES])
        more = len(ordered) - MAX_CANDIDATES
        raise Ambiguous(
            f"{cleaned[:64]!r} names {len(candidates)} orgs: {listed}"
            + (f" and {more} more" if more > 0 else "")
            + "; give more of the id"
        )
    return candidates.pop()


def read_petnames(home: Home) -> dict[bytes, str]:
    """The petnames of ``home`` (none if it has no peer book yet)."""
    from samoorg.node.peerbook import PeerBook, peer_book_path

    if not peer_book_path(home).exists():
        return {}
    with PeerBook.open(home) as book:
        return book.petnames()


def give_petname(home: Home, names: Names, key: bytes, name: str) -> str:
    """Store ``name`` as the petname of ``key`` (``samoorg name set``, the names page).

    Refused (:class:`~samoorg.crdt.framework.errors.MalformedInput`) when the
    name cannot be one (:func:`check_petname`), and
    (:class:`~samoorg.crdt.framework.errors.RuleViolation`) when another
    participant already has it here. Returns the name stored.
    """
    from samoorg.crdt.framework.errors import MalformedInput, RuleViolation
    from samoorg.node.peerbook import PeerBook

    try:
        wanted = check_petname(name)
    except BadName as exc:
        raise MalformedInput(str(exc)) from None
    taken = [k for k, n in names.petnames.items() if fold(n) == fold(wanted) and k != key]
    if taken:
        raise RuleViolation(
            f"you already call {peer_id(taken[0])} {names.petnames[taken[0]]!r}: "
            "a petname names one participant (remove or rename that one first)"
        )
    with PeerBook.open(home) as book:
        book.set_petname(key, wanted)
    return wanted


def forget_petname(home: Home, key: bytes) -> None:
    """Remove the petname of ``key`` (``samoorg name remove``); NotFound if it has none."""
    from samoorg.node.peerbook import PeerBook

    with PeerBook.open(home) as book:
        if not book.remove_petname(key):
            raise NotFound(f"you gave {peer_id(key)} no name")


def known_keys(store: Store, home: Home) -> frozenset[bytes]:
    """Participants an id fragment may name: held feeds, and the peer book's peers and follows."""
    from samoorg.node.peerbook import PeerBook, peer_book_path

    keys = {head.author for head in store.heads()}
    if peer_book_path(home).exists():
        with PeerBook.open(home) as book:
            keys.update(record.peer for record in book.all())
            keys.update(book.follows())
    return frozenset(keys)


_PEER_FIELDS: Final = frozenset(
    {
        "id",
        "author",
        "from",
        "to",
        "with",
        "rater",
        "member",
        "inviter",
        "invitee",
        "peer",
        "subject",
        "beneficiary",
        "by",
        "recipient",
        "creator",
    }
)
"""JSON fields that may hold a peer id: each gets a ``<field>_name`` sibling (``name`` for
``id``)."""


def with_names(value: Any, names: Names | Callable[[], Names]) -> Any:
    """``value`` (JSON-shaped) with the name of every peer id field beside it.

    A field ``author`` holding a peer id gains ``author_name`` (``id`` gains
    ``name``): the petname, else the self-chosen name, else ``null``. Existing
    fields are never changed, so applying it twice changes nothing.
    ``names`` may be a function, called once, at the first peer id met.
    """
    found: list[Names] = [names] if isinstance(names, Names) else []

    def name_of(key: bytes) -> str | None:
        if not found:
            assert callable(names)
            found.append(names())
        return found[0].name(key)

    return _named(value, name_of)


def _named(value: Any, name_of: Callable[[bytes], str | None]) -> Any:
    if isinstance(value, list):
        return [_named(item, name_of) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        out[key] = _named(item, name_of)
        if key in _PEER_FIELDS and isinstance(item, str):
            sibling = "name" if key == "id" else f"{key}_name"
            if sibling in value:
                continue
            try:
                out[sibling] = name_of(parse_peer_id(item))
            except BadIdentifier:
                continue
    return out


def chosen_names(views: Views) -> dict[bytes, str]:
    """Self-chosen display names from the views' ``profile`` records (empty before any)."""
    return views.profiles.display_names()


def local_names(home: Home, store: Store, views: Views, me: bytes | None) -> Names:
    """The :class:`Names` of a home: its petnames, the profiles its views hold, its known keys.

    ``me`` is None when our own key cannot be read (an altered key file): the
    store stays readable, and no one is shown as ``you``. ``me`` may be this
    device's key: the names are of its identity.
    """
    known = known_keys(store, home) | ({me} if me is not None else set())
    ident = views.identity(me) if me is not None else None
    return Names(ident, read_petnames(home), chosen_names(views), known, views.identities())


def directory(names: Names) -> list[dict[str, Any]]:
    """Every named participant, by name: ``samoorg name list --json`` and ``GET /names``."""
    keys = {names.identity(k) for k in set(names.petnames) | set(names.chosen)}
    rows = [
        {
            "id": peer_id(key),
            "name": names.name(key),
            "petname": names.petnames.get(key),
            "chosen": names.chosen.get(key),
            "collides": names.collides(key),
        }
        for key in keys
    ]
    rows.sort(key=lambda row: (fold(str(row["name"])), row["id"]))
    return rows


def names_from_json(value: Any) -> Names:
    """The :class:`Names` a daemon answered (``GET /names``), for the CLI's tables."""
    petnames: dict[bytes, str] = {}
    chosen: dict[bytes, str] = {}
    for row in value["items"]:
        key = parse_peer_id(row["id"])
        if row.get("petname"):
            petnames[key] = str(row["petname"])
        if row.get("chosen"):
            chosen[key] = str(row["chosen"])
    me = value.get("me")
    return Names(None if me is None else parse_peer_id(me), petnames, chosen)
