"""``make demo``: three people keep signed feeds and sync them by sneakernet.

Each step is one function, so later work (community records, networking) can
add steps without rewriting this file. Everything runs in a temporary
directory through the real ``samoorg`` command, except writing entries, which
uses the library until the community commands exist.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

NAMES = ("anna", "boris", "chen")
NOTES = {
    "anna": ["I can help with 100 EUR in case of need", "Looking for a bike repair workshop"],
    "boris": ["Counting on reciprocity: 50 EUR", "Idea: a shared tool library", "Who has a van?"],
    "chen": ["Happy to teach Python on Saturdays"],
}


@dataclass
class Node:
    """One participant's home directory and identity."""

    name: str
    home: Path
    peer_id: str = ""


def samoorg(node: Node, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI for ``node``."""
    command = [sys.executable, "-m", "samoorg.cli.main", "--home", str(node.home), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise SystemExit(f"demo failed: samoorg {' '.join(args)}: {result.stderr.strip()}")
    return result


def step(title: str) -> None:
    print(f"\n== {title}")


def create_identities(root: Path) -> list[Node]:
    step("1. Three people create their identities (samoorg init)")
    nodes = [Node(name, root / name) for name in NAMES]
    for node in nodes:
        samoorg(node, "init")
        node.peer_id = json.loads(samoorg(node, "whoami", "--json").stdout)["id"]
        print(f"   {node.name:<6} {node.peer_id}")
    return nodes


def write_entries(nodes: list[Node]) -> None:
    step("2. Each writes signed entries to their own feed")
    from samoorg.node.keystore import load_signer
    from samoorg.node.store import Store

    for node in nodes:
        signer = load_signer(node.home / "identity.key")
        with Store(node.home / "store.sqlite") as store:
            for text in NOTES[node.name]:
                entry = store.append(signer, "note", {"text": text})
                print(f"   {node.name:<6} #{entry.seq} {entry.id.hex()[:12]}  {text!r}")


def exchange_bundles(nodes: list[Node], root: Path) -> None:
    step("3. They swap bundle files, as if on a USB stick (export / import)")
    for node in nodes:
        bundle = root / f"{node.name}.bundle"
        samoorg(node, "export", str(bundle))
        print(f"   {node.name:<6} exported {bundle.name} ({bundle.stat().st_size} bytes)")
    for node in nodes:
        for other in nodes:
            if other is not node:
                result = samoorg(node, "import", str(root / f"{other.name}.bundle"))
                print(f"   {node.name:<6} <- {other.name:<6} {result.stdout.strip()}")


def refuse_damage(nodes: list[Node], root: Path) -> None:
    step("4. A damaged bundle is refused and changes nothing")
    good = (root / "anna.bundle").read_bytes()
    damaged = root / "damaged.bundle"
    damaged.write_bytes(good[: len(good) // 2])
    result = samoorg(nodes[1], "import", str(damaged), check=False)
    print(f"   boris  import damaged.bundle -> exit {result.returncode}: {result.stderr.strip()}")


def verify_everyone(nodes: list[Node]) -> None:
    step("5. Everyone re-verifies every signature and link (samoorg verify)")
    for node in nodes:
        print(f"   {node.name:<6} {samoorg(node, 'verify').stdout.strip()}")


def summarize(nodes: list[Node]) -> None:
    step("Summary")
    held = {}
    for node in nodes:
        entries = json.loads(samoorg(node, "log", "--json").stdout)
        held[node.name] = {entry["id"] for entry in entries}
        authors = {entry["author"] for entry in entries}
        print(f"   {node.name:<6} holds {len(entries)} entries from {len(authors)} feeds")
    same = len({frozenset(ids) for ids in held.values()}) == 1
    total = sum(len(texts) for texts in NOTES.values())
    print(f"   all three hold the same {total} entries: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit("demo failed: the nodes did not converge")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="samoorg-demo-") as tmp:
        root = Path(tmp)
        nodes = create_identities(root)
        write_entries(nodes)
        exchange_bundles(nodes, root)
        refuse_damage(nodes, root)
        verify_everyone(nodes)
        summarize(nodes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
