"""``samoorg backup`` and ``samoorg restore`` over real homes (``node/backup.py``).

A restored home is a new device of the backed-up identity, never a second
writer of its feed: it writes nothing until it joins with the original
device's code, or replaces a lost original (the backed-up key adds it once,
then it revokes that key from the entry after the add). A damaged backup is
refused with one line and creates no home.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.node.backup import MAGIC, PENDING_FILE
from samoorg.protocol.ids import parse_peer_id
from tests.community_homes import (
    Homes,
    backed_up,
    chain_with_commitment,
    exchange,
    invite,
    restore_refused,
)
from tests.conftest import CliRunner


def test_a_backup_is_private_and_never_overwritten_by_accident(
    tmp_path: Path, cli: CliRunner
) -> None:
    homes = Homes(cli, tmp_path, "ana")
    homes.run("ana", "idea", "post", "one")
    file, shown = backed_up(homes, "ana")
    assert file.stat().st_mode & 0o777 == 0o600
    assert (shown["device"], shown["identity"], shown["head"]) == (homes.ids["ana"],) * 2 + (1,)
    assert file.read_bytes().startswith(MAGIC)
    assert (homes.root / "ana" / "identity.key").read_bytes() in file.read_bytes()  # as it is
    before = file.read_bytes()
    again = cli(tmp_path / "ana", "backup", str(file))
    assert again.code == 1
    assert "already exists" in again.err
    assert file.read_bytes() == before
    homes.run("ana", "idea", "post", "two")
    assert homes.json("ana", "backup", str(file), "--force")["head"] == 2
    assert file.stat().st_mode & 0o777 == 0o600


def test_a_restored_home_writes_nothing_until_it_joins_with_the_originals_code(
    tmp_path: Path, cli: CliRunner
) -> None:
    homes = Homes(cli, tmp_path, "laptop", "friend")
    invite(homes, "laptop", "friend")
    homes.run("laptop", "idea", "post", "before the backup")
    file, _ = backed_up(homes, "laptop")
    restored = cli(tmp_path / "unused", "restore", str(file), "--home", str(tmp_path / "phone"))
    assert restored.code == 0, restored.err
    assert "writes nothing until the restore is finished" in restored.err
    phone = json.loads(cli(tmp_path / "phone", "whoami", "--json").out)["id"]
    assert phone != homes.ids["laptop"]  # a new key, never the backed-up one
    assert homes.count("phone") == homes.count("laptop")  # the whole store came along
    for args in (("idea", "post", "too early"), ("rate", homes.ids["friend"], "4")):
        refused = homes.refused("phone", *args)
        assert refused.startswith("this home was restored from a backup")
        assert "samoorg restore FILE --join CODE" in refused
    code = homes.json("laptop", "device", "add")["code"]
    joined = cli(tmp_path / "phone", "restore", str(file), "--join", code)
    assert joined.code == 0, joined.err
    assert "joined identity " + homes.ids["laptop"] in joined.out
    assert not (tmp_path / "phone" / PENDING_FILE).exists()
    assert exchange(homes, "laptop", "phone") == 0
    assert exchange(homes, "phone", "laptop") == 0
    for name in ("laptop", "phone"):
        listed = homes.json(name, "device", "list")
        assert listed["identity"] == homes.ids["laptop"]
        assert [d["id"] for d in listed["devices"]] == [homes.ids["laptop"], phone]
        assert [d["revoked_from"] for d in listed["devices"]] == [None, None]
    homes.run("phone", "idea", "post", "from the phone")
    # A finished home is not restored over, and a code of another identity is refused.
    again = cli(tmp_path / "phone", "restore", str(file))
    assert again.code == 1
    assert "already holds an identity" in again.err
    other = homes.json("friend", "device", "add")["code"]
    wrong = cli(tmp_path / "tablet", "restore", str(file), "--join", other)
    assert wrong.code == 1
    assert "for identity " + homes.ids["friend"] in wrong.err
    assert not (tmp_path / "tablet").exists()
    second = homes.json("laptop", "device", "add")["code"]
    tablet = homes.json("tablet", "restore", str(file), "--join", second)
    assert (tablet["state"], tablet["identity"]) == ("joined", homes.ids["laptop"])
    assert len(tablet["accept"]) == 64


def test_an_original_declared_lost_is_revoked_after_adding_the_new_device(
    tmp_path: Path, cli: CliRunner
) -> None:
    homes, carol, pledge = chain_with_commitment(tmp_path, cli)
    file, shown = backed_up(homes, "bob")
    # Without a terminal the confirmation must be given; nothing is created without it.
    unconfirmed = cli(tmp_path / "bob2", "restore", str(file), "--original-lost")
    assert unconfirmed.code == 2
    assert not (tmp_path / "bob2").exists()
    lost = cli(tmp_path / "bob2", "restore", str(file), "--original-lost", "--yes", "--json")
    assert lost.code == 0, lost.err
    done = json.loads(lost.out)
    assert (done["state"], done["revoked_from"]) == ("revoked_original", shown["head"] + 2)
    homes.ids["bob2"] = done["device"]
    homes.run("bob2", "idea", "post", "bob, from the new machine")
    homes.sync("alice", "bob2", "carol")
    # A surviving copy of the original (the stolen laptop) learns of the add and writes on.
    assert exchange(homes, "bob2", "bob") == 0
    assert "revoked" in homes.refused("bob", "idea", "post", "the thief's")
    thief = homes.force("bob", "forum.idea", {"title": "the thief's, forced"})
    assert thief.seq == shown["head"] + 2
    assert exchange(homes, "bob", "alice") == 0
    assert exchange(homes, "bob", "carol") == 0
    bob = parse_peer_id(homes.ids["bob"])
    for name in ("alice", "carol", "bob2"):
        assert exchange(homes, "bob", name) == 0
        assert homes.invalid(name)[thief.id.hex()].startswith("written by a device at or after")
        titles = [i["title"] for i in homes.items(name, "idea", "list")]
        assert "bob, from the new machine" in titles
        assert "the thief's, forced" not in titles
        assert homes.views(name).revoked() == {bob: shown["head"] + 2}
        if name == "bob2":
            continue  # its trust list is seen from its own, new key (no edges of its own)
        rows = {m["id"]: m["distance"] for m in homes.items(name, "trust", "list")}
        assert rows[homes.ids["bob"]] is not None  # still a member
        assert rows[carol] is not None  # reachable through bob's earlier edges
        pledges = {p["id"]: p["state"] for p in homes.items(name, "pledge", "list", "--everyone")}
        assert pledges[pledge] == "committed"
    assert homes.views("alice").digests() == homes.views("carol").digests()


def test_bad_backups_are_refused_with_one_line_and_no_home(tmp_path: Path, cli: CliRunner) -> None:
    homes = Homes(cli, tmp_path, "ana")
    homes.run("ana", "idea", "post", "one")
    file, _ = backed_up(homes, "ana")
    good = file.read_bytes()
    (length,) = struct.unpack(">I", good[len(MAGIC) : len(MAGIC) + 4])
    manifest_end = len(MAGIC) + 4 + length + 32
    manifest = json.loads(good[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    huge = dict(manifest, parts=[dict(p) for p in manifest["parts"]])
    huge["parts"][1]["size"] = 1 << 60
    cases = {
        "empty": b"",
        "not a backup": b"PK\x03\x04" + bytes(100),
        "truncated in the manifest": good[: len(MAGIC) + 10],
        "truncated in the store": good[: manifest_end + 2000],
        "one byte short": good[:-1],
        "one byte more": good + b"\x00",
        "a huge manifest length": MAGIC + struct.pack(">I", 1 << 31) + good[len(MAGIC) + 4 :],
        "a part larger than its bound": _with_manifest(good, huge),
    }
    for what, data in cases.items():
        bad = tmp_path / "bad.backup"
        bad.write_bytes(data)
        message = restore_refused(cli, tmp_path, bad)
        assert "is not a usable Samoorg backup" in message, (what, message)
    assert "is not a usable" in restore_refused(cli, tmp_path, tmp_path)  # a directory
    assert "cannot read" in restore_refused(cli, tmp_path, tmp_path / "nowhere")


def _with_manifest(good: bytes, manifest: dict[str, object]) -> bytes:
    import hashlib

    (length,) = struct.unpack(">I", good[len(MAGIC) : len(MAGIC) + 4])
    encoded = json.dumps(manifest).encode()
    rest = good[len(MAGIC) + 4 + length + 32 :]
    return (
        MAGIC + struct.pack(">I", len(encoded)) + encoded + hashlib.sha256(encoded).digest() + rest
    )


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True), flip=st.integers(1, 255))
def test_any_changed_byte_is_refused(
    tmp_path_factory: pytest.TempPathFactory, cli: CliRunner, where: float, flip: int
) -> None:
    root = _backup_root(tmp_path_factory, cli)
    good = (root / "ana.backup").read_bytes()
    position = int(where * len(good))
    bad = bytearray(good)
    bad[position] ^= flip
    (root / "bad.backup").write_bytes(bytes(bad))
    message = restore_refused(cli, root, root / "bad.backup")
    assert "is not a usable Samoorg backup" in message, (position, message)


_ROOTS: dict[int, Path] = {}


def _backup_root(factory: pytest.TempPathFactory, cli: CliRunner) -> Path:
    """One home and its backup for every example of a test (made once)."""
    key = id(factory)
    if key not in _ROOTS:
        root = factory.mktemp("flip")
        homes = Homes(cli, root, "ana")
        homes.run("ana", "idea", "post", "one")
        backed_up(homes, "ana")
        _ROOTS[key] = root
    return _ROOTS[key]


def _rebuilt(good: bytes, **parts: bytes) -> bytes:
    """``good`` with some parts replaced, the manifest's sizes and hashes made to match."""
    import hashlib

    (length,) = struct.unpack(">I", good[len(MAGIC) : len(MAGIC) + 4])
    manifest = json.loads(good[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    offset = len(MAGIC) + 4 + length + 32
    contents = []
    for part in manifest["parts"]:
        data = parts.get(part["name"], good[offset : offset + part["size"]])
        offset += part["size"]
        part["size"], part["sha256"] = len(data), hashlib.sha256(data).hexdigest()
        contents.append(data)
    encoded = json.dumps(manifest, sort_keys=True).encode()
    head = MAGIC + struct.pack(">I", len(encoded)) + encoded + hashlib.sha256(encoded).digest()
    return head + b"".join(contents)


def test_a_backup_whose_hashes_match_but_whose_parts_are_hostile_is_refused(
    tmp_path: Path, cli: CliRunner
) -> None:
    homes = Homes(cli, tmp_path, "ana", "other")
    homes.run("ana", "idea", "post", "one")
    file, _ = backed_up(homes, "ana")
    good = file.read_bytes()
    other_key = (tmp_path / "other" / "identity.key").read_bytes()
    other_store = (tmp_path / "other" / "store.sqlite").read_bytes()
    cases = {
        "another key": (_rebuilt(good, key=other_key), "not the key of the device"),
        "not SQLite": (_rebuilt(good, store=b"x" * 100), "not an SQLite file"),
        "damaged SQLite": (
            _rebuilt(good, store=b"SQLite format 3\x00" + bytes(5000)),
            "its store",
        ),
        "another store": (_rebuilt(good, store=other_store), "does not hold the device's feed"),
    }
    assert _rebuilt(good) == good
    for what, (data, expected) in cases.items():
        bad = tmp_path / "bad.backup"
        bad.write_bytes(data)
        message = restore_refused(cli, tmp_path, bad)
        assert expected in message, (what, message)


def test_a_sealed_key_stays_sealed_in_the_backup_and_opens_once_for_a_lost_original(
    tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "correct horse")
    homes = Homes(cli, tmp_path, "ana", "friend")
    homes.run("ana", "idea", "post", "one")
    file, shown = backed_up(homes, "ana")
    key = json.loads((tmp_path / "ana" / "identity.key").read_bytes())
    assert key["protection"] == "argon2id-secretbox"
    assert key["ciphertext"].encode() in file.read_bytes()
    homes.run("ana2", "restore", str(file))  # the new key is sealed with the same passphrase
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "wrong")
    wrong = cli(tmp_path / "ana2", "restore", str(file), "--original-lost", "--yes")
    assert (wrong.code, wrong.err.count("\n")) == (1, 1)
    assert "wrong passphrase" in wrong.err
    assert homes.count("ana2") == homes.count("ana")  # nothing signed
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "correct horse")
    # A code of another identity does not finish this restore, through any path.
    other = homes.json("friend", "device", "add")["code"]
    refused = homes.refused("ana2", "restore", str(file), "--join", other)
    assert "for identity " + homes.ids["friend"] in refused
    done = homes.json("ana2", "restore", str(file), "--original-lost", "--yes")
    assert (done["state"], done["revoked_from"]) == ("revoked_original", shown["head"] + 2)
    assert json.loads((tmp_path / "ana2" / "identity.key").read_bytes())["protection"] == (
        "argon2id-secretbox"
    )
    assert not list((tmp_path / "ana2").glob("*backed-up*"))


