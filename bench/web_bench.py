"""The web organizer over the generated community: server time per page, first paint, the graph.

The community (``SAMOORG_BENCH_WEB_N`` entries, default 100,000) is the
cached store of bench/api_bench.py, copied into a fresh home whose identity
is the community's first member. ``samoorg node run`` serves it; a session
is opened with a one-time link as ``samoorg web`` does, and:

* per page of the navigation, p50 and p95 of :data:`REQUESTS` sequential
  ``GET`` requests with the session cookie (server time plus loopback HTTP),
  beside ``GET /api/v1/status`` of the same run (the cost of HTTP and the
  gate alone) and ``GET /api/v1/trust/list`` (the API's own latency for the
  same data as the Trust page); goal p95 <= 50 ms;
* first contentful paint of each page in headless Chromium (the system one,
  as the browser tests drive it), median of :data:`PAINTS` loads; goal <= 500 ms;
* the trust-graph picture for 500 members: building the SVG
  (:func:`samoorg.node.web.graph.svg`) and Chromium's first paint of a page
  holding it; goal <= 1 s.

Skipped, saying why, without a Chromium for the browser figures.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.api_bench import _Client, _percentiles, _store, bench_home
from bench.baseline import report
from samoorg.node.api.token import token_file
from samoorg.node.processes import NodeProcess

REQUESTS = 100
PAINTS = 5
GRAPH_MEMBERS = 500
PAINT_SCRIPT = (
    "() => (performance.getEntriesByName('first-contentful-paint')[0] || {startTime: -1}).startTime"
)


class _Browser:
    """GET pages with the session cookie on one keep-alive connection."""

    def __init__(self, client: _Client, cookie: str) -> None:
        self.client = client
        self.cookie = cookie

    def get(self, path: str) -> float:
        connection = self.client.connection
        start = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": self.cookie})
        response = connection.getresponse()
        raw = response.read()
        took = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {raw[:200]!r}")
        return took


def _login(client: _Client) -> tuple[str, str]:
    """A one-time link's session: (cookie header value, link)."""
    _, answer = client.call("POST", "/web/login", {})
    assert isinstance(answer, dict)
    link = str(answer["url"])
    parts = urlsplit(link)
    connection = client.connection
    connection.request("GET", f"{parts.path}?{parts.query}")
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("set-cookie") or ""
    return cookie.split(";")[0], link


def run() -> None:
    """Print page latencies, first paints and the graph's cost."""
    from samoorg.node.web.site import NAV

    total = int(os.environ.get("SAMOORG_BENCH_WEB_N", "100000"))
    cached, _ = _store(total)
    with tempfile.TemporaryDirectory(prefix="samoorg-web-bench-") as root:
        home = bench_home(Path(root), cached)
        node = NodeProcess(home.path, extra_args=["--api-rate", "1000000"])
        node.start(timeout=600)
        try:
            assert node.api_url is not None
            token = token_file(home).read_text(encoding="ascii").strip()
            client = _Client(node.api_url, token)
            cookie, _ = _login(client)
            pages = _Browser(client, cookie)
            base = _api_p50(client, "/status")
            _api_p50(client, "/trust/list", base)
            for entry in NAV:
                pages.get(entry.path)  # the first answer after start fills the memos
                samples = [pages.get(entry.path) for _ in range(REQUESTS)]
                p50, p95 = _percentiles(samples)
                note = f"p95 {p95:.2f} ms (goal <= 50 ms), {total:,} entries"
                report(f"page {entry.path} p50", p50, "ms", base, note)
            _paints(client, node.api_url, [e.path for e in NAV])
        finally:
            node.stop()
    _graph()


def _api_p50(client: _Client, path: str, base: float | None = None) -> float:
    client.call("GET", path)
    p50, p95 = _percentiles([client.call("GET", path)[0] for _ in range(REQUESTS)])
    report(f"GET /api/v1{path} p50 (beside the pages)", p50, "ms", base, f"p95 {p95:.2f} ms")
    return p50


def _chromium() -> object | None:
    from tests.browser_fixtures import chromium_path, skip_reason

    reason = skip_reason()
    if reason is not None:
        print(f"   browser figures skipped: {reason}")
        return None
    return chromium_path()


def _paints(client: _Client, url: str, paths: list[str]) -> None:
    path = _chromium()
    if path is None:
        return
    from playwright.sync_api import sync_playwright

    from tests.browser_fixtures import LAUNCH_ARGS, VIEWPORT

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(path), args=LAUNCH_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            _, link = _login(client)
            page.goto(link)
            for shown in paths:
                paints = []
                for _ in range(PAINTS):
                    page.goto(url + shown, wait_until="load")
                    paints.append(float(page.evaluate(PAINT_SCRIPT)))
                median = statistics.median(paints)
                report(f"first paint {shown}", median, "ms", note="goal <= 500 ms, headless")
        finally:
            browser.close()


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
            paints = []
            for _ in range(PAINTS):
                start = time.perf_counter()
                page.set_content(html, wait_until="load")
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(0)))")
                paints.append(time.perf_counter() - start)
            took = (built + statistics.median(paints)) * 1000
            report(
                f"graph for {GRAPH_MEMBERS} members, built and painted",
                took,
                "ms",
                note="goal <= 1000 ms",
            )
        finally:
            browser.close()
