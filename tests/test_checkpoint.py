"""Views loaded from a checkpoint plus the entries after it equal a rebuild, whatever happened.

A checkpoint that is missing, stale, damaged, too open, from another store,
from another code version, or older than a fork proof is never used; a kill
at any moment while saving leaves an old or a new checkpoint, never a broken
one that is trusted.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samoorg.crdt.algorithms.money import Amount
from samoorg.crdt.framework.exclusion import REVOKED_REASON
from samoorg.crdt.framework.views import DOMAINS
from samoorg.crdt.kinds.devices import DEVICE_REVOKE, revoke_body
from samoorg.crdt.kinds.pledges import (
    REQUEST,
    REQUEST_CLOSE,
    PledgeState,
    appeal_close_body,
    request_body,
)
from samoorg.crdt.kinds.trust import TrustState
from samoorg.node import checkpoint, checkpoint_pickle
from samoorg.node.checkpoint import (
    check_checkpoint,
    checkpoint_path,
    open_views,
    read_checkpoint,
    rebuild,
    save_checkpoint,
    save_if_behind,
)
from samoorg.node.errors import CheckpointRejected
from samoorg.node.keystore import create_key_file
from samoorg.node.lazy_rows import LazyRows
from samoorg.node.processes import NodeProcess
from samoorg.node.store import Store
from samoorg.protocol.entry import Entry
from tests.community_fixtures import DAY, Author, History, histories, join
from tests.community_homes import Homes
from tests.conftest import CliRunner
from tests.social_fixtures import post_idea

DAMAGE = ("none", "truncate", "flip", "temp", "chmod", "code")


def fill(store: Store, entries: list[Entry]) -> None:
    report = store.ingest(e.raw for e in entries)
    assert not report.rejected, report.rejected[0].describe()


def digests(store: Store) -> tuple[dict[str, str], dict[bytes, str]]:
    views = rebuild(store).views
    return views.digests(), views.invalid()


def loaded(store: Store) -> tuple[dict[str, str], dict[bytes, str]]:
    views = open_views(store).views
    return views.digests(), views.invalid()


def damage(path: Path, how: str, at: int) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: at % len(data)])
    elif how == "flip":
        position = at % len(data)
        path.write_bytes(data[:position] + bytes([data[position] ^ 0x10]) + data[position + 1 :])
    elif how == "chmod":
        path.chmod(0o644)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_checkpoint_plus_later_entries_equals_a_rebuild(
    tmp_path_factory: pytest.TempPathFactory, history: History, data: st.DataObject
) -> None:
    entries = history.entries
    cut = data.draw(st.integers(0, len(entries)), label="cut")
    how = data.draw(st.sampled_from(DAMAGE), label="damage")
    at = data.draw(st.integers(0, 1 << 20), label="at")
    home = tmp_path_factory.mktemp("cp")
    with Store(home / "store.sqlite") as store:
        fill(store, entries[:cut])
        save_checkpoint(open_views(store))
        path = checkpoint_path(store)
        fill(store, entries[cut:])
        if how == "code":
            checkpoint._FINGERPRINT = "0" * 64
        try:
            if how == "temp":  # a saver killed while writing its temporary file
                path.with_name(f"{path.name}.999999999.tmp").write_bytes(b"partial")
            else:
                damage(path, how, at)
            if how in ("none", "temp"):
                assert len(read_checkpoint(store, path).views.index) == cut
                check_checkpoint(store, path)
            else:  # in the header (refused at once) or in a section (that view is rebuilt)
                with pytest.raises(CheckpointRejected):
                    check_checkpoint(store, path)
            assert loaded(store) == digests(store)
        finally:
            checkpoint._FINGERPRINT = None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_a_kill_at_any_byte_while_saving_keeps_the_old_checkpoint(
    tmp_path_factory: pytest.TempPathFactory, history: History, data: st.DataObject
) -> None:
    entries = history.entries
    cut = data.draw(st.integers(0, len(entries)))
    home = tmp_path_factory.mktemp("kill")
    with Store(home / "store.sqlite") as store:
        fill(store, entries[:cut])
        path = checkpoint_path(store)
        save_checkpoint(open_views(store))
        old = path.read_bytes()
        fill(store, entries[cut:])
        newer = home / "newer"
        save_checkpoint(open_views(store), newer)
        written = newer.read_bytes()
        # The kill: the temporary file holds a prefix of the new checkpoint, the
        # rename did not happen (os.replace is atomic: old or new, nothing between).
        stop = data.draw(st.integers(0, len(written)))
        path.with_name(f"{path.name}.999999999.tmp").write_bytes(written[:stop])
        assert path.read_bytes() == old
        assert loaded(store) == digests(store)
        newer.replace(path)  # the kill came after the rename
        assert len(read_checkpoint(store, path).views.index) == len(entries)
        assert loaded(store) == digests(store)
        save_checkpoint(open_views(store))
        assert not list(home.glob("*.tmp")), "abandoned temporary files are removed"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_views_used_in_part_and_saved_in_part_equal_a_rebuild(
    tmp_path_factory: pytest.TempPathFactory, history: History, data: st.DataObject
) -> None:
    """Each save keeps unused domains' sections (covering fewer rows); loading equals a rebuild."""
    entries = history.entries
    cuts = sorted(data.draw(st.lists(st.integers(0, len(entries)), max_size=3), label="cuts"))
    # Unchanged rows are copied in runs of at most COPY_RUN bytes: one row, a few, all.
    run = data.draw(st.sampled_from([1, 300, checkpoint_pickle.COPY_RUN]), label="copy run")
    home = tmp_path_factory.mktemp("part")
    default, checkpoint_pickle.COPY_RUN = checkpoint_pickle.COPY_RUN, run  # type: ignore[misc]
    try:
        with Store(home / "store.sqlite") as store:
            done = 0
            for cut in [*cuts, len(entries)]:
                fill(store, entries[done:cut])
                done = cut
                live = open_views(store)
                used = data.draw(st.sets(st.sampled_from(DOMAINS)), label="used")
                for cls in DOMAINS:
                    if cls in used:
                        live.views.domain(cls)
                assert all(live.views.is_loaded(c) for c in used)  # and those they read
                if data.draw(st.booleans(), label="look up"):
                    for entry in entries[:cut]:
                        assert live.views.index.get(entry.id) == entry
                save_checkpoint(live)
            check_checkpoint(store, checkpoint_path(store))
            assert len(read_checkpoint(store, checkpoint_path(store)).views.index) == len(entries)
            assert loaded(store) == digests(store)
    finally:
        checkpoint_pickle.COPY_RUN = default  # type: ignore[misc]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_sections_preloaded_and_a_save_by_a_child_equal_a_rebuild(
    tmp_path_factory: pytest.TempPathFactory, history: History, data: st.DataObject
) -> None:
    """What the daemon does: sections unpickled ahead (in a thread), saves written by a
    forked child while the views go on changing; each load equals a rebuild."""
    entries = history.entries
    cut = data.draw(st.integers(0, len(entries)), label="cut")
    home = tmp_path_factory.mktemp("child")
    with Store(home / "store.sqlite") as store:
        fill(store, entries[:cut])
        save_checkpoint(open_views(store))
        fill(store, entries[cut:])
        live = open_views(store)
        assert live.checkpoint is not None
        for cls in data.draw(st.sets(st.sampled_from(DOMAINS)), label="preloaded"):
            live.checkpoint.preload(cls)
        used = data.draw(st.sets(st.sampled_from(DOMAINS)), label="used")
        for cls in used:
            live.views.domain(cls)
        assert (live.views.digests(), live.views.invalid()) == digests(store)
        live = open_views(store)
        for cls in used:
            live.views.domain(cls)
        wait = checkpoint.save_in_child(live)
        assert wait is not None
        assert wait()
        check_checkpoint(store, checkpoint_path(store))
        assert len(read_checkpoint(store, checkpoint_path(store)).views.index) == len(entries)
        assert loaded(store) == digests(store)


