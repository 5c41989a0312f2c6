"""Action services: one function per write of the community records, for every caller.

Theory of operation. A write command of the CLI, a ``POST`` of the local API
and a form of the daemon's web pages all do the same thing: read typed
arguments, check them against the views, sign one or a few records through the
one write path (:class:`~samoorg.node.writer.Writer`), and answer with the JSON
shape the CLI's ``--json`` prints. Each such action is a plain function of one
module per family (:mod:`.trust`, :mod:`.pledges`, :mod:`.appeals`,
:mod:`.forum`, :mod:`.polls`, :mod:`.agreements`, :mod:`.devices`) and is written once:

* **Calling convention.** ``action(actor, *, name=value, ...) -> Done``. The
  first argument is an :class:`Actor` (the home, the store, its views and the
  key); the others are keyword arguments of plain types: ``str`` for text and
  for references (a whole id, a unique hex prefix of one, or a peer id),
  :class:`~samoorg.crdt.algorithms.money.Amount` for money, ``int`` milliseconds for times,
  ``bool`` for flags. No HTTP object, no typer object. References are resolved
  by the actor (:meth:`Actor.entry`, :meth:`Actor.member`,
  :mod:`samoorg.node.actions.refs`) with the store of the process that runs the
  action, so a prefix means the same thing offline and through the daemon.
* **Answer.** :class:`Done`: ``shape`` is the JSON object of ``--json`` (and of
  the API's answer; bytes and :class:`~samoorg.node.api.times.Instant` values
  are written by :func:`~samoorg.node.api.shapes.jsonable`), ``entries`` the
  records signed, ``notes`` one-line remarks for a person (the CLI writes them
  to stderr, the API in the ``Samoorg-Notes`` header, a web page may flash
  them).
* **Refusals** are the project's errors: :class:`~samoorg.crdt.framework.errors.RuleViolation`
  with the view's reason (nothing is stored), :class:`~samoorg.crdt.framework.errors.MalformedInput`
  for a value that does not parse (an amount, a time), :class:`~samoorg.node.errors.NotFound`
  / :class:`~samoorg.node.errors.Ambiguous` for references. The API turns them
  into 409/422/404/400 answers with the same stable names
  (:mod:`samoorg.node.api.errors`), the CLI into one line and exit 1 or 2.
* **Transport.** Each action is also described by an :class:`Action` of
  :data:`~samoorg.node.actions.table.ACTIONS`: its HTTP method and path, the
  JSON fields of its body (:class:`Field`) and ``run(actor, args)``, which reads
  the validated fields and calls the function. The API serves exactly that
  table (and documents it in its OpenAPI document); the CLI builds the same
  JSON body from its options and either sends it to the running daemon or runs
  the same ``run`` on its own store (:func:`samoorg.cli.community.act`), which
  is why both print the same output.

Example, from a daemon's web page::

    from samoorg.node.actions import pledges
    actor = api_context.actor()        # or Actor.of(home, store, live_state, signer)
    done = pledges.intend(actor, amount=Amount.parse("50", "EUR"), to="12D3KooW...")
    done.shape["id"], done.notes
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from samoorg.crdt.algorithms.money import Amount
    from samoorg.crdt.framework.views import Views
    from samoorg.crdt.kinds.social import SocialViews
    from samoorg.node.checkpoint import StoreViews
    from samoorg.node.home import Home
    from samoorg.node.names import Names
    from samoorg.node.store import Store
    from samoorg.node.writer import Writer
    from samoorg.protocol import dcbor
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.entry import Entry


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts and on what: the home, its store and views, and (when signing) the key."""

    home: Home
    store: Store
    live: StoreViews
    """The views of ``store`` (the daemon's own, or a command's from the checkpoint)."""
    device: bytes
    """This device's key (known without decrypting the key); it signs."""
    load_signer: Callable[[], Signer]
    """The key, asked for only when a record is signed (a passphrase may be prompted)."""
    social_of: Callable[[bytes], SocialViews] | None = None
    """The social views seen from a root, remembered (the daemon's ``LiveViews.social``)."""
    names_of: Callable[[], Names] | None = None
    """Who is called what, remembered (the daemon's); else read from the home."""

    @classmethod
    def of(
        cls,
        home: Home,
        store: Store,
        live: StoreViews,
        signer: Signer,
        social_of: Callable[[bytes], SocialViews] | None = None,
        names_of: Callable[[], Names] | None = None,
    ) -> Actor:
        """An actor with a key already loaded (the daemon's)."""
        return cls(home, store, live, signer.public_key, lambda: signer, social_of, names_of)

    @property
    def me(self) -> bytes:
        """Our identity: the founding key of this device's identity (§8.11.1), which every
        view counts as the participant."""
        return self.views.identity(self.device)

    def social(self) -> SocialViews:
        """The social views seen from us (trust list, forum, ratings, polls, utility)."""
        if self.social_of is not None:
            return self.social_of(self.me)
        return self.views.social(self.me)

    @property
    def views(self) -> Views:
        """The current views."""
        return self.live.views

    def writer(self, *, restoring: bool = False) -> Writer:
        """The one write path for this actor's records.

        Refused (:class:`~samoorg.crdt.framework.errors.RuleViolation`) while the
        home's restore from a backup is unfinished (:mod:`samoorg.node.backup`),
        except for the write that finishes it (``restoring``).
        """
        from samoorg.node.writer import Writer

        if not restoring:
            from samoorg.node.backup import refuse_while_restoring

            refuse_while_restoring(self.home)
        return Writer(self.store, self.live, self.load_signer())

    def write(self, kind: str, body: Mapping[str, dcbor.Value]) -> Entry:
        """Sign and store one record, or raise the view's :class:`RuleViolation`."""
        return self.writer().write(kind, body)

    def names(self) -> Names:
        """Who is called what for this actor: petnames, profile names, known ids."""
        from samoorg.node.names import local_names

        if self.names_of is not None:
            return self.names_of()
        return local_names(self.home, self.store, self.views, self.me)

    def entry(self, ref: str, *kinds: str) -> Entry:
        """The held entry named by ``ref`` (whole id or unique prefix), of one of ``kinds``."""
        from samoorg.node.actions.refs import resolve_entry

        return resolve_entry(self.store, self.live, ref, *kinds, names=self.names)

    def member(self, ref: str) -> bytes:
        """A participant key from a peer id, a name or a unique part of a known id."""
        from samoorg.node.actions.refs import resolve_member

        return resolve_member(self.names(), ref)

    def device_key(self, ref: str) -> bytes:
        """The very key ``ref`` names (not its identity): one device of someone."""
        from samoorg.node.actions.refs import resolve_member

        return resolve_member(self.names(), ref, device=True)


