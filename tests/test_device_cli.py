"""``samoorg device add|list|revoke`` and ``init --join-identity`` over bundles (§8.11)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.community_homes import Homes, exchange
from tests.conftest import CliRunner


def test_a_second_device_joins_then_is_revoked(tmp_path: Path, cli: CliRunner) -> None:
    homes = Homes(cli, tmp_path, "laptop", "friend")
    code = homes.json("laptop", "device", "add")["code"]
    joined = cli(tmp_path / "phone", "init", "--join-identity", code)
    assert joined.code == 0, joined.err
    assert "joined identity" in joined.out
    whoami = json.loads(cli(tmp_path / "phone", "whoami", "--json").out)
    assert whoami["id"] == homes.ids["laptop"]  # the phone is the laptop's identity
    homes.ids["phone"] = whoami["device"]
    assert exchange(homes, "phone", "laptop") == 0
    assert exchange(homes, "laptop", "phone") == 0
    for name in ("laptop", "phone"):
        listed = homes.json(name, "device", "list")
        assert listed["identity"] == homes.ids["laptop"]
        assert [d["id"] for d in listed["devices"]] == [homes.ids["laptop"], homes.ids["phone"]]
    # The phone is stolen: the laptop revokes it from its next entry on.
    homes.run("laptop", "device", "revoke", homes.ids["phone"])
    assert exchange(homes, "laptop", "phone") == 0
    refused = homes.refused("phone", "idea", "post", "the thief's")
    assert "revoked" in refused
    listed = homes.json("laptop", "device", "list")
    assert listed["devices"][1]["revoked_from"] == 2
    # A bad code creates nothing.
    bad = cli(tmp_path / "other", "init", "--join-identity", "samoorg-device:xyz")
    assert bad.code == 2
    assert not (tmp_path / "other" / "identity.key").exists()
    # A revoke of someone who is not one's device is refused.
    friend = homes.ids["friend"]
    assert exchange(homes, "friend", "laptop") == 0
    assert "not a device" in homes.refused("laptop", "device", "revoke", friend)
