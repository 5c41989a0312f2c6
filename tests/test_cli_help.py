"""``samoorg --help`` grouped by topic without shortened descriptions, and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from samoorg.cli.help_topics import TOPICS
from samoorg.cli.main import COMMAND_MODULES


def _samoorg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samoorg.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_every_command_has_exactly_one_topic() -> None:
    placed = [name for names in TOPICS.values() for name in names]
    assert len(placed) == len(set(placed))
    assert set(placed) == {name for names in COMMAND_MODULES.values() for name in names}


def test_help_lists_commands_by_topic_in_full() -> None:
    result = _samoorg("--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    headings = [f"{topic}:" for topic in TOPICS]
    positions = [text.index(f"\n{heading}\n") for heading in headings]
    assert positions == sorted(positions)
    assert "Other commands:" not in text
    for (topic, names), start, end in zip(
        TOPICS.items(), positions, [*positions[1:], len(text)], strict=True
    ):
        section = text[start:end]
        for name in names:
            assert f"\n  {name} " in section, (topic, name)
    assert "..." not in text[positions[0] :]
    # A long first sentence is wrapped, not cut.
    assert "entries." in text.split("\n  import ")[1].split("\n\n")[0]


def test_sub_command_help_is_not_shortened() -> None:
    text = _samoorg("pledge", "--help").stdout.split("\nCommands:\n")[1]
    assert "..." not in text.replace("overdue, ...", "")
    assert "irrevocable commitment (asks first on" in " ".join(text.split())


def test_shell_completion_completes_commands_and_sub_commands() -> None:
    bash = {"_SAMOORG_COMPLETE": "complete_bash"}
    top = _samoorg(env={**bash, "COMP_WORDS": "samoorg pled", "COMP_CWORD": "1"})
    assert top.returncode == 0, top.stderr
    assert top.stdout.split() == ["pledge"]
    sub = _samoorg(env={**bash, "COMP_WORDS": "samoorg request ", "COMP_CWORD": "2"})
    assert {"create", "list", "show", "close"} <= set(sub.stdout.split())


def test_install_completion_writes_the_script(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    result = _samoorg("--install-completion", "bash", env=env)
    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions" / "samoorg.sh"
    assert "_SAMOORG_COMPLETE" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()
