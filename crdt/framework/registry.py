"""The registry of record kinds: one module per family of kinds, one line here per module.

Theory of operation
-------------------
A *record family* is one module under ``samoorg.crdt.kinds`` that owns
everything about a few entry kinds that belong together (``forum.idea`` and
``forum.comment``; the four ``trust.*`` kinds; ...):

* the kind names, as ``Final`` constants whose names are unique across all
  families (``TRUST_ACCEPT`` and ``AGREEMENT_ACCEPT``, never two ``ACCEPT``);
* the frozen dataclasses of its records;
* a body builder per kind (``idea_body(title, text) -> dict``): the only
  place that writes the field names, used by the CLI, the API, the node and
  the test fixtures alike;
* a decoder per kind (``Entry -> record``) that raises
  :class:`~samoorg.crdt.framework.errors.RuleViolation` for a body breaking the field
  rules, and nothing else, whatever the body;
* the cross-entry rules and the state, as a
  :class:`~samoorg.crdt.framework.domain.Domain` subclass whose
  :attr:`~samoorg.crdt.framework.domain.Domain.decoders` maps each kind to its decoder;
* ``samples(ctx)``: a Hypothesis strategy of ``(kind, body)`` pairs that the
  decoders accept, drawing references (entry ids, keys) from ``ctx`` so that
  some samples also satisfy the cross-entry rules. Hypothesis is a test
  dependency: import it inside the function, never at module level.

The module ends with one declaration::

    FAMILY: Final = Family(ForumState, samples, spec="8.8")

and the family is registered by adding the module's name to
:data:`FAMILY_MODULES` (the one registration line). Everything else reads
the registry: :class:`~samoorg.crdt.framework.views.Views` builds its domains from
:func:`families` (in :data:`FAMILY_MODULES` order, which is the order of
:meth:`Views.digests` and :meth:`Views.invalid`), the writer finds the domains
judging a kind with :func:`family_of`, ``samoorg log`` names the known kinds
with :func:`kind_names`, and ``tests/test_kind_contract.py`` runs the same
contract over every family: any order and duplication of delivery gives the
same digest, incremental equals rebuild, a forked author's entries never
count, and every decoder maps any body to a record or a RuleViolation.

Families are imported on first use (:func:`families`), so importing this
module, or a kind module for its names and builders, stays cheap for the CLI.

The registration API (stable):

* :class:`Family` ``(domain, samples, *, spec, uses=())``
* :class:`SampleContext`: what ``samples`` may refer to
* :func:`families`, :func:`family`, :func:`family_of`, :func:`kind_names`,
  :func:`decode`
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from samoorg.crdt.framework.domain import Domain
    from samoorg.protocol import dcbor
    from samoorg.protocol.entry import Entry

FAMILY_MODULES: Final = (
    "samoorg.crdt.kinds.trust",
    "samoorg.crdt.kinds.pledges",
    "samoorg.crdt.kinds.forum",
    "samoorg.crdt.kinds.ratings",
    "samoorg.crdt.kinds.polls",
    "samoorg.crdt.kinds.devices",
    "samoorg.crdt.kinds.recovery",
    "samoorg.crdt.kinds.agreements",
    "samoorg.crdt.kinds.listings",
    "samoorg.crdt.kinds.reviews",
    "samoorg.crdt.kinds.profiles",
    "samoorg.crdt.kinds.orgs",
)
"""Every family module, in the order views visit them. Add yours here (one line)."""

Body = dict[str, "dcbor.Value"]
Sample = tuple[str, Body]
"""``(kind, body)`` of one entry a sample strategy proposes."""


@dataclass(frozen=True, slots=True)
class SampleContext:
    """What a sample strategy may refer to: the entries written so far, and who writes next."""

    entries: Sequence[Entry]
    """Entries already in the history (every family the test mixes), in writing order."""
    author: bytes
    """The key of the author who will sign the sample."""
    keys: Sequence[bytes]
    """Every author's key in the test (the author included)."""
    now: int
    """The timestamp the sample will be signed with (milliseconds)."""

    def of_kind(self, *kinds: str) -> list[Entry]:
        """The entries so far of ``kinds``, in writing order."""
        return [e for e in self.entries if e.kind in kinds]


Samples = Callable[[SampleContext], "SearchStrategy[Sample]"]


@dataclass(frozen=True, slots=True)
class Family:
    """One registered family: its domain (kinds, decoders, rules) and its sample strategy."""

    domain: type[Domain]
    samples: Samples
    spec: str
    """The section of ``docs/protocol.md`` that specifies the family (``"8.8"``)."""
    uses: tuple[str, ...] = ()
    """Names of families whose entries the rules read (the contract test mixes them in)."""

    @property
    def name(self) -> str:
        """The domain's name: its key in :meth:`Views.digests`."""
        return self.domain.name

    @property
    def kinds(self) -> tuple[str, ...]:
        """The entry kinds of the family."""
        return self.domain.kinds

    @property
    def decoders(self) -> Mapping[str, Callable[[Entry], object]]:
        """Kind -> decoder (``Entry -> record``, raising RuleViolation)."""
        return self.domain.decoders


@cache
def families() -> tuple[Family, ...]:
    """Every registered family, in :data:`FAMILY_MODULES` order (imported on first call)."""
    found: list[Family] = []
    seen: dict[str, str] = {}
    for name in FAMILY_MODULES:
        declared = importlib.import_module(name).FAMILY
        if not isinstance(declared, Family):
            raise TypeError(f"expected {name}.FAMILY to be a Family, found {declared!r}")
        for kind in declared.kinds:
            if kind in seen:
                raise ValueError(f"kind {kind} is registered by {seen[kind]} and {name}")
            seen[kind] = name
        found.append(declared)
    return tuple(found)


def family(name: str) -> Family:
    """The family whose domain is called ``name``; KeyError if none."""
    for found in families():
        if found.name == name:
            return found
    raise KeyError(name)


@cache
def _by_kind() -> dict[str, Family]:
    return {kind: f for f in families() for kind in f.kinds}


def family_of(kind: str) -> Family | None:
    """The family that owns entry kind ``kind``, if any."""
    return _by_kind().get(kind)


def kind_names() -> frozenset[str]:
    """Every registered entry kind."""
    return frozenset(_by_kind())


def decode(entry: Entry) -> object:
    """The record ``entry`` carries; RuleViolation if malformed, KeyError for an unknown kind."""
    return _by_kind()[entry.kind].decoders[entry.kind](entry)
