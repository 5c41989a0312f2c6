"""``samoorg recovery ...`` with real homes: three guardians, a lost device, 2 approve (§8.13)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from samoorg.crdt.kinds.devices import DevicesState
from samoorg.crdt.kinds.recovery import DEFAULT_WAIT
from samoorg.protocol.ids import peer_id
from tests.community_homes import (  # noqa: F401 (the clock fixture)
    Homes,
    clock_fixture,
    exchange,
    invite,
)
from tests.conftest import CliRunner


def guarded(cli: CliRunner, tmp_path: Path) -> Homes:
    """Ana trusts three friends and names them guardians, 2 of 3, the default wait."""
    homes = Homes(cli, tmp_path, "ana", "g1", "g2", "g3")
    for friend in ("g1", "g2", "g3"):
        invite(homes, "ana", friend)
    homes.sync("ana", "g1", "g2", "g3")
    ids = ",".join(homes.ids[g] for g in ("g1", "g2", "g3"))
    shown = homes.json("ana", "recovery", "set", "--guardians", ids, "--threshold", "2")
    assert shown["threshold"] == 2
    assert shown["wait_ms"] == DEFAULT_WAIT
    homes.run("ana", "idea", "post", "written before the loss")
    homes.sync("ana", "g1", "g2", "g3")
    return homes


def ask(homes: Homes, name: str = "new") -> str:
    """A new home asks for Ana's identity and gets the guardians' feeds; the request id."""
    result = homes.cli(homes.root / name, "recovery", "request", homes.ids["ana"], "--json")
    assert result.code == 0, result.err
    assert "no guardians" in result.err  # nothing of Ana held yet: it waits
    request = str(json.loads(result.out)["id"])
    homes.ids[name] = json.loads(homes.run(name, "whoami", "--json"))["id"]
    assert exchange(homes, "g1", name) == 0
    for guardian in ("g1", "g2", "g3"):
        assert exchange(homes, name, guardian) == 0
    return request


def recovery_items(homes: Homes, name: str) -> list[tuple[str, str]]:
    """The recovery items of a home's inbox, ``(kind, request id)``."""
    items = homes.json(name, "inbox")["items"]
    return [(i["kind"], i["subject"]) for i in items if i["kind"].startswith("recovery_")]


def test_two_of_three_guardians_recover_a_lost_identity(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = guarded(cli, tmp_path)
    shutil.rmtree(tmp_path / "ana")  # every device lost
    request = ask(homes)
    shown = homes.json("new", "recovery", "show")
    assert shown["identity"] == homes.ids["new"]  # not Ana's yet
    assert recovery_items(homes, "g1") == [("recovery_to_approve", request)]
    assert "not a guardian" in homes.refused("new", "recovery", "approve", request)
    assert "1 of 2 approvals" in homes.run("g1", "recovery", "approve", request)
    assert exchange(homes, "g1", "g2") == 0
    out = homes.run("g2", "recovery", "approve", request[:16])
    assert "takes effect at" in out
    assert "already approved" in homes.refused("g1", "recovery", "approve", request)
    for guardian in ("g1", "g2"):
        assert exchange(homes, guardian, "new") == 0
        assert exchange(homes, guardian, "g3") == 0
    (mine,) = homes.json("g3", "recovery", "show")["guarding"]
    assert mine["status"] == "waiting"
    assert set(mine["approvals"]) == {homes.ids["g1"], homes.ids["g2"]}
    assert recovery_items(homes, "g1") == []
    early = homes.refused("new", "idea", "post", "too early")
    assert "takes effect at" in early  # a device of Ana's may still veto
    clock[0] += DEFAULT_WAIT + 60_000  # the wait is over
    listed = homes.json("new", "device", "list")
    assert listed["identity"] == homes.ids["ana"]
    old, new = listed["devices"]
    assert (old["id"], new["id"]) == (homes.ids["ana"], homes.ids["new"])
    assert old["revoked_from"] is not None  # after what she wrote
    assert new["revoked_from"] is None
    (done,) = homes.json("new", "recovery", "show")["requests"]
    assert done["status"] == "recovered"
    # The new key speaks for the identity: what it writes counts as Ana's on every node.
    homes.run("new", "idea", "post", "back with a new key")
    assert exchange(homes, "new", "g3") == 0
    devices = homes.views("g3").domain(DevicesState).view()
    assert [peer_id(k) for k in devices.links] == [homes.ids["new"]]
    assert peer_id(devices.identity(next(iter(devices.links)))) == homes.ids["ana"]
    assert homes.json("g3", "recovery", "show")["guarding"][0]["status"] == "recovered"
    assert homes.invalid("g3") == {}


def test_a_device_left_vetoes_inside_the_wait(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = guarded(cli, tmp_path)
    request = ask(homes, "thief")
    for guardian in ("g1", "g2"):
        homes.run(guardian, "recovery", "approve", request)
        assert exchange(homes, guardian, "ana") == 0
    assert recovery_items(homes, "ana") == [("recovery_of_yours", request)]
    out = homes.run("ana", "recovery", "veto", request)
    assert "vetoed" in out
    assert exchange(homes, "ana", "thief") == 0
    clock[0] += DEFAULT_WAIT + 60_000
    assert homes.json("thief", "device", "list")["identity"] == homes.ids["thief"]
    (vetoed,) = homes.json("ana", "recovery", "show")["requests"]
    assert vetoed["status"] == "vetoed"
    assert recovery_items(homes, "ana") == []
    homes.run("ana", "idea", "post", "still mine")


def test_an_old_device_found_after_the_wait_writes_nothing_that_counts(
    tmp_path: Path, cli: CliRunner, clock: list[int]
) -> None:
    homes = guarded(cli, tmp_path)
    request = ask(homes)
    for guardian in ("g1", "g2"):
        homes.run(guardian, "recovery", "approve", request)
        assert exchange(homes, guardian, "ana") == 0
    clock[0] += DEFAULT_WAIT + 60_000  # Ana finds her laptop again, too late
    assert "recovered your identity" in homes.refused("ana", "idea", "post", "it is me")
    assert "revoked" in homes.refused("ana", "recovery", "veto", request)
    assert homes.json("ana", "device", "list")["devices"][1]["id"] == homes.ids["new"]


def test_refusals_and_bad_usage_are_one_line(tmp_path: Path, cli: CliRunner) -> None:
    homes = Homes(cli, tmp_path, "ana", "bea", "stranger")
    invite(homes, "ana", "bea")
    homes.sync("ana", "bea", "stranger")
    bea, stranger = homes.ids["bea"], homes.ids["stranger"]
    assert "trust list" in homes.refused(
        "ana", "recovery", "set", "--guardians", stranger, "--threshold", "1"
    )
    assert "is you" in homes.refused(
        "ana", "recovery", "set", "--guardians", homes.ids["ana"], "--threshold", "1"
    )
    assert "threshold" in homes.misused(
        "ana", "recovery", "set", "--guardians", bea, "--threshold", "2"
    )
    assert "duration" in homes.misused(
        "ana", "recovery", "set", "--guardians", bea, "--threshold", "1", "--wait", "soon"
    )
    assert "new key" in homes.refused("bea", "recovery", "request", homes.ids["ana"])
    # Ana named no guardians: the request waits for a set that may still come, and says so.
    asked = homes.cli(tmp_path / "stranger", "recovery", "request", homes.ids["ana"])
    assert asked.code == 0
    assert "holds no guardians" in asked.err
    assert homes.json("stranger", "recovery", "show")["requests"] == []
