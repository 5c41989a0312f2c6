"""The identity key file: an Ed25519 seed, optionally sealed with a passphrase.

The file is JSON so that a user can see what it is::

    {"format": "samoorg-key/1", "peer_id": "12D3KooW...", "public_key": "<hex>",
     "protection": "none", "seed": "<hex>"}

or, with a passphrase, ``"protection": "argon2id-secretbox"`` and ``salt``,
``opslimit``, ``memlimit``, ``ciphertext`` (nonce || box, hex) in place of
``seed``. The key is derived with Argon2id (libsodium ``crypto_pwhash``) and the
seed sealed with XSalsa20-Poly1305 (``SecretBox``). The public key stays in
clear so that ``samoorg whoami`` needs neither the passphrase nor libsodium.

Every read checks the fields against each other, so that an altered file is
refused rather than shown as someone else's identity: ``peer_id`` must be the
one of ``public_key``, and an unsealed ``seed`` must derive ``public_key``
(a sealed one is checked when it is opened). The file is read only if it is a
regular file (a FIFO would block every command).

Like ssh, we refuse a key file that group or others can read, and say how to
fix it. The file is created with mode 0600 and never rewritten in place.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from samoorg.node.ed25519_public import public_key_of_seed
from samoorg.node.errors import KeyFileError
from samoorg.node.regular_file import read_regular_file
from samoorg.protocol.ids import peer_id

if TYPE_CHECKING:
    # Imported lazily at run time: libsodium costs start-up time that
    # `samoorg whoami` (which only reads the public key) should not pay.
    from samoorg.protocol.crypto import Signer

FORMAT: Final = "samoorg-key/1"
PASSPHRASE_ENV: Final = "SAMOORG_PASSPHRASE"  # noqa: S105 - a variable name, not a secret

PassphraseProvider = Callable[[], str]


MAX_KEY_FILE: Final = 64 * 1024
"""A key file is a few hundred bytes; anything much larger is not one."""


def check_private_file(
    path: Path, what: str = "key file", missing: str = "run 'samoorg init' first"
) -> None:
    """Raise :class:`KeyFileError` unless ``path`` exists and only its owner may access it.

    Used for every secret in the home (the key file, the API token); ``what``
    names the file in the message and ``missing`` says what to do if it is absent.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"no {what} at {path}: {missing}") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror}") from None
    _check_permissions(path, info, what)


def _check_permissions(path: Path, info: os.stat_result, what: str = "key file") -> None:
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"permissions {stat.S_IMODE(info.st_mode):04o} for '{path}' are too open: the {what} "
            f"must not be accessible by others; run: chmod 600 '{path}'"
        )


def _read(path: Path) -> dict[str, Any]:
    """The key file's fields, read only from a regular file and checked against each other."""
    try:
        text = read_regular_file(
            path,
            MAX_KEY_FILE,
            "key file",
            KeyFileError,
            lambda info: _check_permissions(path, info),
        )
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}: run 'samoorg init' first") from None
    try:
        data = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"key file {path} is not a Samoorg key file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KeyFileError(f"key file {path}: expected format {FORMAT!r}, found another")
    _cross_check(data, path)
    return data


def _cross_check(data: dict[str, Any], path: Path) -> None:
    """Refuse a file whose fields disagree (one was altered): the seed, public key, peer id.

    A sealed seed cannot be read without the passphrase; :func:`load_signer`
    checks it against the public key once it is opened.
    """
    public = _hex_field(data, "public_key", 32, path)
    recorded = data.get("peer_id")
    if recorded != peer_id(public):
        raise KeyFileError(
            f"key file {path} was altered: expected peer_id {peer_id(public)} for its "
            f"public_key, found {str(recorded)[:60]!r}; restore the file from a backup"
        )
    if data.get("protection") == "none":
        seed = _hex_field(data, "seed", 32, path)
        if public_key_of_seed(seed) != public:
            raise KeyFileError(
                f"key file {path} was altered: its public_key is not the one of its seed; "
                "restore the file from a backup"
            )


def _hex_field(data: dict[str, Any], name: str, size: int | None, path: Path) -> bytes:
    value = data.get(name)
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or (size is not None and len(raw) != size):
        raise KeyFileError(f"key file {path}: field {name!r} is missing or malformed")
    return raw


