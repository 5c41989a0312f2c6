"""Run the CLI as a child process, as a user's shell would (no SAMOORG_* variables)."""

from __future__ import annotations

import os
import subprocess
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
