"""The framework every record family runs on: the entry index, the views facade, the
domain base classes, digests, reasons, field readers and the registry of families
(:mod:`samoorg.crdt.framework.registry`)."""
