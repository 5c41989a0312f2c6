"""The last commands that used to bypass the daemon: peer book writes, import, sync.

Each runs offline (``--offline``) and through the daemon (the in-process CLI
forbidden to open the store), on one home whose daemon serves the API; the
outputs, text and ``--json``, must agree (ids masked where two runs name two
participants). ``export`` and ``verify`` stay local (docs/api.md says why):
they are checked to work beside a daemon that writes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from samoorg.node.processes import NodeProcess, run_cli
from tests.api_fixtures import (
    ApiNode,
    api_node_fixture,
    caught_up,
    checked,
    masked,
    run_on,
    start_api_node,
    stop_api_node,
    store_forbidden,
)
from tests.cli_fixtures import assert_commands_do_not_import
from tests.conftest import CliResult, CliRunner

pytestmark = [pytest.mark.slow, pytest.mark.network]
__all__ = ["api_node_fixture"]


@pytest.fixture(name="node", scope="module")
def node_fixture(api_node: ApiNode) -> ApiNode:
    """The module's daemon (``tests/api_fixtures.py``), named as these tests name it."""
    return api_node


def _same(
    node: ApiNode,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    offline_args: tuple[str, ...],
    daemon_args: tuple[str, ...] | None = None,
    code: int = 0,
) -> tuple[CliResult, CliResult]:
    """One command offline, then through the daemon: the same (masked) output and exit code.

    With ``daemon_args``, the participant ids that differ between the two are masked.
    """
    offline = run_on(node, cli, monkeypatch, True, *offline_args)
    through = run_on(node, cli, monkeypatch, False, *(daemon_args or offline_args))
    assert offline.code == code, offline.err
    assert through.code == code, through.err
    ids = {a for a in (*offline_args, *(daemon_args or ())) if a.startswith("12D3KooW")}

    def hidden(text: str) -> str:
        for ident in ids:
            text = text.replace(ident, "<peer>")
        return masked(text)

    assert hidden(through.out) == hidden(offline.out)
    assert hidden(through.err) == hidden(offline.err)
    return offline, through


def _ident(home: Path) -> str:
    return str(json.loads(run_cli(home, "whoami", "--json").stdout)["id"])


def _homes(root: Path, *names: str) -> list[str]:
    ids = []
    for name in names:
        run_cli(root / name, "init")
        ids.append(_ident(root / name))
    return ids


