"""The public status page in a real headless Chromium, served by the real app over real HTTP."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from interfaces.bootstrap import Beacon
from tests.conftest import make_tenant

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(f"CI requires {reason}", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


def visit(chromium: Path, profile: Path, *args: str) -> str:
    """Run Chromium once with a fresh profile; returns what it printed (the DOM, for --dump-dom)."""
    profile.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([str(chromium), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def written(beacon: Beacon, response: httpx.Response) -> Any:
    """Wait until the read models include this write (the page a visitor opens next shows it)."""
    assert response.status_code in (200, 201), response.text
    source, _, position = response.headers["X-Beacon-Position"].rpartition(":")
    assert beacon.wait_for(source, int(position), timeout=10)
    return response.json()["data"]


def section(dom: str, start: str, end: str | None = None) -> str:
    part = dom[dom.index(start):]
    return part[:part.index(end)] if end else part


def test_a_visitor_sees_an_incident_open_change_and_move_to_history(
        beacon: Beacon, server: str, chromium: Path, tmp_path: Path) -> None:
    with httpx.Client(base_url=server, timeout=10) as api:
        tenant = make_tenant(api)  # type: ignore[arg-type]
        page = f"{server}/status/{tenant.page_slug}"
        write = tenant.headers("write")

        dom = visit(chromium, tmp_path / "p1", "--dump-dom", page)
        assert "All systems operational" in dom and "No active incidents." in dom

        incident = written(beacon, api.post(
            f"/api/v1/pages/{tenant.page_slug}/incidents", headers=write, json={
                "title": "Elevated API latency in US-East", "impact": "minor",
                "message": "We are observing p99 latency above 2s."}))
        dom = visit(chromium, tmp_path / "p2", "--dump-dom", page)
        active = section(dom, 'id="active-incidents"', 'id="history"')
        assert "Degraded performance" in dom
        assert "Elevated API latency in US-East" in active
        assert "We are observing p99 latency above 2s." in active

        written(beacon, api.patch(f"/api/v1/incidents/{incident['id']}", headers=write,
                                  json={"impact": "major", "state": "identified"}))
        written(beacon, api.post(f"/api/v1/incidents/{incident['id']}/updates", headers=write,
                                 json={"message": "A corrected configuration is deploying."}))
        dom = visit(chromium, tmp_path / "p3", "--dump-dom", page)
        active = section(dom, 'id="active-incidents"', 'id="history"')
        assert "Major outage" in dom and "identified" in active
        assert active.index("A corrected configuration is deploying.") < \
            active.index("We are observing p99 latency above 2s.")

        written(beacon, api.patch(f"/api/v1/incidents/{incident['id']}", headers=write,
                                  json={"state": "resolved", "resolved": True}))
        dom = visit(chromium, tmp_path / "p4", "--dump-dom", page)
        assert "All systems operational" in dom and "No active incidents." in dom
        assert "Elevated API latency in US-East" in section(dom, 'id="history"')

        screenshot = tmp_path / "status.png"
        visit(chromium, tmp_path / "p5", f"--screenshot={screenshot}", "--window-size=1200,900",
              page)
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert screenshot.stat().st_size > 5_000
