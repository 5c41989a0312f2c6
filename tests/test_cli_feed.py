"""The feed commands end to end in temporary homes: init, whoami, log, verify, export, import."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from samoorg.protocol.bundle import MAGIC, Record, RecordType, encode_bundle
from samoorg.protocol.entry import create_entry
from samoorg.protocol.ids import peer_id
from tests.cli_fixtures import run_child
from tests.conftest import CliRunner
from tests.feed_fixtures import append_entries, flip_bit, make_feed, signer, store_state


@pytest.fixture
def two_homes(tmp_path: Path, cli: CliRunner) -> tuple[Path, Path]:
    """Alice with 5 notes and 2 votes, Bob with 3 notes; both initialised."""
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for home in (alice, bob):
        assert cli(home, "init").code == 0
    append_entries(alice, 5)
    append_entries(alice, 2, kind="vote")
    append_entries(bob, 3)
    return alice, bob


def _id(cli: CliRunner, home: Path) -> str:
    return json.loads(cli(home, "whoami", "--json").out)["id"]  # type: ignore[no-any-return]


def test_session(two_homes: tuple[Path, Path], cli: CliRunner, tmp_path: Path) -> None:
    alice, bob = two_homes
    alice_id = _id(cli, alice)
    assert cli(alice, "whoami").out.strip() == alice_id
    bundle = tmp_path / "alice.bundle"
    done = cli(alice, "export", str(bundle))
    assert done.code == 0
    assert "exported 7 entries and 0 fork proofs" in done.err
    assert not bundle.with_name("alice.bundle.partial").exists()
    imported = cli(bob, "import", str(bundle))
    assert imported.code == 0, imported.err
    assert imported.out.startswith("imported 7 new entries, 0 already had, 0 rejected")
    again = cli(bob, "import", str(bundle), "--json")
    assert json.loads(again.out) == {"new": 0, "already_had": 7, "rejected": [], "fork_proofs": 0}
    checked = cli(bob, "verify")
    assert checked.code == 0
    assert checked.out.strip() == "ok: 10 entries in 2 feeds verified; 0 fork proofs"
    logged = json.loads(cli(bob, "log", "--json", "--author", alice_id).out)["items"][::-1]
    assert [e["seq"] for e in logged] == list(range(1, 8))
    assert {e["author"] for e in logged} == {alice_id}
    assert logged[0]["body"] == {"n": 0, "text": "note 0"}
    assert logged[1]["prev"] == logged[0]["id"]
    votes = json.loads(cli(bob, "log", "--json", "--kind", "vote").out)["items"]
    assert [e["kind"] for e in votes] == ["vote", "vote"]
    first = json.loads(cli(bob, "log", "--json", "--limit", "2").out)
    # Newest first: alice's feed arrived after bob's own three entries.
    assert [(e["author"], e["seq"]) for e in first["items"]] == [(alice_id, 7), (alice_id, 6)]
    second = json.loads(
        cli(bob, "log", "--json", "--limit", "2", "--cursor", first["next_cursor"]).out
    )
    assert [e["seq"] for e in second["items"]] == [5, 4]
    assert second["next_cursor"] is not None
    table = cli(bob, "log")
    assert table.code == 0
    assert "vote" in table.out
    assert alice_id[-8:] in table.out


def test_export_one_author(two_homes: tuple[Path, Path], cli: CliRunner, tmp_path: Path) -> None:
    alice, bob = two_homes
    cli(bob, "import", str(_export(cli, alice, tmp_path)))
    only_bob = tmp_path / "only-bob.bundle"
    assert cli(bob, "export", str(only_bob), "--author", _id(cli, bob)).code == 0
    carol = tmp_path / "carol"
    cli(carol, "init")
    assert cli(carol, "import", str(only_bob)).out.startswith("imported 3 new entries")


def _export(cli: CliRunner, home: Path, folder: Path) -> Path:
    bundle = folder / f"{home.name}.bundle"
    assert cli(home, "export", str(bundle)).code == 0
    return bundle


def _assert_one_error_line(err: str, *words: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


def test_truncated_and_bit_flipped_bundles_change_nothing(
    two_homes: tuple[Path, Path], cli: CliRunner, tmp_path: Path
) -> None:
    alice, bob = two_homes
    data = _export(cli, alice, tmp_path).read_bytes()
    before = store_state(bob)
    broken = tmp_path / "broken.bundle"
    cases = [data[:n] for n in (0, 5, len(MAGIC), len(data) // 2, len(data) - 1)]
    cases += [
        flip_bit(data, bit) for bit in (3, len(MAGIC) * 8 + 2, len(data) * 4, len(data) * 8 - 1)
    ]
    cases.append(data + b"\x00")
    for case in cases:
        broken.write_bytes(case)
        result = cli(bob, "import", str(broken))
        assert result.code == 1
        assert result.out == ""
        _assert_one_error_line(result.err)
        assert store_state(bob) == before
    assert cli(bob, "verify").code == 0


def test_hostile_bundle_stores_nothing_invalid(
    two_homes: tuple[Path, Path], cli: CliRunner, tmp_path: Path
) -> None:
    alice, bob = two_homes
    cli(bob, "import", str(_export(cli, alice, tmp_path)))
    before_heads, before_ids, _ = store_state(bob)
    carol = make_feed(signer("carol"), 3)
    mallory = signer("mallory")
    alice_key = bytes.fromhex(before_heads[0][0])
    # Mallory re-signs Alice's next entry with her own key: a forgery.
    forged_alice = create_entry(
        mallory, seq=8, prev=bytes.fromhex(before_heads[0][2]), timestamp=1, kind="note", body={}
    ).raw.replace(mallory.public_key, alice_key)
    forged_carol = flip_bit(carol[2].raw, len(carol[2].raw) * 8 - 9)
    records = [
        Record(RecordType.ENTRY, carol[0].raw),
        Record(RecordType.ENTRY, forged_alice),
        Record(RecordType.ENTRY, b"\xa1\x61x\x01"),  # CBOR, but not an entry
        Record(RecordType.ENTRY, carol[1].raw),
        Record(RecordType.ENTRY, forged_carol),
        Record(RecordType.FORK_PROOF, b"\x83\x61x\x40\x40"),  # not a proof
    ]
    hostile = tmp_path / "hostile.bundle"
    hostile.write_bytes(encode_bundle(records))  # valid framing and checksum
    result = cli(bob, "import", str(hostile))
    assert result.code == 1
    _assert_one_error_line(result.err, "4 items of the bundle rejected", "BadSignature")
    assert result.out.startswith("imported 2 new entries, 0 already had, 4 rejected")
    heads, ids, forked = store_state(bob)
    assert set(before_ids) < set(ids)
    assert set(ids) - set(before_ids) == {carol[0].id.hex(), carol[1].id.hex()}
    assert [h for h in heads if h[0] != carol[0].author.hex()] == before_heads
    assert forked == set()
    assert cli(bob, "verify").code == 0


def test_import_out_of_order_bundle(cli: CliRunner, tmp_path: Path) -> None:
    feed = make_feed(signer("dora"), 2500)
    bundle = tmp_path / "reversed.bundle"
    bundle.write_bytes(encode_bundle([Record(RecordType.ENTRY, e.raw) for e in reversed(feed)]))
    home = tmp_path / "erin"
    cli(home, "init")
    result = cli(home, "import", str(bundle))
    assert result.code == 0, result.err
    assert result.out.startswith("imported 2500 new entries")


def test_import_reports_a_real_gap(cli: CliRunner, tmp_path: Path) -> None:
    feed = make_feed(signer("dora"), 4)
    bundle = tmp_path / "gap.bundle"
    bundle.write_bytes(
        encode_bundle([Record(RecordType.ENTRY, e.raw) for e in feed[:1] + feed[2:]])
    )
    home = tmp_path / "erin"
    cli(home, "init")
    result = cli(home, "import", str(bundle))
    assert result.code == 1
    assert "WrongSequence" in result.out
    _assert_one_error_line(result.err, "2 items", "#3: WrongSequence")


def test_forked_author_round_trips_through_export(cli: CliRunner, tmp_path: Path) -> None:
    feed = make_feed(signer("fred"), 3)
    other = create_entry(signer("fred"), seq=2, prev=feed[0].id, timestamp=9, kind="post", body={})
    first, second = tmp_path / "first", tmp_path / "second"
    for home in (first, second):
        cli(home, "init")
    source = tmp_path / "fork.bundle"
    source.write_bytes(encode_bundle([Record(RecordType.ENTRY, e.raw) for e in [*feed, other]]))
    forked = cli(first, "import", str(source))
    assert forked.code == 1
    assert "ForkDetected" in forked.out
    assert "1 new fork proof" in forked.out
    copied = cli(second, "import", str(_export(cli, first, tmp_path)))
    assert copied.code == 0, copied.err
    # The fork was found at seq 2, so seq 3 was refused: both hold seq 1..2 and the proof.
    assert copied.out.startswith(
        "imported 2 new entries, 0 already had, 0 rejected, 1 new fork proof"
    )
    assert store_state(first) == store_state(second)
    assert cli(second, "verify").out.strip().endswith("1 fork proof")


def test_one_line_errors(two_homes: tuple[Path, Path], cli: CliRunner, tmp_path: Path) -> None:
    alice, _ = two_homes
    cases = [
        (cli(alice, "init"), "already holds an identity"),
        (cli(alice, "log", "--author", "not-a-peer-id"), "no known participant is called"),
        (cli(alice, "import", str(tmp_path / "missing.bundle")), "missing.bundle"),
        (cli(tmp_path / "nobody", "whoami"), "samoorg init"),
        (cli(tmp_path / "nobody", "verify"), "samoorg init"),
    ]
    for result, words in cases:
        assert result.code != 0
        _assert_one_error_line(result.err, words)


def test_verify_reports_damage(two_homes: tuple[Path, Path], cli: CliRunner) -> None:
    import sqlite3

    alice, _ = two_homes
    db = sqlite3.connect(alice / "store.sqlite")
    with db:
        db.execute("DELETE FROM entries WHERE seq = 3")
    db.close()
    result = cli(alice, "verify")
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith("error: store is NOT consistent")
    result = cli(alice, "verify", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False
    assert report["problems"]
    _assert_one_error_line(result.err, "store is NOT consistent")


def test_passphrase_init(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "sealed"
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "s3cret")
    assert cli(home, "init", "--passphrase").code == 0
    assert json.loads((home / "identity.key").read_text())["protection"] == "argon2id-secretbox"
    append_entries(home, 1)
    monkeypatch.setenv("SAMOORG_PASSPHRASE", "wrong")
    assert cli(home, "whoami").code == 0  # the public key needs no passphrase
    assert cli(home, "verify").code == 0


def _run(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_child(home, *args, input=stdin)


def test_stdin_and_stdout_bundles(two_homes: tuple[Path, Path]) -> None:
    alice, bob = two_homes
    exported = _run(alice, "export", "-")
    assert exported.returncode == 0
    assert exported.stdout.startswith(MAGIC)
    imported = _run(bob, "import", "-", stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(b"imported 7 new entries")
    truncated = _run(bob, "import", "-", stdin=exported.stdout[:-3])
    assert truncated.returncode == 1
    assert truncated.stderr.decode().count("\n") == 1


def test_version(cli: CliRunner, tmp_path: Path) -> None:
    result = cli(tmp_path, "--version")
    assert result.code == 0
    assert result.out.startswith("samoorg 0.")


PROBE = """
import sys
from samoorg.cli.main import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("libp2p", "trio", "multiaddr"))
print("HEAVY", heavy, file=sys.stderr)
sys.exit(code)
"""


def test_local_commands_do_not_import_libp2p(two_homes: tuple[Path, Path], tmp_path: Path) -> None:
    alice, bob = two_homes
    bundle = str(tmp_path / "x.bundle")
    commands = [
        [tmp_path / "new", "init"],
        [alice, "whoami"],
        [alice, "whoami", "--json"],
        [alice, "log"],
        [alice, "verify"],
        [alice, "export", bundle],
        [bob, "import", bundle],
    ]
    for home, *args in commands:
        command = [sys.executable, "-c", PROBE, "--home", str(home), *map(str, args)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert "HEAVY []" in result.stderr, args


def test_whoami_does_not_load_sqlite_or_libsodium(two_homes: tuple[Path, Path]) -> None:
    alice, _ = two_homes
    probe = PROBE.replace('("libp2p", "trio", "multiaddr")', '("nacl", "sqlite3", "rich")')
    result = subprocess.run(
        [sys.executable, "-c", probe, "--home", str(alice), "whoami"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "HEAVY []" in result.stderr
    assert result.stdout.strip() == peer_id(bytes.fromhex(store_state(alice)[0][0][0]))


def test_verify_and_export_print_json(
    two_homes: tuple[Path, Path], cli: CliRunner, tmp_path: Path
) -> None:
    alice, _ = two_homes
    checked = cli(alice, "verify", "--json")
    assert checked.code == 0, checked.err
    assert json.loads(checked.out) == {
        "ok": True,
        "entries": 7,
        "feeds": 1,
        "fork_proofs": 0,
        "problems": [],
        "warnings": [],
    }
    bundle = tmp_path / "out.bundle"
    exported = cli(alice, "export", str(bundle), "--json")
    assert exported.code == 0, exported.err
    assert json.loads(exported.out) == {"file": str(bundle), "entries": 7, "fork_proofs": 0}
    to_stdout = cli(alice, "export", "-", "--json")
    assert to_stdout.code == 2
    _assert_one_error_line(to_stdout.err, "--json needs a FILE")


def test_json_times_are_rfc3339_utc_with_milliseconds(
    two_homes: tuple[Path, Path], cli: CliRunner
) -> None:
    from datetime import datetime

    from samoorg.node.home import Home
    from samoorg.node.store import Store

    alice, _ = two_homes
    with Store(Home(alice).store_file) as store:
        stamps = {entry.id.hex(): entry.timestamp for _, entry in store.entries()}
    logged = json.loads(cli(alice, "log", "--json").out)["items"]
    assert len(logged) == len(stamps)
    for row in logged:
        text = row["timestamp"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        assert round(moment.timestamp() * 1000) == stamps[row["id"]]


def test_log_refuses_an_unknown_kind(two_homes: tuple[Path, Path], cli: CliRunner) -> None:
    alice, _ = two_homes
    result = cli(alice, "log", "--kind", "note", "--kind", "nonsense")
    assert result.code == 2
    _assert_one_error_line(result.err, "unknown kind 'nonsense'")
    assert "pledge.intend" in result.err
    assert "help.close" in result.err
    # A kind no view reads but that the store holds is a valid filter.
    assert cli(alice, "log", "--kind", "vote").code == 0
