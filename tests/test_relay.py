"""Circuit relay v2 between daemons that cannot reach each other directly.

Three namespaces: Ana on network 0, Cy on network 1, and a relay on both that
does not forward packets (so Ana and Cy have no direct path). The relay's
address on network 1 plays the public address: Ana reaches it through a
route, Cy directly. Ana keeps a reservation; her invite code carries the
relay address, and Cy's daemon reaches her through it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from samoorg.node.processes import NodeProcess, run_cli
from tests.netns import Lab, unavailable
from tests.process_fixtures import assert_clean_stop, wait_converged

pytestmark = [pytest.mark.slow, pytest.mark.network]

REASON = unavailable()


@pytest.mark.skipif(REASON is not None, reason=f"relay test skipped: {REASON}")
def test_invitee_reaches_inviter_through_a_relay(tmp_path: Path) -> None:
    homes = [tmp_path / name for name in ("ana", "relay", "cy")]
    for home in homes:
        run_cli(home, "init")
    with Lab(3, networks=[[0, 1], [1, 2]]) as lab:
        public = lab.ip(1, net=1)
        lab.route(0, "10.77.1.0/24", lab.ip(1, net=0))
        relay = NodeProcess(
            homes[1],
            listen=[f"/ip4/{public}/tcp/4001", f"/ip4/{lab.ip(1, net=0)}/tcp/4001"],
            extra_args=["--relay-service"],
            netns=lab.names[1],
        )
        nodes = [relay]
        try:
            relay.start()
            relay_public = next(a for a in relay.addrs if f"/{public}/" in a)
            ana = NodeProcess(
                homes[0],
                listen=f"/ip4/{lab.ip(0)}/tcp/4001",
                extra_args=["--relay", relay_public],
                netns=lab.names[0],
            )
            ana.start()
            nodes.append(ana)
            cy = NodeProcess(
                homes[2], listen=f"/ip4/{lab.ip(2, net=1)}/tcp/4001", netns=lab.names[2]
            )
            cy.start()
            nodes.append(cy)

            def ana_addrs() -> list[str]:
                state = json.loads(run_cli(homes[0], "status", "--json").stdout)["daemon"]
                return list(state["addrs"]) if state else []

            deadline = time.monotonic() + 30
            while not any("/p2p-circuit/" in a for a in ana_addrs()):
                assert time.monotonic() < deadline, "no relay reservation within 30 s"
                time.sleep(0.3)
            made = json.loads(
                run_cli(
                    homes[0], "invite", "create", "--amount", "100", "--currency", "EUR", "--json"
                ).stdout
            )
            accepted = json.loads(
                run_cli(homes[2], "invite", "accept", made["code"], "--json").stdout
            )
            assert any("/p2p-circuit/" in a for a in accepted["addrs"])
            # The invite, the acceptance, and Ana's daemon's confirmation of it.
            wait_converged([homes[0], homes[2]], 60, expected_entries=3)
            peers = json.loads(run_cli(homes[2], "peers", "--json").stdout)
            ana_id = run_cli(homes[0], "whoami").stdout.strip()
            assert any(p["id"] == ana_id and p["connected"] for p in peers)
        finally:
            for node in reversed(nodes):
                if node.pid is not None:
                    assert_clean_stop(node)
