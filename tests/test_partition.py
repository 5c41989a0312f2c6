"""Three daemons in network namespaces: partition, concurrent writes, heal, identical digests.

Runs only as root with iproute2 (``ip netns`` + veth on a bridge); otherwise
it is skipped with the reason. Discovery is mDNS on each namespace's own
interface, so the nodes find each other with no bootstrap address.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from samoorg.node.processes import NodeProcess, run_cli
from tests.netns import Lab, unavailable
from tests.process_fixtures import assert_clean_stop, entry_count, wait_converged

pytestmark = [pytest.mark.slow, pytest.mark.network]

REASON = unavailable()


def _connected(home: Path) -> int:
    state = json.loads(run_cli(home, "status", "--json").stdout)["daemon"] or {}
    return sum(1 for p in state.get("peers", []) if p.get("connected"))


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:g} s: {what}")


@pytest.mark.skipif(REASON is not None, reason=f"partition test skipped: {REASON}")
def test_partition_concurrent_writes_heal(tmp_path: Path) -> None:
    homes = [tmp_path / name for name in ("ana", "ben", "cy")]
    ids = []
    for home in homes:
        run_cli(home, "init")
        ids.append(run_cli(home, "whoami").stdout.strip())
    with Lab(3) as lab:
        nodes = [
            NodeProcess(
                home,
                listen=f"/ip4/{lab.ip(i)}/tcp/4001",
                mdns_interface=lab.ip(i),
                netns=lab.names[i],
            )
            for i, home in enumerate(homes)
        ]
        try:
            for node in nodes:
                node.start()
            _wait(lambda: all(_connected(h) == 2 for h in homes), 30, "mDNS full mesh")
            for invitee in (1, 2):
                code = json.loads(
                    run_cli(
                        homes[0],
                        "invite",
                        "create",
                        "--amount",
                        "100",
                        "--currency",
                        "EUR",
                        "--json",
                    ).stdout
                )["code"]
                run_cli(homes[invitee], "invite", "accept", code)
            # Two invites, two acceptances, and the inviter's two confirmations.
            before = wait_converged(homes, 60, expected_entries=6)

            lab.cut(2)
            run_cli(homes[0], "pledge", "intend", "10", "EUR", "--to", ids[1])
            run_cli(
                homes[1],
                "request",
                "create",
                "--amount",
                "80",
                "--currency",
                "EUR",
                "--reason",
                "bike",
            )
            run_cli(
                homes[2],
                "request",
                "create",
                "--amount",
                "900",
                "--currency",
                "EUR",
                "--reason",
                "rent",
                "--monthly",
            )
            run_cli(homes[2], "pledge", "intend", "15", "EUR", "--to", ids[0])
            _wait(lambda: entry_count(homes[0]) == 8 and entry_count(homes[1]) == 8, 30, "a-b sync")
            time.sleep(1.0)
            assert entry_count(homes[2]) == 8  # its own two, nothing from across the cut
            assert entry_count(homes[0]) == 8

            lab.heal(2)
            after = wait_converged(homes, 90, expected_entries=10)
            assert after != before
        finally:
            for node in nodes:
                if node.pid is not None:
                    assert_clean_stop(node)


@pytest.mark.skipif(REASON is not None, reason=f"partition test skipped: {REASON}")
def test_peer_that_vanished_without_closing_is_accepted_back(tmp_path: Path) -> None:
    # The survivor opened the session and has the lower key, so only the
    # staleness rule (not the tie-break) lets the returning peer back in.
    homes = [tmp_path / name for name in ("one", "two")]
    keys = []
    for home in homes:
        run_cli(home, "init")
        keys.append(run_cli(home, "whoami").stdout.strip())
    from samoorg.protocol.ids import parse_peer_id

    if parse_peer_id(keys[0]) > parse_peer_id(keys[1]):
        homes.reverse()
        keys.reverse()
    with Lab(2) as lab:
        returning = NodeProcess(homes[1], listen=f"/ip4/{lab.ip(1)}/tcp/4001", netns=lab.names[1])
        returning.start()
        survivor = NodeProcess(
            homes[0],
            listen=f"/ip4/{lab.ip(0)}/tcp/4001",
            bootstrap=returning.addrs,
            netns=lab.names[0],
        )
        survivor.start()
        try:
            run_cli(homes[0], "follow", keys[1])
            run_cli(
                homes[1],
                "request",
                "create",
                "--amount",
                "5",
                "--currency",
                "EUR",
                "--reason",
                "first",
            )
            _wait(lambda: entry_count(homes[0]) == 1, 30, "first entry")
            time.sleep(11)  # the session is now older than the simultaneous-open window
            lab.cut(1)
            returning.kill()  # no FIN reaches the survivor: its session is stale
            lab.heal(1)
            returning.start()
            run_cli(
                homes[1],
                "request",
                "create",
                "--amount",
                "6",
                "--currency",
                "EUR",
                "--reason",
                "second",
            )
            _wait(lambda: entry_count(homes[0]) == 2, 60, "the returning peer's new entry")
            # The survivor takes the returning peer back either by the staleness
            # rule (the peer dialled first: "replacing a stale session") or by its
            # own redial once the dead connection is reset; both are a new session.
            log = survivor.log_path.read_text("utf-8")
            assert log.count(" started (") >= 2, log
        finally:
            assert_clean_stop(survivor)
            returning.stop()
