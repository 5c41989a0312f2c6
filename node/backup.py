"""Backups that cannot fork: one file with the key, the store and the peer book.

Theory of operation (``docs/user-guide.md``, "Backups and a second machine").
A feed forks when one key signs two histories, which is what a copied home
does. So a backup is never *used* as the key it holds: restoring it makes a
new device of the same identity (``docs/protocol.md`` §8.11).

**The file.** ``samoorg backup FILE`` writes, created ``0600``::

    MAGIC ("samoorg-backup/1\\n")
    u32 big-endian n, then n bytes: the manifest (JSON, at most 64 KiB)
    32 bytes: SHA-256 of the manifest
    the parts, in the manifest's order, each exactly its size

The manifest is ``{"format", "identity", "device", "head", "created",
"parts": [{"name", "size", "sha256"}, ...]}`` with the parts ``key`` (the
home's key file as it is, never decrypted: sealed if it has a passphrase),
``store`` (a consistent snapshot of the store: ``VACUUM INTO`` is one read
transaction, safe while a daemon writes) and ``peers`` (the peer book,
likewise; empty if there is none). ``device`` is the key's peer id,
``identity`` the founder of its identity, ``head`` its own feed's seq in the
snapshot. The file is written as a temporary file beside ``FILE`` and linked
into place (an existing ``FILE`` is replaced only with ``force``).

**Reading** (:func:`read_backup`) is bounded and checked before anything is
written: a regular file, the magic, a manifest within its bound whose parts
are exactly these three with sizes within theirs, a file size equal to their
sum (a truncated or padded file is refused), each part's SHA-256, a key file
whose public key is ``device``, SQLite files. :func:`restore` then builds the
new home in a staging folder beside it (the snapshot, the peer book, a
**new** key, the marker ``restore-pending.json``), checks the store
(``quick_check``, every signature and link, ``device``'s head equal to
``head``) and renames the folder into place: a refused backup leaves no home.

**Until the restore is finished** the marker makes every write of the home
refuse (:func:`refuse_while_restoring`, called by the actions' writer), so
the new key's first entry can still be the ``device.accept`` that joins the
identity. It is finished either by a join with the original device's code
(the ``device.accept`` action removes the marker: :func:`finish_restore`) or,
when the user confirms the original is lost, by :func:`join_as_lost_original`:
the backed-up key signs ONE ``device.add`` on its feed (seq ``head + 1``), the
new key accepts it and revokes the old key from ``head + 2`` on, so anything a
surviving copy of the original writes after that add is void. If the original
was in fact alive and had signed ``head + 1`` itself, that is a fork of the old
feed, handled by the fork policy (§4.4).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.node.errors import NodeError
from samoorg.node.home import Home

if TYPE_CHECKING:
    from collections.abc import Sequence

    from samoorg.node.keystore import PassphraseProvider
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.entry import Entry

MAGIC: Final = b"samoorg-backup/1\n"
FORMAT: Final = "samoorg-backup/1"
PENDING_FORMAT: Final = "samoorg-restore/1"
PENDING_FILE: Final = "restore-pending.json"
MAX_MANIFEST: Final = 64 * 1024
PART_LIMITS: Final = {"key": 64 * 1024, "store": 64 << 30, "peers": 1 << 30}
"""The parts, in file order, and the most bytes each may have."""
CHUNK: Final = 1 << 20
SQLITE_MAGIC: Final = b"SQLite format 3\x00"
HOW_TO_FINISH: Final = (
    "writes nothing until the restore is finished: "
    "run 'samoorg device add' on the original device and here 'samoorg restore FILE --join "
    "CODE', or, if the original device is lost, 'samoorg restore FILE --original-lost'"
)


class BackupError(NodeError):
    """A backup that cannot be written or read (one line; the CLI exits 1)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a backup file: where it starts, its size and its hash."""

    name: str
    offset: int
    size: int
    sha256: bytes


@dataclass(frozen=True, slots=True)
class Backup:
    """A checked backup file: its manifest and its parts."""

    path: Path
    identity: bytes
    device: bytes
    head: int
    created: str
    parts: dict[str, Part]
    key_file: bytes
    """The backed-up key file's bytes (small: read whole)."""


# -- the pending marker -------------------------------------------------------


def pending_path(home: Home) -> Path:
    """The marker of an unfinished restore in ``home``."""
    return home.path / PENDING_FILE


