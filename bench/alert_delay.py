"""Alert delay (issue 19): from the request whose event crosses a threshold being accepted to the
signed webhook arriving at a receiver on this machine.

Used by bench/stream.py (`--alert-rules N`) beside its steady ingestion, so one run gives stream
latency and alert delay on the same load; bench/pipeline_cost.py creates the same kind of rules.
Rule i counts `alert_probe_i` over a minute and fires at `>= CROSSING` events. While the steady
phase runs, a probe thread of its own crosses one rule after another, spread over the phase:
`CROSSING - 1` events of the rule's name in one request, then the crossing event alone. Since one
thread sends both, in order, the crossing is known without reading anything back: it happened
when the second request was answered (accepted), and the delay is the webhook's arrival minus
that moment, both on this process's clock. Every webhook's signature is checked with the secret
the rule was given. The probe events carry the moment they are sent as their `timestamp`, as an
SDK sending "now" does (thresholds count events by their time).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
from common import percentile

CROSSING = 5  # events of a rule's name in its window that make it fire
SECRET = "bench-alert-secret-0123456789"


def allow_local_receiver() -> None:
    """Beacon refuses webhooks to private addresses unless told otherwise: the processes this
    bench starts afterwards inherit the permission (the receiver listens on 127.0.0.1)."""
    os.environ["BEACON_ALLOW_PRIVATE_WEBHOOKS"] = "true"


def rule_condition(event: str, op: str = ">=", value: float = CROSSING) -> dict[str, Any]:
    return {"type": "threshold", "event": event, "metric": "count", "window_seconds": 60,
            "op": op, "value": value}


class WebhookReceiver:
    """A local HTTP server noting when each webhook arrived, and whether its signature holds."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any], bool]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrived = time.time()
                expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected, self.headers.get("X-Beacon-Signature", ""))
                with receiver.lock:
                    receiver.arrivals.append((arrived, orjson.loads(body), signed))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"

    def fired(self) -> dict[str, tuple[float, bool]]:
        """The first `alert.fired` webhook of each rule: when it arrived, and if it was signed."""
        with self.lock:
            arrivals = list(self.arrivals)
        first: dict[str, tuple[float, bool]] = {}
        for arrived, body, signed in arrivals:
            if body.get("type") == "alert.fired":
                first.setdefault(body["alert"]["id"], (arrived, signed))
        return first

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def workspace_key(base: str, admin_token: str, workspace: str) -> str:
    """A key of the bench's workspace (by its slug) that may ingest, write rules and read."""
    response = httpx.post(f"{base}/admin/v1/workspaces/{workspace}/keys",
                          json={"name": "alert bench", "scopes": ["ingest", "write", "read"]},
                          headers={"Authorization": f"Bearer {admin_token}"})
    response.raise_for_status()
    return str(response.json()["data"]["key"])


def create_rules(base: str, key: str, conditions: list[dict[str, Any]], url: str) -> list[str]:
    """The rules, each with one signed webhook channel; returns once evaluation can see them
    (the rules' read model has reached the last one: read-your-writes)."""
    headers = {"Authorization": f"Bearer {key}"}
    ids, position = [], "0"
    for n, condition in enumerate(conditions):
        response = httpx.post(f"{base}/api/v1/alerts", headers=headers, json={
            "name": f"bench rule {n}", "condition": condition, "cooldown_seconds": 0,
            "channels": [{"type": "webhook", "url": url, "secret": SECRET}]})
        response.raise_for_status()
        ids.append(response.json()["data"]["id"])
        position = response.headers.get("X-Beacon-Position", position)
    httpx.get(f"{base}/api/v1/alerts", headers={**headers, "X-Beacon-Min-Position": position},
              timeout=60).raise_for_status()
    return ids


def probe_events(name: str, count: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    return orjson.dumps([{
        "event_id": str(uuid.uuid4()), "category": "bench", "name": name, "timestamp": now,
        "actor_id": f"prober-{n}", "source_app": "BenchApp", "source_version": "1.0.0",
        "properties": {"probe": "yes"}} for n in range(count)])


class AlertProbe:
    """N threshold rules in the bench's workspace, crossed one by one while a phase runs."""

    def __init__(self, base: str, rules: int, admin_token: str, workspace: str = "bench"):
        self.base, self.count = base, rules
        self.receiver = WebhookReceiver()
        self.key = workspace_key(base, admin_token, workspace)
        self.ids = create_rules(base, self.key, [rule_condition(f"alert_probe_{n}")
                                                 for n in range(rules)], self.receiver.url)
        self.crossed: dict[str, float] = {}  # rule id -> when its crossing event was accepted
        self.diagnosis = ""

    def cross(self, http: HTTPConnection, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        for count in (CROSSING - 1, 1):
            http.request("POST", "/v1/events", body=probe_events(f"alert_probe_{n}", count),
                         headers=headers)
            response = http.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"a probe batch was refused: {response.status}")
        self.crossed[self.ids[n]] = time.time()

    @contextmanager
    def crossings(self, seconds: float, patience: float = 60.0) -> Iterator[None]:
        """Cross rule i at (i + 0.5) / N of `seconds` into the block; after it, wait up to
        `patience` seconds for every rule's webhook."""
        address = httpx.URL(self.base)
        started = time.monotonic()

        def run() -> None:
            http = HTTPConnection(address.host, address.port, timeout=60)
            for n in range(self.count):
                delay = started + (n + 0.5) * seconds / self.count - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.cross(http, n)
            http.close()

        prober = threading.Thread(target=run, daemon=True, name="alert-probe")
        prober.start()
        yield
        prober.join()
        deadline = time.monotonic() + patience
        while len(self.receiver.fired()) < self.count and time.monotonic() < deadline:
            time.sleep(0.2)
        if len(self.delays()) < self.count:
            self.diagnosis = self.missing()

    def delays(self) -> list[float]:
        """Seconds from each crossing's acceptance to its signed webhook, sorted."""
        fired = self.receiver.fired()
        return sorted(fired[i][0] - at for i, at in self.crossed.items()
                      if i in fired and fired[i][1])

    def missing(self) -> str:
        """Where the rules without a webhook are: still ok (not evaluated yet: how far behind
        are the read models), or firing (not delivered yet)."""
        headers = {"Authorization": f"Bearer {self.key}"}
        alerts = httpx.get(f"{self.base}/api/v1/alerts?limit=100", headers=headers).json()["data"]
        firing = sum(1 for a in alerts if a["id"] in self.ids and a["state"] == "firing")
        lags = httpx.get(f"{self.base}/api/v1/projections", headers=headers).json()["data"]
        return (f"; of the {self.count - len(self.delays())} without, {firing} firing (their "
                f"rules' read model says); lag now: "
                + ", ".join(f"{s['name']} {s['lag']}" for s in lags if s["lag"]))

    def summary(self) -> str:
        delays, fired = self.delays(), self.receiver.fired()
        unsigned = sum(1 for _, signed in fired.values() if not signed)
        if not delays:
            return f"alert delay: no signed webhook arrived for {self.count} crossings" + self.diagnosis
        p99 = percentile(delays, 0.99)
        return (f"alert delay (crossing event accepted -> signed webhook received) over "
                f"{len(delays)} of {self.count} rules: p50 {statistics.median(delays):.2f} s   "
                f"p99 {p99:.2f} s   max {delays[-1]:.2f} s (target p99 <= 10 s)"
                + (f"; {unsigned} webhook(s) with a bad signature" if unsigned else "")
                + self.diagnosis)

    def close(self) -> None:
        self.receiver.close()
