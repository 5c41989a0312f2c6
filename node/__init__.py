"""The I/O shell of a Samoorg node: store, keystore, home directory, network.

Everything that touches files, SQLite, sockets or trio lives here; the
decisions it acts on come from :mod:`samoorg.protocol` and :mod:`samoorg.crdt`.
The network modules import libp2p and are never imported by local commands.
"""
