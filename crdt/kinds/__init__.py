"""The record families: one module per family of entry kinds (see ``framework/registry.py``).

Each module owns its kind names, records, body builders, decoders, rules,
domain and sample strategy, and ends with ``FAMILY = Family(...)``; the
registry lists the module by name. ``social`` and ``inbox`` are not families:
they combine the views of several (root-relative results, action items).
"""