def test_an_original_that_was_not_lost_after_all_forks_and_the_fork_policy_applies(
    tmp_path: Path, cli: CliRunner
) -> None:
    """The residual risk the guide states: the add takes a seq the living original also signed."""
    from samoorg.crdt.kinds.devices import DevicesState

    homes = Homes(cli, tmp_path, "alice", "bob")
    invite(homes, "alice", "bob")
    homes.sync("alice", "bob")
    file, shown = backed_up(homes, "bob")
    homes.run("bob", "idea", "post", "bob is alive")  # signs head + 1 before hearing of the add
    homes.json("bob2", "restore", str(file), "--original-lost", "--yes")
    homes.ids["bob2"] = json.loads(cli(tmp_path / "bob2", "whoami", "--json").out)["id"]
    assert exchange(homes, "bob", "alice") == 0
    assert exchange(homes, "bob2", "alice") == 1  # the fork is found here
    views = homes.views("alice")
    bob, bob2 = parse_peer_id(homes.ids["bob"]), parse_peer_id(homes.ids["bob2"])
    assert views.index.cuts == {bob: shown["head"] + 1}
    assert views.domain(DevicesState).view().identity(bob2) == bob2  # the add is void
    rows = {m["id"]: m["distance"] for m in homes.items("alice", "trust", "list")}
    assert rows[homes.ids["bob"]] is not None  # bob's earlier entries stay valid
