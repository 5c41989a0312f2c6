"""Run every benchmark module: ``python -m bench [NAME ...]``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench.baseline import report, verify_rate


def main(argv: list[str]) -> int:
    """Run the selected (default: all) ``*_bench`` modules in name order."""
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.endswith("_bench")
    )
    chosen = [n for n in names if not argv or any(a in n for a in argv)]
    rate = verify_rate()
    report("baseline: raw pynacl verify (1 core)", rate, "verify/s")
    for name in chosen:
        print(f"\n== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        module.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
