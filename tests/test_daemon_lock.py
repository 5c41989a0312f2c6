"""One daemon per home: the flock, and state visible only while it is held."""

from __future__ import annotations

from pathlib import Path

import pytest

from samoorg.node.daemon_state import (
    DaemonLock,
    DaemonRunning,
    daemon_running,
    read_state,
    write_state,
)
from samoorg.node.home import Home


def test_second_lock_is_refused_with_the_pid(tmp_path: Path) -> None:
    home = Home(tmp_path)
    assert not daemon_running(home)
    with DaemonLock(home):
        assert daemon_running(home)
        write_state(home, {"pid": 4242})
        with pytest.raises(DaemonRunning, match="pid 4242"):
            DaemonLock(home).acquire(wait=0.1)
        assert read_state(home) == {"pid": 4242}
    assert not daemon_running(home)
    assert not home.daemon_state.exists()
    with DaemonLock(home):
        assert daemon_running(home)


def test_state_left_by_a_dead_daemon_is_ignored(tmp_path: Path) -> None:
    home = Home(tmp_path)
    write_state(home, {"pid": 1})
    assert read_state(home) is None
    assert read_state(home, check_lock=False) == {"pid": 1}
