"""The production shape for real: two `beacon serve --no-projections --no-worker` processes, a
`beacon projector` and a `beacon worker`, each a process of its own, sharing PostgreSQL and Redis.

A live stream open on one API receives, enriched, what the other accepted (only Redis can carry it
there), and an alert rule written through one API fires, through the worker, as a signed webhook."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, Tenant, make_tenant
from tests.e2e.conftest import free_port
from tests.e2e.sse import open_stream
from tests.integration.test_connections import BEACON, answering
from tests.receiver import Receiver
from tests.services import fresh_schema, require_postgres, require_redis

SECRET = "alert-secret-0123456789"
LONDON = "81.2.69.160"  # GB in the country data Beacon ships


def process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BEACON), *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=log.open("wb"))


@pytest.fixture
def shape(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The two APIs' URLs, once both answer; the projector and the worker beside them."""
    url, redis_url = require_postgres(), require_redis()
    with fresh_schema() as schema, ExitStack() as stack:
        env = {**os.environ, "BEACON_DATABASE_URL": url, "BEACON_DB_SCHEMA": schema,
               "BEACON_REDIS_URL": redis_url, "BEACON_ADMIN_TOKEN": ADMIN_TOKEN,
               "BEACON_ALLOW_PRIVATE_WEBHOOKS": "1", "BEACON_LOG_LEVEL": "WARNING",
               "BEACON_DATA_DIR": str(tmp_path),
               # The APIs never re-read the log on their own within the test: only what the
               # projector publishes through Redis can bring a stream its messages.
               "BEACON_STREAM_RECHECK_SECONDS": "3600"}
        processes: list[subprocess.Popen[bytes]] = []

        def stop() -> None:
            for running in processes:
                running.terminate()
            for running in processes:
                try:
                    running.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    running.kill()
                    running.wait()

        stack.callback(stop)
        processes += [process(["projector"], env, tmp_path / "projector.log"),
                      process(["worker"], env, tmp_path / "worker.log")]
        bases = []
        for name in ("first", "second"):
            port = free_port()
            api = process(["serve", "--port", str(port), "--no-projections", "--no-worker"], env,
                          tmp_path / f"{name}.log")
            processes.append(api)
            if not answering(api, port):
                pytest.fail(f"{name} API did not start: "
                            f"{(tmp_path / f'{name}.log').read_text()[-2000:]}")
            bases.append(f"http://127.0.0.1:{port}")
        yield bases[0], bases[1]


def checkout_failures(count: int) -> list[dict[str, object]]:
    now = datetime.now(UTC).isoformat()
    return [{"event_id": str(uuid.uuid4()), "category": "shop", "name": "checkout_failed",
             "timestamp": now, "actor_id": f"user-{n}", "context": {"ip": LONDON}}
            for n in range(count)]


@pytest.mark.redis
def test_streams_and_alerts_work_across_separate_processes(shape: tuple[str, str]) -> None:
    first, second = shape
    with httpx.Client(base_url=first, timeout=10) as api, Receiver() as receiver:
        tenant: Tenant = make_tenant(api)  # an httpx client makes the same calls as a TestClient
        created = api.post("/api/v1/alerts", headers=tenant.headers("write"), json={
            "name": "Checkouts failing", "cooldown_seconds": 0,
            "condition": {"type": "threshold", "event": "checkout_failed", "metric": "count",
                          "window_seconds": 60, "op": ">", "value": 2},
            "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]})
        assert created.status_code == 201, created.text
        sent = checkout_failures(3)
        with open_stream(second, tenant.keys["read"]) as stream:
            accepted = api.post("/v1/events", headers=tenant.headers("ingest"), json=sent)
            assert accepted.status_code == 200 and accepted.json()["accepted"] == 3, accepted.text
            received = stream.messages(3)
        assert [m.json["event_id"] for m in received] == [e["event_id"] for e in sent]
        assert all(m.json["$country"] == "GB" and len(m.json["content_hash"]) == 64
                   for m in received)
        assert receiver.wait_for_requests(1), "the worker told no one"
        (fired,) = receiver.received
        assert fired.json["type"] == "alert.fired" and fired.json["value"] == 3.0
        assert fired.json["alert"]["id"] == created.json()["data"]["id"]
        assert fired.signed_with(SECRET)
        # A test asked of the other API is sent by the worker, and both show it.
        alert_id = created.json()["data"]["id"]
        tested = httpx.post(f"{second}/api/v1/alerts/{alert_id}/test",
                            headers=tenant.headers("write"))
        assert tested.status_code == 202, tested.text
        assert receiver.wait_for_requests(2), "the worker sent no test"
        assert receiver.received[1].json["type"] == "alert.test"
        assert receiver.received[1].signed_with(SECRET)
