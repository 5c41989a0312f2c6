"""The record families: one module per family of entry kinds (see :mod:`samoorg.crdt.registry`).

Each module owns its kind names, records, body builders, decoders, rules,
domain and sample strategy, and ends with ``FAMILY = Family(...)``; the
registry lists the module by name.
"""
