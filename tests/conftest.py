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


def pytest_report_header(config: pytest.Config) -> str:
    """Say whether the browser tests run (and why not)."""
    from tests.browser_fixtures import chromium_path, skip_reason

    reason = skip_reason()
    if reason is not None:
        return f"browser tests: skipped: {reason}"
    return f"browser tests: Chromium at {chromium_path()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``browser`` when no Chromium (or Playwright) is here."""
    from tests.browser_fixtures import skip_reason

    reason = skip_reason()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=f"browser test: {reason}"))