def test_peer_book_writes_go_through_the_daemon_with_the_same_output(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bo, cy, di = _homes(tmp_path, "bo", "cy", "di")
    address = f"/ip4/127.0.0.1/tcp/9/p2p/{bo}"
    for extra in ((), ("--json",)):
        _same(node, cli, monkeypatch, ("peer", "add", address, *extra))
        _same(node, cli, monkeypatch, ("name", "set", bo, "Bobby", *extra))
    assert json.loads(run_cli(node.home, "peers", "--json").stdout)[0]["id"] == bo
    for extra in ((), ("--json",)):
        # Forgotten offline, added again, forgotten through the daemon: the same answer.
        removed = run_on(node, cli, monkeypatch, True, "peer", "remove", "bobby", *extra)
        run_cli(node.home, "peer", "add", address)
        again = run_on(node, cli, monkeypatch, False, "peer", "remove", "bobby", *extra)
        assert (again.code, again.out) == (removed.code, removed.out) == (0, again.out)
        run_cli(node.home, "peer", "add", address)
    run_cli(node.home, "peer", "remove", bo)
    # Removing twice: the second is refused, offline and through the daemon alike.
    _same(node, cli, monkeypatch, ("peer", "remove", bo), code=1)
    _same(node, cli, monkeypatch, ("name", "set", cy, "bobby"), code=1)  # taken
    _same(node, cli, monkeypatch, ("name", "set", cy, " x"), code=2)  # malformed
    _same(node, cli, monkeypatch, ("name", "remove", cy), code=1)  # never named
    _same(node, cli, monkeypatch, ("peer", "add", "/ip4/1.2.3.4/tcp/1"), code=2)
    me = _ident(node.home)
    _same(node, cli, monkeypatch, ("peer", "add", f"/ip4/127.0.0.1/tcp/9/p2p/{me}"), code=1)
    for extra in ((), ("--json",)):
        # Two participants, so that both runs follow someone new: the counts agree.
        scope = node.api.get("/status").json()["daemon"]["scope"]
        _same(node, cli, monkeypatch, ("follow", cy, *extra), ("follow", di, *extra))
        # The daemon applied the change before answering: its scope has the new feed.
        assert node.api.get("/status").json()["daemon"]["scope"] == scope + 2
        _same(node, cli, monkeypatch, ("unfollow", cy, *extra), ("unfollow", di, *extra))
    _same(node, cli, monkeypatch, ("unfollow", cy), code=1)
    removed = run_on(node, cli, monkeypatch, True, "name", "remove", bo, "--json")
    run_cli(node.home, "name", "set", bo, "Bobby")
    again = run_on(node, cli, monkeypatch, False, "name", "remove", bo, "--json")
    assert (again.code, again.out) == (removed.code, removed.out) == (0, again.out)
    assert json.loads(run_cli(node.home, "name", "list", "--json").stdout)["items"] == []


def _feed_bundle(root: Path, name: str, ideas: int) -> Path:
    """A fresh participant with ``ideas`` ideas, exported to a bundle."""
    home = root / name
    run_cli(home, "init")
    for number in range(ideas):
        run_cli(home, "idea", "post", f"idea {number} of {name}")
    bundle = root / f"{name}.bundle"
    run_cli(home, "export", str(bundle))
    return bundle


def test_import_goes_through_the_daemon_with_the_same_output(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundles = [_feed_bundle(tmp_path, f"f{n}", 3) for n in range(4)]
    for first, second, extra in ((0, 1, ()), (2, 3, ("--json",))):
        offline, _ = _same(
            node,
            cli,
            monkeypatch,
            ("import", str(bundles[first]), *extra),
            ("import", str(bundles[second]), *extra),
        )
        assert "3 new entries" in offline.out or '"new": 3' in offline.out
        # Imported again: everything already had, either way.
        _same(node, cli, monkeypatch, ("import", str(bundles[second]), *extra))
    # The daemon's views have the imported ideas (they came through its write path).
    caught_up(node)
    titles = {i["title"] for i in node.api.all_pages("/ideas?sort=recent", 50)}
    assert {f"idea {n} of f{k}" for n in range(3) for k in range(4)} <= titles
    damaged = tmp_path / "damaged.bundle"
    damaged.write_bytes(bundles[0].read_bytes()[:-5])
    _same(node, cli, monkeypatch, ("import", str(damaged)), code=1)


def test_import_through_the_daemon_splits_batches_under_the_body_cap(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from samoorg.cli import feed_commands
    from samoorg.cli.daemon_client import DaemonClient

    bundle = _feed_bundle(tmp_path, "many", 12)
    sizes: list[int] = []
    post = DaemonClient.post_answer

    def counted(self: DaemonClient, path: str, body: dict[str, list[str]], **kw: float) -> object:
        sizes.append(len(body.get("entries", [])))
        return post(self, path, body, **kw)

    monkeypatch.setattr(feed_commands, "IMPORT_BODY", 700)  # a request per record or two
    with monkeypatch.context() as patched:
        store_forbidden(patched)
        patched.setattr(DaemonClient, "post_answer", counted)
        through = cli(node.home, "import", str(bundle), "--json")
    assert through.code == 0, through.err
    assert json.loads(through.out)["new"] == 12
    assert len(sizes) >= 6
    assert sum(sizes) == 12


def test_sync_asks_the_daemon_to_dial(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = tmp_path / "server"
    run_cli(server, "init")
    for number in range(5):
        run_cli(server, "idea", "post", f"note {number}")
    alone = tmp_path / "alone"  # the same sync without a daemon, for the expected output
    run_cli(alone, "init")
    server_id = _ident(server)
    for home in (node.home, alone):
        run_cli(home, "follow", server_id)
    with NodeProcess(server) as peer:
        address = peer.addrs[0]
        for extra in ((), ("--json",)):
            offline = cli(alone, "sync", address, *extra)
            with monkeypatch.context() as patched:
                store_forbidden(patched)
                through = cli(node.home, "sync", address, *extra)
            assert (through.code, offline.code) == (0, 0), through.err
            if extra:
                shown, expected = json.loads(through.out), json.loads(offline.out)
                assert shown.keys() == expected.keys()
                for report in (shown, expected):
                    del report["seconds"]
                assert shown == expected
            else:
                assert masked(through.out).split(" in ")[0] == masked(offline.out).split(" in ")[0]
                assert through.out.split(": ", 1)[1] == offline.out.split(": ", 1)[1]
        # The daemon holds the peer's feed now (its own store, its own views).
        caught_up(node)
        assert node.api.get(f"/log?author={server_id}").json()["items"]
        unreachable = f"/ip4/127.0.0.1/tcp/1/p2p/{_fresh_id()}"
        refused = cli(alone, "sync", unreachable, "--timeout", "5")
        with monkeypatch.context() as patched:
            store_forbidden(patched)
            through = cli(node.home, "sync", unreachable, "--timeout", "5")
        assert (through.code, refused.code) == (1, 1)
        assert through.err.startswith("error: cannot reach"), through.err
        assert through.err == refused.err


def test_export_and_verify_stay_local_beside_a_writing_daemon(
    node: ApiNode, cli: CliRunner, tmp_path: Path
) -> None:
    for number in range(3):
        assert node.api.post_json("/ideas", {"title": f"while exporting {number}"}).status == 201
        bundle = tmp_path / f"live{number}.bundle"
        assert cli(node.home, "export", str(bundle)).code == 0
        assert cli(node.home, "verify").code == 0
    fresh = tmp_path / "fresh"
    run_cli(fresh, "init")
    imported = json.loads(run_cli(fresh, "import", str(bundle), "--json").stdout)
    assert imported["rejected"] == []
    assert imported["new"] == json.loads(cli(node.home, "status", "--json").out)["store"]["entries"]


def test_new_endpoints_answer_their_documented_shapes(node: ApiNode, tmp_path: Path) -> None:
    api = node.api
    document = api.get("/openapi.json").json()
    other = _fresh_id()

    def write(path: str, body: dict[str, object], status: int = 201) -> dict[str, object]:
        answer = api.post_json(path, body)
        assert answer.status == status, answer.body
        found: dict[str, object] = checked(document, "post", path, answer)
        return found

    assert write("/peers", {"address": f"/ip4/127.0.0.1/tcp/9/p2p/{other}"})["id"] == other
    assert write("/names", {"id": other, "name": "Zed"})["petname"] == "Zed"
    assert write("/follows", {"ids": ["zed"]}) == {"following": [other], "new": 1}
    assert write("/follows/remove", {"id": other}, 200)["unfollowed"] == other
    assert write("/names/remove", {"id": "zed"}, 200)["petname"] is None
    assert write("/peers/remove", {"id": other}, 200)["removed"] == other
    added = write("/devices", {"addrs": ["/ip4/127.0.0.1/tcp/9"]})
    assert str(added["code"]).startswith("samoorg-device:")
    listed = checked(document, "get", "/devices", api.get("/devices"))
    assert listed["identity"] == _ident(node.home)
    entries = [
        base64.b64encode(r).decode() for r in _bundle_entries(_feed_bundle(tmp_path, "b", 2))
    ]
    imported = write("/import", {"entries": entries[::-1]}, 200)  # any order
    assert (imported["new"], imported["duplicates"], imported["rejected"]) == (2, 0, [])
    again = write("/import", {"entries": entries, "fork_proofs": []}, 200)
    assert (again["new"], again["duplicates"]) == (0, 2)
    bad = write("/import", {"entries": [base64.b64encode(b"junk").decode()]}, 200)
    assert bad["rejected"][0]["error"] == "MalformedEntry"


def _bundle_entries(bundle: Path) -> list[bytes]:
    from samoorg.protocol.bundle import END, BundleDecoder, Record

    decoder = BundleDecoder()
    decoder.receive_data(bundle.read_bytes())
    decoder.receive_data(b"")  # the end of the file
    found = []
    while (item := decoder.next_record()) is not END:
        assert isinstance(item, Record)
        found.append(item.payload)
    return found


def test_new_endpoints_refuse_bad_input_with_stable_names(node: ApiNode) -> None:
    api = node.api
    me = _ident(node.home)
    big = base64.b64encode(b"x" * 70_000).decode()
    cases: list[tuple[str, object, int, str]] = [
        ("/peers", {"address": "/ip4/1.2.3.4/tcp/1"}, 400, "bad_address"),
        ("/peers", {"address": 5}, 422, "invalid_body"),
        ("/peers", {"address": f"/ip4/127.0.0.1/tcp/9/p2p/{me}"}, 409, "rule_violation"),
        ("/peers", {}, 422, "invalid_body"),
        ("/peers/remove", {"id": "zz"}, 400, "bad_identifier"),
        ("/follows", {"ids": []}, 400, "malformed_input"),
        ("/follows", {"ids": [1]}, 422, "invalid_body"),
        ("/follows/remove", {"id": me}, 404, "not_found"),
        ("/names", {"id": me, "name": ""}, 400, "malformed_input"),
        ("/names/remove", {"id": me}, 404, "not_found"),
        ("/import", {"entries": ["not base64!"]}, 422, "invalid_body"),
        ("/import", {"entries": "x"}, 422, "invalid_body"),
        ("/import", {"other": []}, 422, "invalid_body"),
        ("/import", {"entries": [big]}, 413, "payload_too_large"),
        ("/sync", {}, 422, "invalid_body"),
        ("/sync", {"address": "nowhere"}, 400, "bad_address"),
        ("/sync", {"address": f"/ip4/127.0.0.1/tcp/9/p2p/{me}"}, 409, "rule_violation"),
        ("/sync", {"address": f"/ip4/127.0.0.1/tcp/9/p2p/{me}", "hops": -1}, 422, "invalid_body"),
        ("/sync", {"address": "/ip4/1/tcp/1/p2p/" + me, "timeout": "x"}, 422, "invalid_body"),
    ]
    for path, body, status, name in cases:
        answer = api.post_json(path, body)
        assert (answer.status, answer.json()["error"]) == (status, name), (path, answer.body)
        assert "\n" not in answer.json()["message"]
    assert api.post_json("/peers", {"address": "/ip4/1.2.3.4/tcp/1"}, auth=False).status == 401
    foreign = api.post_json("/import", {"entries": []}, headers={"Origin": "http://evil.example"})
    assert (foreign.status, foreign.json()["error"]) == (403, "forbidden_origin")
    wrong = api.post_json("/sync", {"address": "x"}, headers={"Authorization": "Bearer nope"})
    assert (wrong.status, wrong.json()["error"]) == (401, "unauthorized")
    junk = api.request("POST", "/import", body=b"{", headers={"Content-Type": "application/json"})
    assert (junk.status, junk.json()["error"]) == (400, "bad_json")
    unreachable = api.post_json("/sync", {"address": f"/ip4/127.0.0.1/tcp/1/p2p/{_fresh_id()}"})
    assert (unreachable.status, unreachable.json()["error"]) == (502, "peer_unreachable")


def _fresh_id() -> str:
    from samoorg.protocol.crypto import Signer
    from samoorg.protocol.ids import peer_id

    return peer_id(Signer.generate().public_key)


def test_the_rate_limit_applies_to_the_new_endpoints(tmp_path: Path) -> None:
    node = start_api_node(tmp_path / "slow", "--api-rate", "0.01")
    try:
        first = node.api.post_json("/follows", {"ids": [_fresh_id()]})
        assert first.status == 201, first.body
        second = node.api.post_json("/follows", {"ids": [_fresh_id()]})
        assert (second.status, second.json()["error"]) == (429, "rate_limited")
        assert int(second.headers["retry-after"]) >= 1
    finally:
        stop_api_node(node)


def test_device_commands_go_through_the_daemon_with_the_same_output(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for extra in ((), ("--json",)):
        _same(node, cli, monkeypatch, ("device", "add", "--addr", "/ip4/127.0.0.1/tcp/9", *extra))
    code = json.loads(run_on(node, cli, monkeypatch, False, "device", "add", "--json").out)["code"]
    phone = tmp_path / "phone"
    run_cli(phone, "init", "--join-identity", code)
    run_cli(phone, "export", str(tmp_path / "phone.bundle"))
    assert run_on(node, cli, monkeypatch, False, "import", str(tmp_path / "phone.bundle")).code == 0
    caught_up(node)
    for extra in ((), ("--json",)):
        _same(node, cli, monkeypatch, ("device", "list", *extra))
    me = _ident(node.home)
    phone_id = json.loads(run_cli(phone, "whoami", "--json").stdout)["device"]  # id: the identity
    listed = json.loads(run_on(node, cli, monkeypatch, False, "device", "list", "--json").out)
    assert [d["id"] for d in listed["devices"]] == [me, phone_id]
    _same(node, cli, monkeypatch, ("device", "revoke", me), code=1)
    _same(node, cli, monkeypatch, ("device", "revoke", _fresh_id()), code=1)
    _same(node, cli, monkeypatch, ("device", "revoke", "zz"), code=2)
    revoked = run_on(node, cli, monkeypatch, False, "device", "revoke", phone_id, "--json")
    assert revoked.code == 0, revoked.err
    assert json.loads(revoked.out)["from"] == 2
    caught_up(node)
    listed = json.loads(run_on(node, cli, monkeypatch, False, "device", "list", "--json").out)
    assert listed["devices"][1]["revoked_from"] == 2


def test_status_goes_through_the_daemon_with_the_same_output(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    caught_up(node)
    for extra in (("--json",), ("--json", "--digests")):
        offline, through = (
            json.loads(run_on(node, cli, monkeypatch, mode, "status", *extra).out)
            for mode in (True, False)
        )
        # The daemon's live state moves (dials, counters); daemon.json is a snapshot of it.
        steady = ("pid", "id", "name", "addrs", "started", "hops", "api")
        for answer in (offline, through):
            answer["daemon"] = {k: answer["daemon"][k] for k in steady}
        assert through == offline
        assert list(through) == list(offline)  # the same keys in the same order
        assert ("digests" in through) == ("--digests" in extra)
    offline_text = run_on(node, cli, monkeypatch, True, "status", "--digests").out
    through_text = run_on(node, cli, monkeypatch, False, "status", "--digests").out

    def steady(text: str) -> list[str]:
        # Uptime, peers and scope move while the daemon runs (daemon.json is a snapshot).
        kept = ("id:", "home:", "store:", "digest:", "listen:")
        return [line for line in text.splitlines() if line.startswith(kept)]

    assert steady(through_text) == steady(offline_text)
    assert "daemon:  running" in through_text


def test_commands_through_the_daemon_do_not_import_the_web_stack(
    node: ApiNode, tmp_path: Path
) -> None:
    bundle = _feed_bundle(tmp_path, "light", 1)
    peer = f"/ip4/127.0.0.1/tcp/9/p2p/{_fresh_id()}"
    commands = [
        ["import", str(bundle)],
        ["status", "--json"],
        ["device", "list"],
        ["peer", "add", peer],
        ["follow", peer.rsplit("/", 1)[1]],
    ]
    web = ("starlette", "hypercorn", "h11", "h2", "anyio", "libp2p")
    assert_commands_do_not_import(node.home, commands, web)


def test_an_import_finishes_on_the_store_when_the_daemon_stops_answering(
    node: ApiNode, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from samoorg.cli import feed_commands
    from samoorg.cli.daemon_client import DaemonClient, DaemonUnavailable

    bundle = _feed_bundle(tmp_path, "halfway", 6)
    post = DaemonClient.post_answer
    calls: list[int] = []

    def failing(self: DaemonClient, path: str, body: dict[str, list[str]], **kw: float) -> object:
        calls.append(1)
        if len(calls) > 2:
            raise DaemonUnavailable("connection refused")
        return post(self, path, body, **kw)

    monkeypatch.setattr(feed_commands, "IMPORT_BODY", 700)
    monkeypatch.setattr(DaemonClient, "post_answer", failing)
    done = cli(node.home, "import", str(bundle), "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["new"] == 6
    assert done.err.count("warning: the daemon did not answer") == 1
    assert len(calls) == 3  # nothing more was sent after the daemon failed
