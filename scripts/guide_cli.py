"""The ``samoorg`` command as ``scripts/gen_guide.py`` runs it: fixed clock, seeded keys.

Test and documentation tooling only; nothing in the product imports this.
It runs the real CLI (:func:`samoorg.cli.main.main`) in this process after
fixing what would make the user guide differ on every run:

* ``SAMOORG_GUIDE_NOW_MS``: the clock. Entry timestamps, expiry checks and
  "ago" times read it (``samoorg.node.store.now_ms`` and ``time.time``);
* ``SAMOORG_GUIDE_SEED``: new identity keys and invite secrets are derived
  from it (SHA-256) instead of the operating system's random source.

Commands that open libp2p (``node run``, ``sync``) keep the real
``time.time`` and random source, which libp2p relies on; only the store's
clock is fixed for them, so the entries and peer-book times they write are
still reproducible.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
import time

NETWORK_COMMANDS = frozenset({"node", "sync"})
"""First command words that open libp2p."""


def _derived(seed: str, label: str, size: int) -> bytes:
    return hashlib.sha256(f"{seed}:{label}".encode()).digest()[:size]


def install(now_ms: int, seed: str, argv: list[str]) -> None:
    """Fix the clock (and, for local commands, the random source) of this process."""
    from samoorg.node import store

    store.now_ms = lambda: now_ms
    from samoorg.cli.main import _command_word

    if _command_word(argv) in NETWORK_COMMANDS:
        return
    import secrets

    from samoorg.protocol.crypto import Signer

    time.time = lambda: now_ms / 1000
    time.time_ns = lambda: now_ms * 1_000_000
    counter = itertools.count()

    def token_bytes(size: int | None = None) -> bytes:
        return _derived(seed, f"secret-{next(counter)}", size or 32)

    def generate(cls: type[Signer]) -> Signer:
        return cls(_derived(seed, f"key-{next(counter)}", 32))

    secrets.token_bytes = token_bytes
    Signer.generate = classmethod(generate)  # type: ignore[method-assign, assignment, arg-type]


def run(argv: list[str]) -> int:
    """Run ``samoorg ARGV`` with the guide's clock and seed from the environment."""
    install(int(os.environ["SAMOORG_GUIDE_NOW_MS"]), os.environ["SAMOORG_GUIDE_SEED"], argv)
    from samoorg.cli.main import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
