"""``make demo`` end to end: five daemons, the whole story, every convergence check.

The demo is a script (``scripts/demo.py``), so CI runs it as ``make demo``
does, in a child process with a bounded wait, and reads what it printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
DEMO = SCRIPTS / "demo.py"
CHECKS = re.compile(r"(\d+) convergence checks, all passed")


@pytest.mark.slow
@pytest.mark.network
def test_demo_tells_the_whole_story_and_every_node_converges(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)],
        env={**os.environ, "TMPDIR": str(tmp_path)},  # where the demo makes its homes
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert result.stderr == ""
    found = CHECKS.search(out)
    assert found is not None, out[-2000:]
    checks = int(found.group(1))
    assert checks >= 15
    converged = re.findall(r"  CONVERGED in \d+\.\d\d s: (\d) nodes, \d+ entries", out)
    assert len(converged) + out.count("  SAME STATE: ") == checks
    assert "NOT CONVERGED" not in out
    assert "FAILED" not in out
    # The story's milestones, as the CLI printed them: its own lines and tables.
    assert "[goal reached]" in out
    assert "(fulfilled)" in out
    assert "error: only the beneficiary (12D3KooW" in out
    assert "(refused: exit code 1)" in out
    assert re.search(r"5 members; pool of intentions: \d+\.\d\d EUR\n", out)
    assert "┃ distance ┃ chain of contacts" in out  # `trust list`, not a reshaped copy
    assert "  -> " not in out  # no fields picked out of --json answers
    assert set(converged) == {"5", "4"}  # 4: chen offline while boris edits
    assert re.search(r" 1 │ boris +│ 3\n", out)  # the poll, after emil changed his vote
    assert "changed: listings" in out  # act 10, the portal
    assert "reviews " in out
    assert re.search(r"reviewed 12D3KooW\S+: 5/5\n", out)
    assert out.count("exit code 0; log clean") == 5
    assert list(tmp_path.iterdir()) == []  # homes removed, daemons stopped first
