"""``make demo`` end to end: five daemons, the whole story, every convergence check.

The demo is a script (``scripts/demo.py``), so CI runs it as ``make demo``
does, in a child process with a bounded wait, and reads what it printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
DEMO = SCRIPTS / "demo.py"
CHECKS = re.compile(r"(\d+) convergence checks, all passed")


@pytest.fixture
def render_module() -> Iterator[Any]:
    sys.path.insert(0, str(SCRIPTS))
    try:
        import demo_tables

        yield demo_tables
    finally:
        sys.path.remove(str(SCRIPTS))


def test_render_keeps_values_and_names_ids(render_module: Any) -> None:
    render = render_module.Render()
    anna = "12D3KooW" + "A" * 44
    render.name(anna, "anna")
    entry = "ab" * 32
    row = {"id": anna, "amount": {"EUR": "100.05", "USD": "7.00"}, "entry": entry, "n": 3}
    assert render.fields(row, ("id", "amount", "entry", "n")) == (
        "id anna; amount 100.05 EUR + 7.00 USD; entry abababab; n 3"
    )
    assert render.text(f"/ip4/127.0.0.1/tcp/4001/p2p/{anna}") == "/ip4/127.0.0.1/tcp/4001/p2p/anna"
    assert render.text(["x", None, True]) == "x, , yes"
    table = render.table([row], [("member", "id"), ("chain", render.chain("list"))])
    assert table.splitlines() == ["   member  chain", "   ------  -----", "   anna"]


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
    # The story's milestones, as the CLI reported them.
    assert "goal reached" in out
    assert "state fulfilled" in out
    assert "refused (exit 1): error: only the beneficiary (dana)" in out
    assert set(converged) == {"5", "4"}  # 4: chen offline while boris edits
    assert re.search(r"1 +boris +3\n", out)  # the poll, after emil changed his vote
    assert out.count("exit code 0; log clean") == 5
    assert list(tmp_path.iterdir()) == []  # homes removed, daemons stopped first
