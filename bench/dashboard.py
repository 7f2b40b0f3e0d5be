"""Dashboard benchmark (issue 21): the time from navigation to the chart drawn, in headless
Chromium, for the overview, a breakdown and a 3-step funnel over 1M events on PostgreSQL; p50 of
`--loads` page loads each, beside the raw baseline measured in the same run: the same GraphQL
requests the page sends, posted straight to the same server (no browser). The overview is also
loaded from a second server whose engine reads `rm_events` alone (no hourly rollups), and each of
its GraphQL requests is timed on its own (the chart's, the cards').

    .venv/bin/python bench/dashboard.py [--events 1000000] [--loads 10] [--database-url URL]

It loads the analytics benchmark's data set (bench/analytics_data.py) through the application
layer into a project owned by a user, builds the read models, times filling the hourly rollups from
`rm_events` as an upgrade does, starts `beacon serve --no-projections --no-worker` (the production
API shape) on that schema, and beside it the same app with the engine that reads `rm_events` only
(`--serve-raw`, this file), signs in once and opens each view `--loads` times. "Drawn" is the
moment the chart element is marked drawn by the page (`data-drawn`), measured from the
navigation's start (performance.timeOrigin).

Not a test: run it on demand and record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import database_url_option, drop_schema, new_schema

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analytics_data import DAYS, START, batches  # noqa: E402
from infrastructure.analytics_queries import SqlAnalyticsQueries  # noqa: E402
from infrastructure.rollup_upgrade import UPGRADES, fill_hourly_rollups  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.bootstrap import bootstrap  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password 0123456789"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIRST, LAST = START.date().isoformat(), (START.date().toordinal() + DAYS - 1)


def views(slug: str) -> dict[str, str]:
    """The three views, over the data set's 30 days (the URL holds the question)."""
    from datetime import date
    span = f"from={FIRST}&to={date.fromordinal(LAST).isoformat()}"
    return {
        "overview": f"/app/{slug}/overview?{span}",
        "breakdown": f"/app/{slug}/insights?kind=breakdown&event=page_viewed&property=country&{span}",
        "funnel": (f"/app/{slug}/insights?kind=funnel&steps=signup_started,signup_completed,"
                   f"project_created&{span}"),
    }


