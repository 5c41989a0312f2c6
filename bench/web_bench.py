"""Server time of the web organizer's pages, and their first paint in headless Chromium.

Over the generated community (``SAMOORG_BENCH_WEB_N`` entries, default
100,000, the store of bench/api_bench.py), a daemon runs as the community's
first member; a session is opened through ``POST /api/v1/web/login``. A few
records the community lacks are written first through the CLI (ideas,
ratings of a few members, an agreement, a poll, portal listings, a profile
and a petname), so every page has something to show. Then:

* per page, p50 and p95 of :data:`REQUESTS` sequential ``GET`` requests on
  one keep-alive connection (goal p95 <= 50 ms), each beside the p95 of the
  API endpoint that serves the same data, measured in the same run, and the
  constant ``GET /api/v1/openapi.json`` as the baseline of HTTP alone;
* per page, the first contentful paint in headless Chromium (the system
  ``/usr/bin/chromium`` driven by Playwright; goal <= 500 ms), median of
  :data:`PAINTS` loads; skipped with a line when no Chromium is installed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.api_bench import bench_node, percentiles
from bench.baseline import report
from samoorg.node.processes import run_cli

REQUESTS = 100
LISTINGS = 20
"""Portal listings written by :func:`_seed`."""
PAINTS = 3
GOAL_MS = 50.0
PAINT_GOAL_MS = 500.0
CHROMIUM = "/usr/bin/chromium"
FIRST_PAINT = """() => new Promise(resolve => {
  const seen = entries => {
    const fcp = entries.find(e => e.name === "first-contentful-paint");
    if (fcp) { resolve(fcp.startTime); }
  };
  new PerformanceObserver(list => seen(list.getEntries())).observe({type: "paint", buffered: true});
  setTimeout(() => resolve(-1), 5000);
})"""
"""The first contentful paint of the page, in ms from navigation (-1: none within 5 s)."""


class _Web:
    """Requests to one daemon: its API with the token, its pages with the session cookie."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.base = f"http://{parts.hostname}:{parts.port}"
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.token = token
        self.cookie = ""

    def get(self, path: str, *, api: bool = False) -> tuple[float, int, bytes]:
        headers = {"Authorization": f"Bearer {self.token}"} if api else {"Cookie": self.cookie}
        start = time.perf_counter()
        self.connection.request("GET", path, headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        return time.perf_counter() - start, response.status, body

    def login_link(self) -> str:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        self.connection.request("POST", "/api/v1/web/login", body=b"{}", headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 201:
            raise RuntimeError(f"web login: {response.status} {body[:200]!r}")
        url = json.loads(body)["url"]
        assert isinstance(url, str)
        return url

    def login(self) -> None:
        link = urlsplit(self.login_link())
        self.connection.request("GET", f"{link.path}?{link.query}")
        response = self.connection.getresponse()
        response.read()
        cookie = response.getheader("set-cookie") or ""
        if response.status != 303 or not cookie:
            raise RuntimeError(f"web login link: {response.status}")
        self.cookie = cookie.split(";")[0]


def _first_id(html: bytes, prefix: str) -> str:
    found = re.search(rb'href="' + re.escape(prefix.encode()) + rb'([0-9a-f]{64})"', html)
    if found is None:
        raise RuntimeError(f"no link {prefix}ID on the page")
    return found.group(1).decode()


def _seed(home: Path) -> None:
    """Ideas, ratings, an agreement and a poll, written through the daemon (the CLI asks it)."""
    listed = json.loads(run_cli(home, "trust", "list", "--limit", "6", "--json").stdout)["items"]
    for row in listed[1:]:
        run_cli(home, "rate", row["id"], "4")
    for n in range(20):
        run_cli(home, "idea", "post", f"idea {n}", "--body", "x" * 200)
    text = home / "agreement.txt"
    text.write_text("".join(f"Rule {n}: members help each other.\n" for n in range(40)), "utf-8")
    run_cli(home, "agreement", "new", "Community rules", "--file", str(text))
    run_cli(home, "poll", "new", "Spokesperson?", "--option", "Ana", "--option", "Boris")
    for n in range(LISTINGS):
        side, tag = ("offer", "services") if n % 2 else ("request", "transport")
        run_cli(
            home,
            "listing",
            side,
            f"lessons {n}",
            "--tag",
            tag,
            "--price",
            str(10 + n),
            "--currency",
            "EUR",
            "--description",
            "y" * 200,
            "--place",
            "Riga",
        )
    run_cli(home, "profile", "set", "--name", "Ana", "--contact", "email=ana@example.org")
    if len(listed) > 1:
        run_cli(home, "name", "set", listed[1]["id"], "Boris")


def _pages(web: _Web, me: str) -> list[tuple[str, str | None]]:
    """``(page, API endpoint of the same data)`` for every page (``me``: our peer id)."""
    _, _, requests = web.get("/requests")
    _, _, forum = web.get("/forum?sort=recent")
    _, _, agreements = web.get("/agreements")
    _, _, polls = web.get("/polls")
    request_id = _first_id(requests, "/requests/")
    initiative_id = _first_id(requests, "/initiatives/")
    idea_id = _first_id(forum, "/forum/")
    agreement_id = _first_id(agreements, "/agreements/")
    poll_id = _first_id(polls, "/polls/")
    _, _, portal = web.get("/portal")
    listing_id = _first_id(portal, "/portal/")
    return [
        ("/", "/api/v1/inbox"),
        ("/trust", "/api/v1/trust/list"),
        ("/pledges?tab=my_intentions", "/api/v1/pledges?mine=true"),
        ("/pledges?tab=to_me_commitments", "/api/v1/pledges?to_me=true"),
        ("/requests", "/api/v1/requests"),
        (f"/requests/{request_id}", f"/api/v1/requests/{request_id}"),
        (f"/initiatives/{initiative_id}", f"/api/v1/initiatives/{initiative_id}"),
        ("/ledger", "/api/v1/ledger"),
        ("/ledger?mine=1", "/api/v1/ledger?mine=true"),
        ("/forum", "/api/v1/ideas"),
        (f"/forum/{idea_id}", f"/api/v1/ideas/{idea_id}"),
        ("/utility", "/api/v1/utility"),
        ("/utility?amount=1000&currency=EUR", "/api/v1/utility"),
        ("/agreements", "/api/v1/agreements"),
        (f"/agreements/{agreement_id}", f"/api/v1/agreements/{agreement_id}"),
        ("/polls", "/api/v1/polls"),
        (f"/polls/{poll_id}", f"/api/v1/polls/{poll_id}"),
        ("/portal", "/api/v1/listings?status=active&limit=25"),
        ("/portal?q=lessons&side=offer", "/api/v1/listings?q=lessons&side=offer&status=active"),
        (f"/portal/{listing_id}", f"/api/v1/listings/{listing_id}"),
        ("/names", "/api/v1/names"),
        (f"/profiles/{me}", f"/api/v1/profiles/{me}"),
    ]


def _timed(web: _Web, path: str, *, api: bool = False) -> tuple[float, float, float]:
    """First, p50 and p95 (ms) of :data:`REQUESTS` requests after a first one."""
    first, status, body = web.get(path, api=api)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
    samples = [web.get(path, api=api)[0] for _ in range(REQUESTS)]
    p50, p95 = percentiles(samples)
    return first * 1000, p50, p95


def run() -> None:
    """Print each page's server time beside its API endpoint's, then first paints."""
    total = int(
        os.environ.get("SAMOORG_BENCH_WEB_N", os.environ.get("SAMOORG_BENCH_API_N", "100000"))
    )
    with bench_node(total) as (home, node, token):
        assert node.api_url is not None
        _seed(home)
        web = _Web(node.api_url, token)
        web.login()
        _, base_p50, base_p95 = _timed(web, "/api/v1/openapi.json", api=True)
        report(
            "GET /api/v1/openapi.json p50 (baseline)", base_p50, "ms", note=f"p95 {base_p95:.2f} ms"
        )
        me = json.loads(run_cli(home, "whoami", "--json").stdout)["id"]
        pages = _pages(web, me)
        worst = 0.0
        for path, api_path in pages:
            first, p50, p95 = _timed(web, path)
            api_note = ""
            if api_path is not None:
                _, _, api_p95 = _timed(web, api_path, api=True)
                api_note = f", API {api_path.removeprefix('/api/v1')[:28]} p95 {api_p95:.2f} ms"
            worst = max(worst, p95)
            report(
                f"page {path[:40]} p95",
                p95,
                "ms",
                base_p95,
                f"p50 {p50:.2f}, first {first:.1f} ms{api_note}; goal <= {GOAL_MS:.0f}",
            )
        report("worst page p95", worst, "ms", base_p95, f"goal <= {GOAL_MS:.0f} ms")
        _paints(web, [p for p, _ in pages])


def _paints(web: _Web, paths: list[str]) -> None:
    """First contentful paint of each page in headless Chromium (median of PAINTS loads)."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        print(f"first paint: skipped, no Chromium at {CHROMIUM}")
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("first paint: skipped, Playwright is not installed (pip install -e '.[dev]')")
        return
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.new_page().goto(web.login_link())  # the session cookie, for every page
            worst = 0.0
            for path in paths:
                paints = []
                for _ in range(PAINTS):
                    page = context.new_page()  # a fresh page: no back-forward cache
                    page.goto(web.base + path, wait_until="load")
                    paints.append(page.evaluate(FIRST_PAINT))
                    page.close()
                took = statistics.median(paints)
                worst = max(worst, took)
                report(f"first paint {path[:40]}", took, "ms", note=f"goal <= {PAINT_GOAL_MS:.0f}")
            report("worst first paint", worst, "ms", note=f"goal <= {PAINT_GOAL_MS:.0f} ms")
        finally:
            browser.close()