@dataclass(frozen=True, slots=True)
class Done:
    """What an action did: the answer's JSON shape, the records signed, remarks."""

    shape: dict[str, Any]
    entries: tuple[Entry, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an action's JSON body."""

    name: str
    kind: type
    """``str``, ``int``, ``bool`` or ``list`` (of strings)."""
    description: str
    required: bool = False
    schema: Mapping[str, Any] = field(default_factory=dict)
    """More JSON schema for the OpenAPI document (``maxLength``, ``format``)."""


Args = Mapping[str, Any]
"""An action's validated body fields, plus ``id`` for a path with ``{id}``."""


@dataclass(frozen=True, slots=True)
class Action:
    """One write action as the API serves it and the CLI sends it."""

    name: str
    """Stable name, ``family.verb`` (``pledge.commit``)."""
    method: str
    path: str
    """Under ``/api/v1``; ``{id}`` is a reference (whole id or unique prefix)."""
    summary: str
    fields: Sequence[Field]
    run: Callable[[Actor, Args], Done]
    answer: str
    """The schema name of :data:`~samoorg.node.api.openapi.SCHEMAS` of ``Done.shape``."""
    status: int = 201
    peer_book: bool = False
    """It changes the peer book, not the store (the daemon applies that at once)."""

    def call(self, actor: Actor, body: Mapping[str, Any], ident: str | None = None) -> Done:
        """``run`` on ``body`` after :func:`check_body` (``ident`` fills ``{id}``)."""
        args = dict(check_body(self.fields, body))
        if ident is not None:
            args["id"] = ident
        return self.run(actor, args)


def check_body(fields: Sequence[Field], value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object with exactly these fields of these types.

    Raises :class:`~samoorg.node.api.errors.ApiError` ``invalid_body`` (422) otherwise.
    """
    from samoorg.node.api.errors import ApiError

    if not isinstance(value, Mapping):
        raise ApiError("invalid_body", f"expected a JSON object, found {type(value).__name__}")
    known = {f.name: f for f in fields}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ApiError("invalid_body", f"expected no other fields, found {', '.join(unknown)}")
    for spec in fields:
        if spec.name not in value:
            if spec.required:
                raise ApiError("invalid_body", f"expected field {spec.name!r}, found none")
            continue
        found = value[spec.name]
        ok = isinstance(found, spec.kind) and not (spec.kind is int and isinstance(found, bool))
        if ok and spec.kind is list:
            ok = all(isinstance(item, str) for item in found)
        if not ok:
            raise ApiError(
                "invalid_body",
                f"expected {spec.name} a {_type_name(spec.kind)}, found {type(found).__name__}",
            )
    return value


def _type_name(kind: type) -> str:
    return "list of strings" if kind is list else kind.__name__


def now() -> int:
    """The current time in ms (read through the store module so tests can move it)."""
    from samoorg.node import store

    return store.now_ms()


def text(args: Args, name: str, default: str = "") -> str:
    """A text field of ``args`` (``default`` when absent)."""
    value = args.get(name, default)
    assert isinstance(value, str)
    return value


def optional_time(args: Args, name: str) -> int | None:
    """An RFC 3339 time field of ``args`` as milliseconds, or ``None`` when absent."""
    from samoorg.node.api.times import parse_rfc3339

    value = args.get(name)
    return None if value is None else parse_rfc3339(str(value), name)


def amount(args: Args, amount_field: str = "amount", currency_field: str = "currency") -> Amount:
    """The :class:`~samoorg.crdt.algorithms.money.Amount` of two text fields (MalformedInput)."""
    from samoorg.crdt.algorithms.money import Amount

    return Amount.parse(text(args, amount_field), text(args, currency_field))