def pending_key(home: Home, name: str = "device") -> bytes | None:
    """A key of ``home``'s unfinished restore (``device``: the backed-up one, or its
    ``identity``), or ``None`` when no restore is unfinished."""
    from samoorg.node.regular_file import read_regular_file

    try:
        raw = read_regular_file(pending_path(home), 4096, "restore marker", BackupError)
    except FileNotFoundError:
        return None
    try:
        return bytes.fromhex(json.loads(raw)[name])
    except (ValueError, KeyError, TypeError):
        return b""  # damaged: still unfinished (and no backup or code matches it)


def refuse_while_restoring(home: Home) -> None:
    """Raise :class:`RuleViolation` (how to finish) while ``home``'s restore is unfinished."""
    if pending_path(home).exists():
        raise RuleViolation("this home was restored from a backup and " + HOW_TO_FINISH)


def finish_restore(home: Home) -> None:
    """The restore of ``home`` is finished (its key joined the identity): drop the marker."""
    pending_path(home).unlink(missing_ok=True)


# -- writing ------------------------------------------------------------------


def snapshot(database: Path, target: Path) -> None:
    """A consistent copy of the SQLite file ``database`` at ``target`` (``VACUUM INTO``)."""
    db = sqlite3.connect(database, timeout=30.0)
    try:
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("VACUUM INTO ?", (str(target),))
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {database}: {exc}") from None
    finally:
        db.close()


def _hash_file(path: Path) -> tuple[int, bytes]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.digest()