def load(url: str, schema: str, events: int) -> str:
    """A user's project holding `events` events, its read models built; answers its slug."""
    settings = Settings(env="test", database_url=url, db_schema=schema,
                        data_dir=Path(tempfile.mkdtemp()), admin_token=ADMIN_TOKEN)
    beacon = bootstrap(settings)
    try:
        user = beacon.workspaces.create_user(email="bench@example.com", password=PASSWORD)
        workspace, _ = beacon.workspaces.create_project(name="Bench", slug="bench", owner=user,
                                                        plan="enterprise")
        started = time.perf_counter()
        for batch in batches(events):
            beacon.telemetry.ingest(workspace.id, batch, limit=10**12)  # type: ignore[arg-type]
        print(f"loaded {events:,} events in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        for runner in beacon.runners:
            runner.catch_up()
        print(f"read models built in {time.perf_counter() - started:.1f} s", flush=True)
        db = beacon.databases["Telemetry"]
        with db.transaction() as cur:  # as an installation older than the rollups has it
            cur.execute(f"DELETE FROM {UPGRADES}")
        started = time.perf_counter()
        assert fill_hourly_rollups(db)
        print(f"hourly rollups filled from rm_events (the one-time upgrade) in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        return str(workspace.id)
    finally:
        beacon.close()


def serve_raw(port: int) -> None:
    """`--serve-raw`: the API as `beacon serve --no-projections --no-worker` serves it, except
    that its analytics engine reads `rm_events` alone (the baseline without the rollups)."""
    import uvicorn

    from interfaces.rest.app import create_app, tune_garbage_collection

    beacon = bootstrap(Settings())
    beacon.analytics = SqlAnalyticsQueries(beacon.databases["Telemetry"])
    app = create_app(beacon)
    tune_garbage_collection()
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def serve(url: str, schema: str, port: int, *, raw: bool = False) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BEACON_DATABASE_URL": url, "BEACON_DB_SCHEMA": schema,
           "BEACON_ADMIN_TOKEN": ADMIN_TOKEN, "BEACON_ENV": "test",
           "BEACON_DATA_DIR": tempfile.mkdtemp()}
    command = [sys.executable, __file__, "--serve-raw", str(port)] if raw else \
        [str(ROOT / ".venv/bin/beacon"), "serve", "--port", str(port), "--no-projections",
         "--no-worker"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("beacon serve did not start")


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


Result = tuple[float, float, float, dict[str, float]]


def measure(pages: dict[str, tuple[str, str]], loads: int) -> dict[str, Result]:
    """Per view (name → base URL, path): p50 ms to drawn in the browser, p50 ms of its GraphQL
    requests posted directly one after the other, how many GraphQL requests the page sent, and
    each request's own p50 ms by operation name."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        signed_in: dict[str, Any] = {}  # base URL → (page, cookies)
        sent: list[dict[str, Any]] = []  # the GraphQL requests of the latest load
        for name, (base, path) in pages.items():
            if base not in signed_in:
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.goto(base + "/app")
                page.get_by_label("Email").fill("bench@example.com")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_selector("nav#nav")
                page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}"))
                        if r.url.endswith("/graphql") else None)
                signed_in[base] = (page, {c["name"]: c["value"] for c in page.context.cookies()})
            page, cookies = signed_in[base]
            drawn = []
            for _ in range(loads + 1):  # the first load warms the server's caches; not counted
                sent.clear()
                page.goto(base + path)
                try:
                    page.wait_for_selector("[data-drawn]", timeout=60_000)
                except Exception:
                    print(f"{name}: no chart drawn; the page shows:\n{page.inner_text('body')}")
                    raise
                drawn.append(page.evaluate(
                    "Number(document.querySelector('[data-drawn]').dataset.drawn)"
                    " - performance.timeOrigin"))
            page.wait_for_load_state("networkidle")  # every request of the last load was sent
            direct, each = [], {}
            headers = {"X-CSRF-Token": cookies["beacon_csrf"], "X-Beacon-Project": "bench"}
            with httpx.Client(base_url=base, cookies=cookies, timeout=60) as api:
                for _ in range(loads):
                    started = time.perf_counter()
                    for body in sent:
                        answer = api.post("/graphql", json=body, headers=headers)
                        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
                    direct.append((time.perf_counter() - started) * 1000)
                for body in sent:
                    operation = operation_name(body)
                    alone = []
                    for _ in range(loads):
                        started = time.perf_counter()
                        api.post("/graphql", json=body, headers=headers)
                        alone.append((time.perf_counter() - started) * 1000)
                    each[operation] = p50(alone)
            results[name] = (p50(drawn[1:]), p50(direct), float(len(sent)), each)
            print(f"{name}: drawn in {results[name][0]:.0f} ms (p50)", flush=True)
        browser.close()
    return results


def operation_name(body: dict[str, Any]) -> str:
    """`OverviewChart` of `query OverviewChart(…) {…}`, or the query's first field."""
    text = " ".join(str(body.get("query", "")).split())
    words = text.replace("(", " ").replace("{", " ").split()
    return words[1] if words[:1] == ["query"] and len(words) > 1 else words[0] if words else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--port", type=int, default=8765)
    database_url_option(parser)
    parser.add_argument("--serve-raw", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_raw:
        serve_raw(args.serve_raw)
        return
    schema = new_schema("bench_dash")
    servers = []
    try:
        workspace_id = load(args.database_url, schema, args.events)
        rollup, raw = (f"http://127.0.0.1:{port}" for port in (args.port, args.port + 1))
        servers = [serve(args.database_url, schema, args.port),
                   serve(args.database_url, schema, args.port + 1, raw=True)]
        # A rate limit no page load reaches: the bench measures time, not the plan's limit.
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert httpx.patch(f"{rollup}/admin/v1/workspaces/{workspace_id}",
                           json={"rate_limit_per_minute": 1_000_000}, headers=admin).status_code == 200
        paths = views("bench")
        results = measure({"overview": (rollup, paths["overview"]),
                           "overview (rm_events only)": (raw, paths["overview"]),
                           "breakdown": (rollup, paths["breakdown"]),
                           "funnel": (rollup, paths["funnel"])}, args.loads)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        drop_schema(args.database_url, schema)
    print(f"\n{args.events:,} events, p50 of {args.loads} loads each (target: <= 1000 ms to drawn)")
    print(f"{'view':<26} {'to drawn (ms)':>14} {'GraphQL direct (ms)':>20} {'requests':>9}  "
          "each request alone (ms)")
    for name, (drawn, direct, requests, each) in results.items():
        alone = ", ".join(f"{operation} {ms:.0f}" for operation, ms in each.items())
        print(f"{name:<26} {drawn:>14.0f} {direct:>20.0f} {requests:>9.0f}  {alone}")


if __name__ == "__main__":
    main()
