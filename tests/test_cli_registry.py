"""The lazy command registry in cli/main.py matches what each module registers."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from samoorg.cli.main import COMMAND_MODULES


def _top_level_names(app: typer.Typer) -> set[str]:
    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    names |= {g.name for g in app.registered_groups if g.name}
    return names


def test_every_module_registers_exactly_its_listed_commands() -> None:
    for module_name, listed in COMMAND_MODULES.items():
        app = typer.Typer()
        importlib.import_module(f"samoorg.cli.{module_name}").register(app)
        assert _top_level_names(app) == set(listed), module_name


def test_listed_commands_do_not_overlap() -> None:
    seen: dict[str, str] = {}
    for module_name, listed in COMMAND_MODULES.items():
        for name in listed:
            assert name not in seen, f"{name} listed by {seen.get(name)} and {module_name}"
            seen[name] = module_name


def test_whoami_loads_only_its_own_command_module(tmp_path: object) -> None:
    probe = (
        "import sys\n"
        "from samoorg.cli.main import main\n"
        f"main(['--home', {str(tmp_path)!r}, 'whoami'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('samoorg.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    loaded = out.strip().splitlines()[-1]
    assert "samoorg.cli.feed_commands" in loaded
    for other in set(COMMAND_MODULES) - {"feed_commands"}:
        assert f"samoorg.cli.{other}" not in loaded


def test_help_lists_every_command(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "samoorg.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    for listed in COMMAND_MODULES.values():
        for name in listed:
            assert f" {name} " in result.stdout or f" {name}\n" in result.stdout, name
