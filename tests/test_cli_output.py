"""The CLI's output helpers: one time format for JSON, one plural helper."""

from __future__ import annotations

import json

from samoorg.cli.output import count, format_time, instant, jsonable, rfc3339


def test_rfc3339_is_utc_with_milliseconds() -> None:
    assert rfc3339(0) == "1970-01-01T00:00:00.000Z"
    assert rfc3339(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"
    assert rfc3339(1_700_000_000_999) == "2023-11-14T22:13:20.999Z"  # no float rounding
    assert format_time(1_700_000_000_999) == "2023-11-14 22:13:20"


def test_times_a_peer_may_sign_beyond_year_9999_are_clamped_not_a_crash() -> None:
    assert rfc3339(10**18) == "9999-12-31T23:59:59.999Z"
    assert format_time(2**63 - 1) == "9999-12-31 23:59:59"


def test_jsonable_writes_instants_and_keeps_plain_integers() -> None:
    row = {"at": instant(1_700_000_000_000), "none": instant(None), "n": 1_700_000_000_000}
    text = json.dumps(jsonable(row))
    assert json.loads(text) == {"at": "2023-11-14T22:13:20.000Z", "none": None, "n": 1700000000000}


def test_count_chooses_the_form_of_the_noun() -> None:
    assert count(1, "member") == "1 member"
    assert count(2, "fork proof") == "2 fork proofs"
    assert count(0, "entry", "entries") == "0 entries"
    assert count(1, "new entry", "new entries") == "1 new entry"


def test_status_json_writes_the_daemons_times_in_rfc3339() -> None:
    from samoorg.node.api.shapes import daemon_json as _daemon_json

    published = {
        "pid": 7,
        "started": 1_700_000_000_000,
        "updated": 1_700_000_001_500,
        "peers": [{"id": "p", "last_sync": None, "next_dial": 1_700_000_002.25}],
    }
    assert jsonable(_daemon_json(published)) == {
        "pid": 7,
        "started": "2023-11-14T22:13:20.000Z",
        "updated": "2023-11-14T22:13:21.500Z",
        "peers": [{"id": "p", "last_sync": None, "next_dial": "2023-11-14T22:13:22.250Z"}],
    }
    assert _daemon_json(None) is None