def read_public_key(path: Path) -> bytes:
    """The public key, without decrypting anything (and without importing libsodium)."""
    return _hex_field(_read(path), "public_key", 32, path)


def create_key_file(path: Path, passphrase: str | None = None, seed: bytes | None = None) -> Signer:
    """Write a new identity to ``path`` (which must not exist) and return it."""
    from samoorg.protocol.crypto import Signer

    signer = Signer(seed) if seed is not None else Signer.generate()
    data: dict[str, Any] = {
        "format": FORMAT,
        "peer_id": peer_id(signer.public_key),
        "public_key": signer.public_key.hex(),
    }
    if passphrase:
        data.update(_seal(signer.seed, passphrase))
    else:
        data.update({"protection": "none", "seed": signer.seed.hex()})
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(
            f"a key file already exists at {path}; refusing to overwrite it"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    return signer


def _seal(seed: bytes, passphrase: str) -> dict[str, Any]:
    import nacl.pwhash
    import nacl.secret
    import nacl.utils

    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    ops = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    mem = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
    key = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), salt, opslimit=ops, memlimit=mem
    )
    box = nacl.secret.SecretBox(key).encrypt(seed)
    return {
        "protection": "argon2id-secretbox",
        "salt": salt.hex(),
        "opslimit": ops,
        "memlimit": mem,
        "ciphertext": bytes(box).hex(),
    }


def _open(data: dict[str, Any], passphrase: str, path: Path) -> bytes:
    import nacl.exceptions
    import nacl.pwhash
    import nacl.secret

    salt = _hex_field(data, "salt", nacl.pwhash.argon2id.SALTBYTES, path)
    ciphertext = _hex_field(data, "ciphertext", None, path)
    ops, mem = data.get("opslimit"), data.get("memlimit")
    argon = nacl.pwhash.argon2id
    # Bounded so that a tampered file cannot make us allocate without limit.
    if not (
        isinstance(ops, int)
        and isinstance(mem, int)
        and argon.OPSLIMIT_MIN <= ops <= argon.OPSLIMIT_SENSITIVE
        and argon.MEMLIMIT_MIN <= mem <= argon.MEMLIMIT_SENSITIVE
    ):
        raise KeyFileError(f"key file {path}: opslimit/memlimit missing or out of range")
    try:
        key = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), salt, opslimit=ops, memlimit=mem
        )
        return bytes(nacl.secret.SecretBox(key).decrypt(ciphertext))
    except nacl.exceptions.CryptoError:
        raise KeyFileError(f"wrong passphrase for {path}") from None


def env_passphrase() -> str | None:
    """The passphrase from ``$SAMOORG_PASSPHRASE``: ``None`` if unset, ``""`` for none."""
    return os.environ.get(PASSPHRASE_ENV)


def no_terminal_error(path: Path) -> KeyFileError:
    """The refusal when a sealed key must be opened and nobody can be asked."""
    return KeyFileError(
        f"key file {path} is protected by a passphrase and there is no terminal to ask for it: "
        f"set {PASSPHRASE_ENV} to the passphrase"
    )


def load_signer(path: Path, passphrase: PassphraseProvider | None = None) -> Signer:
    """Load the identity; ``passphrase()`` is called only for a sealed key without the env var."""
    from samoorg.protocol.crypto import SEED_SIZE, Signer

    data = _read(path)
    protection = data.get("protection")
    if protection == "none":
        seed = _hex_field(data, "seed", SEED_SIZE, path)
    elif protection == "argon2id-secretbox":
        secret = env_passphrase()
        if secret == "":
            raise KeyFileError(
                f"key file {path} is protected by a passphrase, but {PASSPHRASE_ENV} is empty "
                "(which means no passphrase): set it to the passphrase, or unset it to be asked"
            )
        if secret is None:
            if passphrase is None:
                raise no_terminal_error(path)
            secret = passphrase()
        seed = _open(data, secret, path)
    else:
        raise KeyFileError(f"key file {path}: unknown protection {protection!r}")
    signer = Signer(seed)
    if signer.public_key != _hex_field(data, "public_key", 32, path):
        raise KeyFileError(
            f"key file {path} was altered: its public_key is not the one of its seed; "
            "restore the file from a backup"
        )
    return signer
