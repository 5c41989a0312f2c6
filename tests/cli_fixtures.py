"""Run the CLI as a child process, as a user's shell would (no SAMOORG_* variables),
or in a fresh interpreter to see which packages its commands import."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from samoorg.node.processes import cli_command


def child_env() -> dict[str, str]:
    """This process's environment without any SAMOORG_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SAMOORG_")}


def run_child(home: Path, *args: str, **options: Any) -> subprocess.CompletedProcess[Any]:
    """``samoorg --home HOME ARGS...`` in a child; ``options`` go to :func:`subprocess.run`.

    Output is captured (bytes unless ``text=True``); the child gets 120 s.
    """
    settings: dict[str, Any] = {"capture_output": True, "env": child_env(), "timeout": 120}
    settings.update(options)
    return subprocess.run(cli_command(home, *args), check=False, **settings)


def assert_commands_do_not_import(
    home: Path, commands: Sequence[Sequence[str]], packages: Sequence[str]
) -> None:
    """Run ``commands`` in ``home`` in one fresh interpreter (``main`` in process, this
    process's environment, 120 s); each must exit 0, and afterwards no module of
    ``packages`` (top-level names) may be loaded."""
    script = (
        "import sys\n"
        "from samoorg.cli.main import main\n"
        f"for args in {[list(args) for args in commands]!r}:\n"
        f"    assert main(['--home', {str(home)!r}, *args]) == 0, args\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {tuple(packages)!r})\n"
        "assert not loaded, loaded[:5]\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
