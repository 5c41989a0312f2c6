"""Shared fixtures: temporary node homes and an in-process CLI runner."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from samoorg.cli.main import main

# The machine is shared and its speed varies, so per-example deadlines would
# only make property tests flaky. Every loop in a test is bounded instead.
settings.register_profile("samoorg", deadline=None)
settings.load_profile("samoorg")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@dataclass
class CliResult:
    """What one CLI invocation printed and returned."""

    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run ``samoorg --home HOME ARGS...`` in-process; returns code, stdout, stderr."""
    monkeypatch.delenv("SAMOORG_HOME", raising=False)
    monkeypatch.delenv("SAMOORG_PASSPHRASE", raising=False)

    def run(home: Path, *args: str) -> CliResult:
        capsys.readouterr()
        # Long-running commands (sync) route logging to stderr for their
        # process; in-process runs must not leave that for the next command.
        root, ours = logging.getLogger(), logging.getLogger("samoorg")
        handlers, levels = root.handlers[:], (root.level, ours.level)
        try:
            code = main(["--home", str(home), *args])
        finally:
            root.handlers[:] = handlers
            root.setLevel(levels[0])
            ours.setLevel(levels[1])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def shared() -> Path:
    """The read-only ``../shared`` folder (vectors, traces, notes)."""
    if not SHARED.is_dir():
        pytest.fail(f"expected the shared folder at {SHARED}")
    return SHARED
