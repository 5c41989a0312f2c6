"""Samoorg wire protocol: pure, sans-IO code.

Nothing in this package opens a socket, touches a file, or imports trio.
It defines the signed entry format, its validation, fork proofs, bundles and
the replication session state machine. See ``docs/protocol.md``.
"""
