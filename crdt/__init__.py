"""Deterministic views over a set of verified entries.

Every view here is a pure function of the *set* of entries a node holds (and
of the set of authors flagged by fork proofs): any delivery order, with any
duplication, gives the same state. No I/O; the node feeds entries in.

Three groups: :mod:`~samoorg.crdt.framework` (index, views, domain base,
digests, reasons, registry), :mod:`~samoorg.crdt.kinds` (one module per
record family, plus the views that combine families: ``social``, ``inbox``)
and :mod:`~samoorg.crdt.algorithms` (money, netting, utility, shares, text CRDT).
"""