def test_a_restored_entry_has_no_signed_bytes_and_the_store_keeps_them(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        entries = community(40)
        fill(store, entries)
        save_checkpoint(open_views(store))
        live = open_views(store)
        held = next(iter(live.views.trust.outcomes())).invite
        assert held is not None
        assert (held.raw, held.signature) == (b"", b"")
        stored = live.views.index.get(held.id)
        assert stored is not None
        assert stored.raw
        assert stored.signature


def test_pledge_entries_are_restored_without_bodies_and_a_closing_note_survives(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        entries = community(12)
        asker = Author(1)  # the inviter of community(): its feed goes on
        own = [e for e in entries if e.author == asker.key]
        asker.seq, asker.prev, asker.clock = own[-1].seq, own[-1].id, own[-1].timestamp
        request = asker.write(REQUEST, request_body(Amount("EUR", 5000), "roof"))
        closing = asker.write(REQUEST_CLOSE, appeal_close_body(REQUEST, request.id, "fixed"))
        fill(store, [*entries, request, closing])
        before = open_views(store)
        assert before.views.pledges.close_note(request.id) == "fixed"
        save_checkpoint(before)
        live = open_views(store)
        pledges = live.views.pledges
        assert pledges.close_note(request.id) == "fixed"
        appeal = pledges.appeal(request.id)
        assert appeal is not None
        assert appeal.closed is not None
        assert dict(appeal.closed.body) == {}  # the record has every field
        assert dict(appeal.entry.body) == {}
        assert live.views.index.get(request.id).body["reason"] == "roof"  # the store has it
        held = next(iter(live.views.trust.outcomes())).invite
        assert held is not None
        assert held.body  # trust reads bodies: kept
        assert digests(store) == loaded(store)


def test_a_restored_bucket_domain_decodes_only_the_rows_a_query_reads(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        fill(store, community(40))
        everyone = rebuild(store).views.pledges.pledges()
        party = everyone[-1].beneficiary
        assert party is not None
        theirs = {o.id for o in everyone if party in (o.author, o.beneficiary)}
        assert 0 < len(theirs) < len(everyone)
        save_checkpoint(open_views(store))
        live = open_views(store)
        pledges = live.views.pledges
        rows = vars(pledges)["_outcomes"]
        assert isinstance(rows, LazyRows)
        assert sorted(rows) == sorted(o.id for o in everyone)  # listing keys decodes nothing
        assert len(rows) == len(everyone)
        assert not rows.source.taken
        found = {o.id for o in pledges.pledges_of(party)}
        assert found
        assert found <= theirs
        assert found <= rows.source.taken <= theirs, "only the pledges named are decoded"
        assert rows.source.left == len(everyone) - len(rows.source.taken)
        save_checkpoint(live)  # copies the rows still encoded, encodes the decoded ones
        check_checkpoint(store, checkpoint_path(store))
        assert digests(store) == loaded(store)


def test_a_listing_of_every_row_decodes_them_in_one_pass(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        fill(store, community(40))
        expected = rebuild(store).views.pledges
        save_checkpoint(open_views(store))
        pledges = open_views(store).views.pledges
        rows = vars(pledges)["_outcomes"]
        assert isinstance(rows, LazyRows)
        party = expected.pledges()[0].author
        assert party is not None
        theirs = {o.id for o in pledges.pledges_of(party)}  # decoded first
        assert rows.source.taken == theirs
        assert 0 < rows.source.left < len(rows)
        assert pledges.pledges() == expected.pledges()  # the others, in key order
        assert rows.source.left == 0
        assert pledges.listed_ids() == expected.listed_ids()


def test_a_restored_domain_reads_only_the_parts_a_query_uses(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        authors = [Author(n + 1) for n in range(30)]
        entries: list[Entry] = []
        for n in range(60):  # pledges around a ring of 30 people, every other one committed
            who, to = authors[n % 30], authors[(n + 1) % 30]
            intend = who.intend("10", to=to.key)
            entries += [intend, who.commit(intend)] if n % 2 else [intend]
        fill(store, entries)
        expected = rebuild(store).views.pledges
        save_checkpoint(open_views(store))
        pledges = open_views(store).views.pledges
        parts = vars(pledges)[checkpoint_pickle.PARTS]
        assert {"_by_party", "_debts"} <= set(parts), "large attributes are left encoded"
        assert pledges.debts() == expected.debts()
        assert "_debts" not in parts, "read when first used"
        assert "_by_party" in parts, "not read by a query that does not use it"
        live = open_views(store)
        live.views.pledges.debts()
        save_checkpoint(live)  # copies the parts still encoded
        check_checkpoint(store, checkpoint_path(store))
        assert digests(store) == loaded(store)


def test_the_netting_is_saved_and_forgotten_when_the_debts_change(tmp_path: Path) -> None:
    alice, bob, carol = Author(1), Author(2), Author(3)
    entries: list[Entry] = []
    for debtor, creditor in ((alice, bob), (bob, carol), (carol, alice)):
        intend = debtor.intend("30", to=creditor.key)
        entries += [intend, debtor.commit(intend)]
    with Store(tmp_path / "store.sqlite") as store:
        fill(store, entries)
        live = open_views(store)
        assert not live.views.worth_saving()
        netting = live.views.pledges.netting()
        assert [c.amount for c in netting.cycles] == [3000]
        assert live.views.worth_saving()
        assert save_if_behind(live), "no entry is behind, but the netting is worth keeping"
        assert not live.views.worth_saving()
        assert not save_if_behind(live)
        restored = open_views(store)
        assert restored.views.pledges.known_netting()[1] == netting, "restored, not netted again"
        assert not restored.views.worth_saving()
        intend = alice.intend("10", to=carol.key)
        fill(store, [intend, alice.commit(intend)])
        later = open_views(store)  # the checkpoint plus a commitment: the debts changed
        assert later.views.pledges.known_netting()[1] is None
        assert later.views.pledges.netting() == rebuild(store).views.pledges.netting()


def test_a_ledger_command_keeps_its_netting_in_the_checkpoint(
    cli: CliRunner, tmp_path: Path
) -> None:
    homes = Homes(cli, tmp_path, "alice")
    homes.run("alice", "idea", "post", "first idea")
    path = tmp_path / "alice" / "store.sqlite.views"
    assert not path.exists()
    homes.run("alice", "ledger")  # netted (nothing to net): worth a checkpoint
    saved = path.stat()
    homes.run("alice", "ledger")  # the netting is read from it: nothing to save
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (saved.st_ino, saved.st_mtime_ns)


def test_a_command_loads_only_the_sections_it_needs(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        entries = community(40)
        fill(store, entries)
        save_checkpoint(open_views(store))
        live = open_views(store)
        assert live.views.index.log == [], "the covered entries stay in the store"
        assert live.views.trust.members(entries[0].author)
        assert live.views.is_loaded(TrustState)
        assert not live.views.is_loaded(PledgeState)
        assert live.views.index.get(entries[-1].id) == entries[-1]
        assert live.views.index.get(b"\0" * 32) is None
        assert live.views.index.authors() == {e.author for e in entries}
        assert (live.views.digests(), live.views.invalid()) == digests(store)


def test_the_daemon_log_reads_older_entries_from_the_store(tmp_path: Path) -> None:
    from samoorg.node.daemon_views import LiveViews

    with Store(tmp_path / "store.sqlite") as store:
        entries = community(30)
        fill(store, entries[:20])
        save_checkpoint(open_views(store))
        fill(store, entries[20:])
        live = LiveViews(store)
        assert len(live.log) == 10
        everything = list(store.entries_newest_first())
        assert list(live.newest_first(None, None, ())) == everything
        for before in (1, 5, 21, 25, 31):
            expected = list(store.entries_newest_first(before=before))
            assert list(live.newest_first(before, None, ())) == expected
        author = entries[0].author
        mine = list(store.entries_newest_first(author=author, kinds=["trust.invite"]))
        assert list(live.newest_first(None, author, {"trust.invite"})) == mine


def test_the_daemon_loads_a_domain_off_the_loop_when_first_needed(tmp_path: Path) -> None:
    import trio

    from samoorg.node.daemon_views import LiveViews

    with Store(tmp_path / "store.sqlite") as store:
        entries = community(30)
        fill(store, entries[:20])
        save_checkpoint(open_views(store))
        fill(store, entries[20:])
        live = LiveViews(store)
        assert not any(live.views.is_loaded(cls) for cls in DOMAINS), "nothing loaded at start"

        async def two_requests() -> None:
            async with trio.open_nursery() as nursery:  # both wait for one load
                for _ in range(2):
                    nursery.start_soon(live.ensure, (PledgeState, TrustState))

        trio.run(two_requests)
        assert live.views.is_loaded(PledgeState)
        assert live.views.is_loaded(TrustState)
        assert (live.views.digests(), live.views.invalid()) == digests(store)


def test_the_daemon_applies_a_backlog_in_steps_and_requests_run_between(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trio

    from samoorg.node import daemon_views

    monkeypatch.setattr(daemon_views, "CATCH_UP_STEP", 7)
    with Store(tmp_path / "store.sqlite") as store:
        entries = community(60)
        fill(store, entries[:10])
        save_checkpoint(open_views(store))
        live = daemon_views.LiveViews(store)
        fill(store, entries[10:])  # stored by "another process": 50 entries to apply
        seen: list[int] = []

        async def backlog_and_a_client() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(daemon_views.catch_up_in_steps, live.state)
                for _ in range(50):  # a client asking between the steps
                    seen.append(len(live.state.rowids))
                    await trio.sleep(0)

        trio.run(backlog_and_a_client)
        assert seen[-1] == 50
        assert set(seen) <= {*range(0, 50, 7), 50}, seen  # steps of 7, then the last entry
        assert len({n for n in seen if 0 < n < 50}) >= 3, seen  # the client ran between them
        assert (live.views.digests(), live.views.invalid()) == digests(store)


def test_unchanged_rows_are_copied_in_runs_byte_for_byte(tmp_path: Path) -> None:
    from samoorg.node.checkpoint import prepare_save

    with Store(tmp_path / "store.sqlite") as store:
        entries = community(90)
        fill(store, entries[:70])
        save_checkpoint(open_views(store))
        fill(store, entries[70:])  # new pledges, their rows between the old ones
        saved: dict[int, bytes] = {}
        default = checkpoint_pickle.COPY_RUN
        for run in (1, 200, default):  # one row per copy, a few, every unchanged run whole
            live = open_views(store)
            assert len(live.views.pledges.pledges_of(entries[0].author)) > 0
            path = tmp_path / f"copied-{run}"
            checkpoint_pickle.COPY_RUN = run  # type: ignore[misc]
            try:
                prepare_save(live, path).write()
            finally:
                checkpoint_pickle.COPY_RUN = default  # type: ignore[misc]
            saved[run] = path.read_bytes()
        assert saved[1] == saved[200] == saved[default]
        checkpoint_path(store).write_bytes(saved[default])
        assert loaded(store) == digests(store)


def community(count: int) -> list[Entry]:
    """A bounded valid history: an inviter and invitees, then pledges between them."""
    authors = [Author(n + 1) for n in range(4)]
    made: list[Entry] = []
    for number, invitee in enumerate(authors[1:]):
        secret = bytes([number + 1]) * 16
        invite = authors[0].invite(secret)
        made += [invite, invitee.accept(invite, secret)]
    while len(made) < count:
        who = authors[len(made) % len(authors)]
        made.append(who.intend("10", to=authors[(len(made) + 1) % len(authors)].key))
    return made


def test_a_fork_proof_after_the_checkpoint_forces_a_rebuild(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        entries = community(40)
        fill(store, entries)
        save_checkpoint(open_views(store))
        forker = Author(2)  # signed an acceptance at seq 1 (stored); now a second history
        other = forker.write("note", {"text": "another history"})
        assert other.seq == 1
        store.ingest([other.raw])
        assert store.forked_authors() == {forker.key}
        with pytest.raises(CheckpointRejected, match="forked"):
            read_checkpoint(store, checkpoint_path(store))
        views = open_views(store).views
        assert views.is_forked(forker.key)
        assert (views.digests(), views.invalid()) == digests(store)


def test_a_checkpoint_keeps_the_fork_cuts_and_voids_the_covered_entries_past_them(
    tmp_path: Path,
) -> None:
    entries, forker = community(40), Author(2)
    feed = sorted((e for e in entries if e.author == forker.key), key=lambda e: e.seq)
    with Store(tmp_path / "store.sqlite") as store:
        fill(store, entries)
        forker.seq, forker.prev = 2, feed[1].id  # a second history from seq 3 on
        store.ingest([forker.write("note", {"text": "another history"}).raw])
        assert store.fork_cuts() == {forker.key: 3}
        save_checkpoint(open_views(store))
        path = checkpoint_path(store)
        with path.open("rb") as file:
            assert file.read(18)[14:] == checkpoint.FORMAT.to_bytes(4, "big") == b"\0\0\0\6"
        views = read_checkpoint(store, path).views  # the entries are held by the base
        assert views.index.cuts == {forker.key: 3}
        invalid = views.invalid()
        past = {e.id for e in feed if e.seq >= 3}
        assert past
        assert {i for i, r in invalid.items() if r.code.value == "forked-author"} == past
        assert not {e.id for e in feed if e.seq < 3} & invalid.keys()
        assert (views.digests(), invalid) == digests(store)


def test_a_revocation_after_the_checkpoint_rebuilds_the_views_it_voids(tmp_path: Path) -> None:
    laptop, phone = Author(11), Author(12)
    entries = [*community(20), *join(laptop, phone, b"\x05" * 16)]
    before = post_idea(phone, "mine, before the theft")
    stolen = post_idea(phone, "the thief's")
    with Store(tmp_path / "store.sqlite") as store:
        fill(store, [*entries, before, stolen])
        live = open_views(store)
        assert list(live.views.forum.view().ideas) == [before.id, stolen.id]
        save_checkpoint(live)
        laptop.clock = phone.clock + DAY
        fill(store, [laptop.write(DEVICE_REVOKE, revoke_body(phone.key, stolen.seq))])
        views = open_views(store).views  # the header still matches; the forum's section not
        assert views.revoked() == {phone.key: stolen.seq}
        assert list(views.forum.view().ideas) == [before.id]
        assert views.invalid()[stolen.id] == REVOKED_REASON
        assert loaded(store) == digests(store)


def test_a_fork_proof_after_loading_then_a_save_keeps_every_id_and_author(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        entries = community(40)
        fill(store, entries)
        save_checkpoint(open_views(store))
        live = open_views(store)
        live.views.trust.invalid()
        forker = Author(2)
        store.ingest([forker.write("note", {"text": "another history"}).raw])
        live.catch_up()
        assert live.views.is_forked(forker.key)
        save_checkpoint(live)  # no section may be copied: they were built before the fork
        path = checkpoint_path(store)
        check_checkpoint(store, path)
        again = read_checkpoint(store, path).views.index
        assert all(again.get(e.id) == e for e in entries)
        assert again.authors() == {e.author for e in entries}
        assert loaded(store) == digests(store)


def test_a_checkpoint_of_another_store_or_of_deleted_rows_is_rejected(tmp_path: Path) -> None:
    entries = community(30)
    with Store(tmp_path / "a" / "store.sqlite") as first:
        fill(first, entries)
        save_checkpoint(open_views(first))
        saved = checkpoint_path(first).read_bytes()
    with Store(tmp_path / "b" / "store.sqlite") as second:
        fill(second, entries)  # the same entries, but another store
        path = checkpoint_path(second)
        path.write_bytes(saved)
        path.chmod(0o600)
        with pytest.raises(CheckpointRejected, match="store"):
            read_checkpoint(second, path)
        assert loaded(second) == digests(second)
    with Store(tmp_path / "a" / "store.sqlite") as first:
        assert len(read_checkpoint(first, checkpoint_path(first)).views.index) == len(entries)
    db = sqlite3.connect(tmp_path / "a" / "store.sqlite")
    with db:
        db.execute("DELETE FROM entries WHERE rowid = (SELECT MAX(rowid) FROM entries)")
    db.close()
    with Store(tmp_path / "a" / "store.sqlite") as first:
        with pytest.raises(CheckpointRejected, match="no longer holds the rows"):
            read_checkpoint(first, checkpoint_path(first))
        assert len(open_views(first).views.index) == len(entries) - 1


def test_a_checkpoint_naming_foreign_code_is_not_unpickled(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        fill(store, community(10))
        live = open_views(store)
        path = checkpoint_path(store)
        marker = tmp_path / "pwned"

        def evil(obj: object) -> tuple[object, tuple[str]]:
            return os.system, (f"touch {marker}",)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(checkpoint_pickle, "_frozen_reducers", lambda _: {Entry: evil})
            save_checkpoint(live)  # a valid header and checksums around a hostile payload
        with pytest.raises(CheckpointRejected, match="not allowed"):
            check_checkpoint(store, path)
        assert not marker.exists()
        # A bucket domain's rows are decoded when read: a hostile row fails the query.
        with pytest.raises(CheckpointRejected, match=r"cannot load a row of trust.*not allowed"):
            loaded(store)
        assert not marker.exists()
        path.unlink()
        assert loaded(store) == digests(store)


def test_the_checkpoint_is_private_and_a_foreign_owner_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "store.sqlite") as store:
        fill(store, community(10))
        save_checkpoint(open_views(store))
        path = checkpoint_path(store)
        assert path.stat().st_mode & 0o777 == 0o600
        path.chmod(0o640)
        with pytest.raises(CheckpointRejected, match="too open"):
            read_checkpoint(store, path)
        path.chmod(0o600)
        if os.getuid() == 0:
            os.chown(path, 12345, -1)
            with pytest.raises(CheckpointRejected, match="owned"):
                read_checkpoint(store, path)


_SAVER = """
import sys
from pathlib import Path
from samoorg.node.checkpoint import open_views, save_checkpoint
from samoorg.node.store import Store
with Store(Path(sys.argv[1])) as store:
    live = open_views(store)
    print("loaded", flush=True)
    while True:
        save_checkpoint(live)
"""


@pytest.mark.slow
def test_a_saver_killed_by_sigkill_leaves_a_valid_checkpoint(tmp_path: Path) -> None:
    store_file = tmp_path / "store.sqlite"
    with Store(store_file) as store:
        fill(store, community(1500))
        expected = digests(store)
    for round_number in range(4):  # bounded: a few kills at different moments
        saver = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(store_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert saver.stdout is not None
        assert saver.stdout.readline().strip() == "loaded"
        try:
            saver.wait(timeout=0.05 + 0.15 * round_number)
        except subprocess.TimeoutExpired:
            saver.send_signal(signal.SIGKILL)
        saver.wait(timeout=30)
        saver.stdout.close()
        with Store(store_file) as store:
            assert loaded(store) == expected


def test_an_offline_command_saves_and_then_reads_the_checkpoint(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    homes = Homes(cli, tmp_path, "alice")
    homes.run("alice", "idea", "post", "first idea")
    store_file = tmp_path / "alice" / "store.sqlite"
    path = store_file.with_name(store_file.name + ".views")
    assert not path.exists(), "one entry applied: below SAVE_AFTER, nothing saved"
    monkeypatch.setattr(checkpoint, "SAVE_AFTER", 1)
    homes.run("alice", "idea", "list")
    with Store(store_file) as store:
        assert len(read_checkpoint(store, path).views.index) == 1
    homes.run("alice", "idea", "post", "second idea")  # from the checkpoint plus one entry
    listed = homes.json("alice", "idea", "list")
    assert sorted(i["title"] for i in listed["items"]) == ["first idea", "second idea"]
    with Store(store_file) as store:
        assert len(read_checkpoint(store, path).views.index) == 2
        assert loaded(store) == digests(store)


@pytest.mark.slow
def test_the_daemon_saves_its_views_when_it_stops(tmp_path: Path) -> None:
    home = tmp_path / "node"
    create_key_file(home / "identity.key")
    with Store(home / "store.sqlite") as store:
        fill(store, community(60))
    node = NodeProcess(home)
    node.start()
    assert node.stop() == 0
    with Store(home / "store.sqlite") as store:
        assert len(read_checkpoint(store, checkpoint_path(store)).views.index) == 60
        assert loaded(store) == digests(store)
    node = NodeProcess(home)  # starts from the checkpoint
    node.start()
    assert node.stop() == 0
