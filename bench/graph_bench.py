"""The trust-graph picture of the web organizer for 500 members: built and painted.

A synthetic trust tree of :data:`GRAPH_MEMBERS` members (each reached
through a random earlier one, plus a second edge each; every 25th with an
open help request) is laid out and drawn by
:func:`samoorg.node.web.graph.svg`, then painted in headless Chromium (the
system one, as the browser tests drive it), median of :data:`PAINTS`
paints; goal: built and painted in <= 1 s. Beside it, the same run's time to
paint an empty page (the baseline of the browser alone). The pages' own
server time and first paint are bench/web_bench.py's.
"""

from __future__ import annotations

import random
import statistics
import time

from bench.baseline import report

GRAPH_MEMBERS = 500
PAINTS = 5


def run() -> None:
    """Print the graph's build time and its paint beside an empty page's."""
    _graph()


def _chromium() -> str | None:
    from tests.browser_fixtures import chromium_path, skip_reason

    reason = skip_reason()
    if reason is not None:
        print(f"   browser figures skipped: {reason}")
        return None
    return chromium_path()


def _graph() -> None:
    from markupsafe import escape

    from samoorg.node.web import graph

    rng = random.Random(5)
    rows: list[dict[str, object]] = [{"id": "me", "distance": 0, "chain": ["me"]}]
    edges: list[tuple[str, str]] = []
    for i in range(1, GRAPH_MEMBERS):
        parent = rows[rng.randrange(max(1, min(i, 1 + i // 3)))]
        chain = [*parent["chain"], f"m{i}"]  # type: ignore[misc]
        rows.append({"id": f"m{i}", "distance": len(chain) - 1, "chain": chain})
        edges.append((str(parent["id"]), f"m{i}"))
        if i > 10:
            edges.append((f"m{i}", f"m{rng.randrange(1, i)}"))
    labels = {"title": "Trust graph", "me": "you", "helped": "help", "hops": "hops: {n}"}
    helped = frozenset(f"m{i}" for i in range(1, GRAPH_MEMBERS, 25))
    start = time.perf_counter()
    svg = graph.svg(rows, edges, helped, labels)
    built = time.perf_counter() - start
    report(
        f"graph SVG for {GRAPH_MEMBERS} members, built",
        built * 1000,
        "ms",
        note=f"{len(svg):,} bytes",
    )
    path = _chromium()
    if path is None:
        return
    from playwright.sync_api import sync_playwright

    from tests.browser_fixtures import LAUNCH_ARGS, VIEWPORT

    html = f"<!doctype html><title>{escape('graph')}</title><body>{svg}</body>"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(path), args=LAUNCH_ARGS, headless=True)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()  # type: ignore[arg-type]

            def paint(content: str) -> float:
                times = []
                for _ in range(PAINTS):
                    start = time.perf_counter()
                    page.set_content(content, wait_until="load")
                    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(0)))")
                    times.append(time.perf_counter() - start)
                return statistics.median(times) * 1000

            empty = paint("<!doctype html><title>empty</title><body></body>")
            report("paint of an empty page (baseline)", empty, "ms")
            took = built * 1000 + paint(html)
            report(
                f"graph for {GRAPH_MEMBERS} members, built and painted",
                took,
                "ms",
                empty,
                "goal <= 1000 ms",
            )
        finally:
            browser.close()
