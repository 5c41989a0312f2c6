"""The API's bearer token: a random secret in ``api.token`` in the home, mode 0600.

The daemon creates the file on its first start (exclusively, so two starts
cannot both write it) and reads it on every later one, so a client's token
stays valid across restarts; delete the file to change it. Like the key file,
a token file that group or others may access is refused
(:func:`~samoorg.node.keystore.check_private_file`): anyone who can read it
can drive the node.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Final

from samoorg.node.errors import KeyFileError
from samoorg.node.home import Home
from samoorg.node.keystore import check_private_file

TOKEN_NAME: Final = "api.token"  # noqa: S105 - a file name, not a secret
TOKEN_BYTES: Final = 32
MAX_TOKEN_CHARS: Final = 256
WHAT: Final = "API token file"


def token_file(home: Home) -> Path:
    """Where the home's API token lives."""
    return home.path / TOKEN_NAME


def ensure_token(home: Home) -> str:
    """The home's token, creating the file (0600) with a fresh one if there is none."""
    path = token_file(home)
    home.path.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token(path)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token


def read_token(path: Path) -> str:
    """The token in ``path``; refused if the file is too open or not a token."""
    check_private_file(path, WHAT, "start 'samoorg node run' to create it")
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read {WHAT} {path}: {exc}") from None
    if not text or len(text) > MAX_TOKEN_CHARS or not text.isprintable() or " " in text:
        raise KeyFileError(
            f"{WHAT} {path}: expected one token of 1 to {MAX_TOKEN_CHARS} printable characters, "
            "found something else; delete the file to make a new one"
        )
    return text


def token_matches(expected: str, given: str) -> bool:
    """Compare in constant time (the comparison must not leak a prefix)."""
    return hmac.compare_digest(expected.encode(), given.encode())