def _own_seq(database: Path, device: bytes) -> int:
    """The head seq of ``device``'s feed in the SQLite store ``database`` (0 if none)."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT seq FROM feeds WHERE author = ? AND seq > 0", (device,)).fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read the copy of the store: {exc}") from None
    finally:
        db.close()
    return int(row[0]) if row else 0


@contextmanager
def _scratch(near: Path) -> Iterator[Path]:
    """A private temporary folder beside ``near`` (removed at the end)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=f".{near.name}.", dir=near.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_backup(
    home: Home, target: Path, *, identity: bytes, device: bytes, force: bool, created: str
) -> dict[str, Any]:
    """Write the backup of ``home`` to ``target``; return its manifest.

    ``identity`` is the founder of ``device``'s identity (the caller's views
    know it). Raises :class:`BackupError` if ``target`` exists (without
    ``force``) or a part cannot be read.
    """
    from samoorg.node.peerbook import peer_book_path

    target = target.absolute()
    if target.is_dir():
        raise BackupError(f"{target} is a directory: give the path of a file")
    if (target.exists() or target.is_symlink()) and not force:
        raise BackupError(f"{target} already exists: choose another name, or pass --force")
    key_file = home.key_file.read_bytes()
    with _scratch(target) as scratch:
        store = scratch / "store.sqlite"
        snapshot(home.store_file, store)
        peers = scratch / "peers.sqlite"
        if peer_book_path(home).exists():
            snapshot(peer_book_path(home), peers)
        else:
            peers.write_bytes(b"")
        head = _own_seq(store, device)
        files = {"key": None, "store": store, "peers": peers}
        parts = []
        for name, path in files.items():
            if path is None:
                size, digest = len(key_file), hashlib.sha256(key_file).digest()
            else:
                size, digest = _hash_file(path)
            parts.append({"name": name, "size": size, "sha256": digest.hex()})
        manifest = {
            "format": FORMAT,
            "identity": identity.hex(),
            "device": device.hex(),
            "head": head,
            "created": created,
            "parts": parts,
        }
        encoded = json.dumps(manifest, sort_keys=True).encode()
        partial = scratch / "backup"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + struct.pack(">I", len(encoded)) + encoded)
            out.write(hashlib.sha256(encoded).digest())
            out.write(key_file)
            for path in (store, peers):
                with path.open("rb") as part:
                    shutil.copyfileobj(part, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(partial, target)
        else:
            try:
                os.link(partial, target)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise BackupError(
                    f"{target} already exists: choose another name, or pass --force"
                ) from None
    return manifest


# -- reading ------------------------------------------------------------------


def _bad(path: Path, what: str) -> BackupError:
    return BackupError(f"{path} is not a usable Samoorg backup: {what}")


def _hex32(value: object) -> bytes | None:
    """32 bytes written as hex in the manifest, or None for anything else."""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    return raw if len(raw) == 32 else None


def _hex_key(value: object, path: Path, name: str) -> bytes:
    raw = _hex32(value)
    if raw is None:
        raise _bad(path, f"expected {name} as a 32-byte hex key in its manifest")
    return raw


def _manifest(f: IO[bytes], path: Path, size: int) -> tuple[dict[str, Any], int]:
    head = f.read(len(MAGIC) + 4)
    if len(head) < len(MAGIC) + 4 or not head.startswith(MAGIC):
        raise _bad(path, "it does not start as one")
    (length,) = struct.unpack(">I", head[len(MAGIC) :])
    if length > MAX_MANIFEST or length > size:
        raise _bad(path, f"expected a manifest of at most {MAX_MANIFEST} bytes, found {length}")
    raw = f.read(length)
    digest = f.read(32)
    if len(raw) != length or len(digest) != 32:
        raise _bad(path, "it is truncated (inside its manifest)")
    if hashlib.sha256(raw).digest() != digest:
        raise _bad(path, "its manifest is damaged (SHA-256 differs)")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(path, "its manifest is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(path, f"expected format {FORMAT!r} in its manifest")
    return manifest, len(head) + length + 32


def _parts(manifest: dict[str, Any], path: Path, start: int, size: int) -> dict[str, Part]:
    listed = manifest.get("parts")
    names = list(PART_LIMITS)
    if not isinstance(listed, list) or len(listed) != len(names):
        raise _bad(path, f"expected the parts {', '.join(names)} in its manifest")
    parts: dict[str, Part] = {}
    offset = start
    for name, item in zip(names, listed, strict=True):
        if not isinstance(item, dict) or item.get("name") != name:
            raise _bad(path, f"expected the parts {', '.join(names)} in its manifest")
        length, digest = item.get("size"), item.get("sha256")
        if type(length) is not int or not 0 <= length <= PART_LIMITS[name]:
            raise _bad(path, f"expected a {name} part of at most {PART_LIMITS[name]} bytes")
        hashed = _hex32(digest)
        if hashed is None:
            raise _bad(path, f"expected the SHA-256 of the {name} part in its manifest")
        parts[name] = Part(name, offset, length, hashed)
        offset += length
    if offset != size:
        found = "truncated" if offset > size else "longer than its parts"
        raise _bad(path, f"it is {found} ({size} bytes, expected {offset})")
    return parts


def read_backup(path: Path) -> Backup:
    """The checked backup at ``path`` (every part hashed); raises :class:`BackupError`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise BackupError(f"cannot read backup {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _bad(path, "it is not a regular file")
    with os.fdopen(fd, "rb") as f:
        manifest, start = _manifest(f, path, info.st_size)
        parts = _parts(manifest, path, start, info.st_size)
        identity = _hex_key(manifest.get("identity"), path, "identity")
        device = _hex_key(manifest.get("device"), path, "device")
        head, created = manifest.get("head"), manifest.get("created")
        if type(head) is not int or head < 0 or not isinstance(created, str):
            raise _bad(path, "expected head and created in its manifest")
        key_file = b""
        for part in parts.values():
            digest = hashlib.sha256()
            left = part.size
            while left:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    raise _bad(path, "it is truncated")
                digest.update(chunk)
                left -= len(chunk)
                if part.name == "key":
                    key_file += chunk
            if digest.digest() != part.sha256:
                raise _bad(path, f"its {part.name} part is damaged (SHA-256 differs)")
    _check_key_file(key_file, device, path)
    if parts["store"].size == 0:
        raise _bad(path, "its store part is empty")
    backup = Backup(path, identity, device, head, created[:40], parts, key_file)
    for name in ("store", "peers"):
        if parts[name].size and _read_part(backup, name, len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise _bad(path, f"its {name} part is not an SQLite file")
    return backup


def _check_key_file(raw: bytes, device: bytes, path: Path) -> None:
    try:
        data = json.loads(raw.decode("utf-8"))
        public = bytes.fromhex(data["public_key"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise _bad(path, "its key part is not a Samoorg key file") from None
    if public != device:
        raise _bad(path, "its key part is not the key of the device its manifest names")


def _read_part(backup: Backup, name: str, limit: int | None = None) -> bytes:
    part = backup.parts[name]
    with backup.path.open("rb") as f:
        f.seek(part.offset)
        return f.read(part.size if limit is None else min(limit, part.size))


def _copy_part(backup: Backup, name: str, target: Path) -> None:
    """Write part ``name`` to ``target`` (0600), checking its hash again as it is copied."""
    part = backup.parts[name]
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out, backup.path.open("rb") as f:
        f.seek(part.offset)
        left = part.size
        while left:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise _bad(backup.path, "it was truncated while it was read")
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.digest() != part.sha256:
        raise _bad(backup.path, f"its {name} part changed while it was read")


# -- restoring ----------------------------------------------------------------


def _check_store(backup: Backup, path: Path) -> None:
    """The restored store is a whole Samoorg store holding the device's feed to ``head``."""
    from samoorg.node.store import Store

    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = db.execute("PRAGMA quick_check").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise _bad(backup.path, f"its store is not a usable SQLite file ({exc})") from None
    if found != [("ok",)]:
        raise _bad(backup.path, "its store is damaged (SQLite quick_check)")
    try:
        with Store(path) as store:
            problems = store.verify_report().problems
            head = store.head(backup.device)
    except NodeError as exc:
        raise _bad(backup.path, f"its store cannot be opened ({exc})") from None
    if problems:
        raise _bad(backup.path, f"its store does not verify ({problems[0]})")
    if (head.seq if head is not None else 0) != backup.head:
        raise _bad(backup.path, f"its store does not hold the device's feed up to {backup.head}")


def restore(backup: Backup, home: Home, passphrase: str | None) -> bytes:
    """Make ``home`` (absent or empty) a new device's home from ``backup``; its new key.

    The home is built beside it and renamed into place once checked, so a
    refused backup leaves nothing. The restore stays unfinished (the marker)
    until the caller joins the identity.
    """
    from samoorg.node.keystore import create_key_file
    from samoorg.node.peerbook import peer_book_path

    target = home.path
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(
            f"{target} is not empty: restore into a new folder (--home), "
            "never over an existing home"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with _scratch(target) as scratch:
        staged = scratch / "home"
        staged.mkdir(mode=0o700)
        staged_home = Home(staged)
        _copy_part(backup, "store", staged_home.store_file)
        _check_store(backup, staged_home.store_file)
        if backup.parts["peers"].size:
            _copy_part(backup, "peers", peer_book_path(staged_home))
        marker = {"format": PENDING_FORMAT, "device": backup.device.hex()}
        marker["identity"] = backup.identity.hex()
        pending_path(staged_home).write_text(json.dumps(marker) + "\n", encoding="utf-8")
        signer = create_key_file(staged_home.key_file, passphrase)
        if target.exists():
            target.rmdir()
        os.rename(staged, target)
    return signer.public_key


@contextmanager
def backed_up_signer(
    backup: Backup, home: Home, passphrase: PassphraseProvider | None
) -> Iterator[Signer]:
    """The backed-up key, opened once (asking its passphrase), never left in the home."""
    from samoorg.node.keystore import load_signer

    path = home.path / ".backed-up-identity.key"
    path.unlink(missing_ok=True)  # left by a process killed while it held it open
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(backup.key_file)
        signer = load_signer(path, passphrase)
    finally:
        with suppress(FileNotFoundError):
            path.unlink()
    yield signer


def join_as_lost_original(home: Home, old: Signer, new: Signer) -> tuple[Entry, list[Entry]]:
    """Add ``new`` with the backed-up key ``old`` (once), then revoke ``old`` from ``new``.

    Returns the add and the new key's ``device.accept`` and ``device.revoke``;
    finishes the restore. Raises the views' :class:`RuleViolation` (the old
    feed is forked or revoked, say) with nothing but possibly the add stored.
    """
    from samoorg.crdt.kinds.devices import (
        DEVICE_ACCEPT,
        DEVICE_ADD,
        DEVICE_REVOKE,
        accept_body,
        add_body,
        revoke_body,
    )
    from samoorg.node.checkpoint import open_views
    from samoorg.node.own_head import OwnHeadRecord
    from samoorg.node.store import Store
    from samoorg.node.writer import Step, Writer
    from samoorg.protocol.device_code import device_one_time_key, sign_device_acceptance
    from samoorg.protocol.invite_code import new_secret

    secret = new_secret()
    own = OwnHeadRecord(home.own_head_file, new.public_key)
    with Store(home.store_file, own_head=own) as store:
        live = open_views(store)
        added = Writer(store, live, old).write(DEVICE_ADD, add_body(device_one_time_key(secret)))

        def build(made: Sequence[Entry]) -> Step | None:
            if not made:
                proof = sign_device_acceptance(secret, added.id, new.public_key)
                return DEVICE_ACCEPT, accept_body(added.id, proof)
            if len(made) == 1:
                return DEVICE_REVOKE, revoke_body(old.public_key, added.seq + 1)
            return None

        made = Writer(store, live, new).write_chain(build, kinds=(DEVICE_ACCEPT, DEVICE_REVOKE))
    finish_restore(home)
    return added, made
