"""The API's parts without a daemon: gate, rate limit, cursors, token, errors, document, views."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from samoorg.crdt.framework.errors import RuleViolation
from samoorg.crdt.framework.views import Views
from samoorg.crdt.kinds import ratings
from samoorg.crdt.kinds.trust import REVOKE, TrustState
from samoorg.node.api.errors import BY_QUALNAME, HTTP_ERRORS, TAXONOMY, ApiError, error_name
from samoorg.node.api.events import EventHub
from samoorg.node.api.pages import decode_cursor, encode_cursor
from samoorg.node.api.ratelimit import RateLimiter
from samoorg.node.api.security import HostPolicy
from samoorg.node.api.server import ApiListenError, parse_listen
from samoorg.node.api.token import ensure_token, token_file
from samoorg.node.daemon_views import LiveViews
from samoorg.node.errors import KeyFileError, NotFound, StoreError
from samoorg.node.indexer import load_index
from samoorg.node.processes import run_cli
from samoorg.node.store import Store
from samoorg.protocol.errors import BadSignature, LocalProtocolError
from tests.cli_fixtures import assert_commands_do_not_import
from tests.net_fixtures import make_home


def test_local_commands_do_not_import_the_web_stack(tmp_path: Path) -> None:
    home = tmp_path / "ana"
    run_cli(home, "init")
    commands = [
        ["whoami"],
        ["status", "--json"],
        ["trust", "list"],
        ["trust", "pool"],
        ["idea", "list", "--json"],
        ["pledge", "list"],
        ["log", "--json"],
    ]
    assert_commands_do_not_import(home, commands, ("starlette", "hypercorn", "h11", "h2", "anyio"))


def test_host_policy() -> None:
    loopback = HostPolicy("127.0.0.1", 8080)
    for good in ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LOCALHOST:8080"):
        assert loopback.accepts(good), good
    for bad in ("127.0.0.1", "127.0.0.1:8081", "evil.example:8080", "10.0.0.1:8080", "", "[::1"):
        assert not loopback.accepts(bad), bad
    assert loopback.accepts_origin("http://localhost:8080")
    for origin in ("https://localhost:8080", "http://evil.example:8080", "null", "http://a:8080/x"):
        assert not loopback.accepts_origin(origin), origin
    wildcard = HostPolicy("0.0.0.0", 80)
    assert wildcard.accepts("192.0.2.7")
    assert wildcard.accepts("192.0.2.7:80")
    assert not wildcard.accepts("rebound.example")


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:0", allow_remote=False) == ("127.0.0.1", 0, True)
    assert parse_listen("localhost:9", allow_remote=False) == ("127.0.0.1", 9, True)
    assert parse_listen("[::1]:80", allow_remote=False) == ("::1", 80, True)
    assert parse_listen("0.0.0.0:80", allow_remote=True) == ("0.0.0.0", 80, False)
    for bad in ("0.0.0.0:80", "127.0.0.1", "host.example:80", "127.0.0.1:99999", ":80"):
        with pytest.raises(ApiListenError):
            parse_listen(bad, allow_remote=False)


def test_rate_limiter_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, 4.0, lambda: now[0])
    assert [limiter.allow("a") for _ in range(5)] == [True, True, True, True, False]
    assert limiter.allow("b")  # each client has its own bucket
    assert limiter.retry_after("a") == 1
    now[0] += 0.5
    assert limiter.allow("a")
    assert not limiter.allow("a")
    now[0] += 100
    assert sum(limiter.allow("a") for _ in range(10)) == 4  # never more than the burst


@given(st.integers(min_value=0, max_value=10**12))
def test_cursor_round_trip(position: int) -> None:
    assert decode_cursor(encode_cursor(position)) == position


@given(st.text(max_size=40))
def test_any_cursor_text_is_a_position_or_bad_cursor(text: str) -> None:
    try:
        position = decode_cursor(text)
    except ApiError as exc:
        refused = (exc.name, exc.status)
    else:
        assert position >= 0
        return
    assert refused == ("bad_cursor", 400)


def test_error_names_follow_the_taxonomy() -> None:
    assert error_name(NotFound("x")) == ("not_found", 404)
    assert error_name(StoreError("x")) == ("store_error", 409)
    assert error_name(RuleViolation("x")) == ("rule_violation", 409)
    assert error_name(LocalProtocolError("x")) == ("invalid_record", 422)
    assert error_name(BadSignature("x")) == ("protocol_error", 422)
    assert error_name(ApiError("bad_json", "x")) == ("bad_json", 400)
    assert error_name(ValueError("x")) is None
    with pytest.raises(ValueError, match="HTTP_ERRORS"):
        ApiError("no_such_name", "x")


def test_the_document_lists_every_route_and_validates() -> None:
    from openapi_spec_validator import validate

    from samoorg.node.api.app import HANDLERS
    from samoorg.node.api.openapi import ENDPOINTS, PREFIX, document

    doc = document()
    validate(doc)
    listed = {(m, p.removeprefix(PREFIX)) for p, ops in doc["paths"].items() for m in ops}
    assert listed == set(HANDLERS) == {(e.method, e.path) for e in ENDPOINTS}
    names = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert names == set(HTTP_ERRORS) | {name for name, _ in TAXONOMY.values()} | {
        name for name, _ in BY_QUALNAME.values()
    }
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            assert {"401", "403", "429"} <= set(operation["responses"]), path


def test_token_file_is_private_and_stable(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path / "ana")
    token = ensure_token(home)
    path = token_file(home)
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_token(home) == token
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="too open"):
        ensure_token(home)
    path.chmod(0o600)
    path.write_text("two words\n", encoding="ascii")
    with pytest.raises(KeyFileError, match="expected one token"):
        ensure_token(home)


def test_a_refused_record_leaves_the_live_views_as_a_rebuild(tmp_path: Path) -> None:
    home, signer = make_home(tmp_path / "ana")
    with Store(home.store_file) as store:
        live = LiveViews(store)
        idea = live.append(home, signer, "forum.idea", {"title": "first"})
        own = ratings.rating_body(ratings.ABOUT_IDEA, idea.id, 5)
        with pytest.raises(RuleViolation, match="own"):
            live.append(home, signer, ratings.KIND, own)  # no one rates their own idea
        assert len(live.index) == len(live.log) == store.stats().entries == 1
        second = live.append(home, signer, "forum.idea", {"title": "second"})
        assert second.seq == 2
        assert live.views.digests() == Views(load_index(store)).digests()
        assert [e.id for e in live.log] == [e.id for _, e in store.entries()]


async def test_a_slow_event_client_is_dropped(tmp_path: Path) -> None:
    home, signer = make_home(tmp_path / "ana")
    with Store(home.store_file) as store:
        hub = EventHub(queue_size=2)
        stream = hub.stream(())
        assert await stream.__anext__() == b": samoorg events\n\n"
        entries = [store.append(signer, "test.note", {"n": i}) for i in range(3)]
        hub.publish(entries[:2])
        assert hub.streams == 1
        hub.publish(entries[2:])  # the queue is full: the client is dropped
        assert (hub.streams, hub.dropped) == (0, 1)
        first = await stream.__anext__()
        assert entries[0].id.hex().encode() in first
        await stream.__anext__()
        with trio.fail_after(5), pytest.raises(StopAsyncIteration):
            await stream.__anext__()


def test_a_remembered_listing_is_forgotten_only_for_its_kinds(tmp_path: Path) -> None:
    home, signer = make_home(tmp_path / "ana")
    with Store(home.store_file) as store:
        live = LiveViews(store)
        made: list[int] = []

        def compute() -> int:
            made.append(len(made))
            return len(made)

        assert live.memo("rows", TrustState.kinds, compute) == 1
        live.append(home, signer, "forum.idea", {"title": "not a trust record"})
        assert live.memo("rows", TrustState.kinds, compute) == 1
        assert live.memo("any", None, compute) == 2
        store.append(signer, REVOKE, {"invite": b"\x01" * 32})  # written by "another process"
        assert live.memo("rows", TrustState.kinds, compute) == 1  # not seen yet
        live.refresh()
        assert live.memo("rows", TrustState.kinds, compute) == 3
        assert live.memo("any", None, compute) == 4
        assert live.memo("rows", TrustState.kinds, compute) == 3
