"""The fork policy of docs/protocol.md §4.4 as a user meets it: a copied home.

Bob copies his home (a restored backup, one key on two machines) and posts
once from each copy. The two posts share seq and predecessor, so the proof is
pinned: Bob's entries before the fork (his acceptance, the invite he gave
Carol, his commitment) stay valid on every node, his two posts are void, and
his feed is closed. Carol, reachable from Alice only through Bob, stays
reachable.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from samoorg.protocol.ids import parse_peer_id
from tests.community_homes import Homes, chain_with_commitment, exchange, invite
from tests.conftest import CliRunner


def fork_bob_at_alice(homes: Homes) -> None:
    """Bob's home is copied, each copy posts once, and Alice imports both (finding the fork)."""
    shutil.copytree(homes.root / "bob", homes.root / "copy")
    homes.run("bob", "idea", "post", "from the laptop")
    homes.run("copy", "idea", "post", "from the phone")
    assert exchange(homes, "bob", "alice") == 0
    assert exchange(homes, "copy", "alice") == 1  # the fork is found here


def test_a_copied_home_that_posts_from_both_copies_keeps_its_standing(
    tmp_path: Path, cli: CliRunner
) -> None:
    homes, carol, pledge = chain_with_commitment(tmp_path, cli)
    before = {m["id"]: m["distance"] for m in homes.items("alice", "trust", "list")}
    assert before == {homes.ids["alice"]: 0, homes.ids["bob"]: 1, carol: 2}
    fork_bob_at_alice(homes)
    assert exchange(homes, "alice", "carol") == 0
    bob = parse_peer_id(homes.ids["bob"])
    for name in ("alice", "carol"):
        views = homes.views(name)
        assert views.index.cuts == {bob: max(e.seq for e in views.index.of_author(bob))}
        rows = {m["id"]: (m["distance"], m["forked"]) for m in homes.items(name, "trust", "list")}
        assert rows[homes.ids["bob"]][0] is not None  # still a member, flagged
        assert rows[homes.ids["bob"]][1] is True
        assert rows[carol][0] is not None  # reachable through Bob's earlier edges
        pledges = {p["id"]: p for p in homes.items(name, "pledge", "list", "--everyone")}
        assert pledges[views.index.get(bytes.fromhex(pledge)).id.hex()]["state"] == "committed"
    assert homes.views("alice").digests() == homes.views("carol").digests()


def test_the_user_hears_of_their_own_fork_first_and_their_feed_is_closed(
    tmp_path: Path, cli: CliRunner
) -> None:
    homes = Homes(cli, tmp_path, "alice", "bob")
    invite(homes, "alice", "bob")
    homes.sync("alice", "bob")
    assert "forked" not in cli(tmp_path / "bob", "whoami").err
    fork_bob_at_alice(homes)
    # Importing the proof about oneself ends with the warning and exit 1.
    assert cli(tmp_path / "alice", "export", str(tmp_path / "alice.bundle")).code == 0
    imported = cli(tmp_path / "bob", "import", str(tmp_path / "alice.bundle"))
    assert imported.code == 1
    last = imported.err.strip().splitlines()[-1]
    assert last.startswith("warning: your own feed is forked")
    assert "samoorg init" in last
    # From then on every command says so first, even one that opens no store.
    for args in (("whoami",), ("trust", "list")):
        result = cli(tmp_path / "bob", *args)
        assert result.code == 0
        assert result.err.startswith("warning: your own feed is forked")
    # And the feed is closed.
    refused = cli(tmp_path / "bob", "idea", "post", "once more")
    assert refused.code == 1
    assert "flagged as forked" in refused.err
    # A second import of the same proof changes nothing: no new warning at the end.
    again = cli(tmp_path / "bob", "import", str(tmp_path / "alice.bundle"))
    assert again.code == 0
    assert again.err.count("own feed is forked") == 1


@pytest.mark.slow
@pytest.mark.network
def test_a_sync_that_brings_a_proof_about_oneself_ends_with_the_warning(
    tmp_path: Path, cli: CliRunner
) -> None:
    from samoorg.node.processes import NodeProcess

    homes = Homes(cli, tmp_path, "alice", "bob")
    invite(homes, "alice", "bob")
    homes.sync("alice", "bob")
    fork_bob_at_alice(homes)
    with NodeProcess(tmp_path / "alice") as node:
        result = cli(tmp_path / "bob", "sync", node.addrs[0])
    assert result.code == 1, result.err
    assert result.err.strip().splitlines()[-1].startswith("warning: your own feed is forked")
    assert homes.views("bob").index.cuts == homes.views("alice").index.cuts
