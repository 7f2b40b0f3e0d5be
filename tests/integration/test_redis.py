"""Rate limits and the dramatiq broker on a real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from domain.actor import ADMIN
from infrastructure import rate_limits
from infrastructure.rate_limits import RateLimiter
from infrastructure.settings import Settings
from infrastructure.stream_wakes import RedisDoorbell, written_channel
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.rest.app import create_app
from tests.conftest import make_tenant
from tests.polling import eventually
from tests.services import require_redis


@pytest.fixture
def redis_url() -> str:
    return require_redis()


def test_two_processes_share_one_sliding_window(redis_url: str) -> None:
    key = f"key:{uuid.uuid4()}"
    api_1, api_2 = RateLimiter(redis_url), RateLimiter(redis_url)
    allowed = [limiter.hit(key, 4).allowed for limiter in (api_1, api_2, api_1, api_2, api_1)]
    assert allowed == [True, True, True, True, False]
    assert not api_1.degraded


def test_two_deployments_on_one_redis_keep_separate_windows(redis_url: str) -> None:
    key = f"login:{uuid.uuid4()}"
    first, second = RateLimiter(redis_url, "schema_a"), RateLimiter(redis_url, "schema_b")
    assert [first.hit(key, 2).allowed for _ in range(3)] == [True, True, False]
    assert second.hit(key, 2).allowed
    assert not first.degraded and not second.degraded


def test_an_unreachable_redis_falls_back_to_local_limits() -> None:
    limiter = RateLimiter("redis://127.0.0.1:1/0")
    decisions = [limiter.hit("key:x", 2) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert limiter.degraded


def test_a_limiter_that_fell_back_to_memory_goes_back_to_redis_by_itself(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only when someone asks /healthz: a process nobody probes shares limits again too."""
    monkeypatch.setattr(rate_limits, "RECHECK_SECONDS", 0.3)
    key, limiter, other = f"key:{uuid.uuid4()}", RateLimiter(redis_url), RateLimiter(redis_url)
    pause = redis.Redis.from_url(redis_url)
    pause.execute_command("CLIENT", "PAUSE", 1500, "WRITE")  # Redis stops answering writes
    try:
        assert limiter.hit(key, 3).allowed and limiter.degraded  # counted in memory meanwhile
    finally:
        pause.execute_command("CLIENT", "UNPAUSE")
        pause.close()
    time.sleep(0.4)
    assert limiter.hit(key, 3).allowed and not limiter.degraded  # back on Redis: counted there
    # The window is shared again: the hit above and two of the other process's fill it.
    assert [other.hit(key, 3).allowed for _ in range(3)] == [True, True, False]


def test_a_hanging_redis_is_left_be_after_one_stream_wake_up_times_out(redis_url: str) -> None:
    """The doorbell rings on the event loop after each ingest response: while Redis hangs (a
    partition, a stopped server) each ring held the loop for its timeout. After one times out,
    rings leave Redis be for a while (the streams' re-check reads the log): of 21 rings while
    Redis stood still, at most the first reaches it once it answers again."""
    schema = f"t_{uuid.uuid4().hex[:8]}"
    bell = RedisDoorbell(redis_url, schema)
    listener = redis.Redis.from_url(redis_url).pubsub()
    listener.subscribe(written_channel(schema))
    assert listener.get_message(timeout=1)["type"] == "subscribe"
    pause = redis.Redis.from_url(redis_url)
    pause.execute_command("CLIENT", "PAUSE", 3000, "WRITE")  # PUBLISH waits, unanswered
    try:
        for _ in range(21):
            bell.ring()
    finally:
        pause.execute_command("CLIENT", "UNPAUSE")
        pause.close()
        bell.close()
    heard = 0
    while listener.get_message(timeout=1) is not None:
        heard += 1
    listener.close()
    assert heard <= 1


@pytest.fixture
def redis_beacon(redis_url: str, tmp_path: Any) -> Iterator[Beacon]:
    settings = Settings(env="test", data_dir=tmp_path, redis_url=redis_url,
                        admin_token="test-admin-token-0123456789abcdef")
    beacon = bootstrap(settings)
    try:
        yield beacon
    finally:
        beacon.close()


def test_the_api_reports_redis_backed_limits_and_readiness(redis_beacon: Beacon) -> None:
    with TestClient(create_app(redis_beacon)) as client:
        assert client.get("/healthz").json()["rate_limits"] == "redis"
        ready = client.get("/readyz").json()
        assert ready["checks"]["redis"] == "ok"
        tenant = make_tenant(client)
        response = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                              headers=tenant.headers("read"))
        assert response.headers["X-RateLimit-Limit"] == "1000"


def test_a_worker_runs_jobs_from_the_redis_broker(redis_beacon: Beacon) -> None:
    workspace = redis_beacon.workspaces.create_workspace(name="Acme", plan="pro", actor=ADMIN)
    redis_beacon.statuspages.create_page(workspace.id, slug="acme", name="Acme", actor=ADMIN)
    redis_beacon.statuspages.open_incident(workspace.id, "acme", title="queued", impact="none",
                                           state="investigating", message=None, actor=ADMIN)
    redis_beacon.broker.flush_all()
    redis_beacon.actors.catch_up_projections.send()
    redis_beacon.start_worker()
    assert eventually(lambda: redis_beacon.incidents.list_incidents(workspace.id, "acme").total
                      == 1), "the worker did not run the job from Redis"


def test_ingestion_keeps_working_when_redis_is_down_and_says_so(tmp_path: Any) -> None:
    settings = Settings(env="test", data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0",
                        admin_token="test-admin-token-0123456789abcdef")
    beacon = bootstrap(settings)
    try:
        with TestClient(create_app(beacon)) as client:
            tenant = make_tenant(client)
            response = client.post("/v1/events", headers=tenant.headers("ingest"), json=[{
                "event_id": str(uuid.uuid4()), "category": "c", "name": "n", "actor_id": "a",
                "timestamp": "2026-03-20T14:30:00Z"}])
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Limit"] == "1000"
            assert client.get("/healthz").json()["rate_limits"] == "degraded"
            ready = client.get("/readyz")  # degraded, still ready: it serves without Redis
            assert ready.status_code == 200 and ready.json()["degraded"] == ["redis"]
            assert ready.json()["checks"]["redis"].startswith("unreachable")
    finally:
        beacon.close()


def test_two_beacons_sharing_one_redis_run_only_their_own_jobs(redis_url: str,
                                                               tmp_path: Any) -> None:
    beacons = [bootstrap(Settings(env="test", data_dir=tmp_path / name, redis_url=redis_url,
                                  admin_token="test-admin-token-0123456789abcdef"))
               for name in ("a", "b")]
    try:
        workspaces = []
        for beacon in beacons:
            beacon.broker.flush_all()
            workspace = beacon.workspaces.create_workspace(name="Acme", plan="pro", actor=ADMIN)
            beacon.statuspages.create_page(workspace.id, slug="acme", name="Acme", actor=ADMIN)
            beacon.statuspages.open_incident(workspace.id, "acme", title="queued", impact="none",
                                             state="investigating", message=None, actor=ADMIN)
            beacon.actors.catch_up_projections.send()  # a's job is queued first
            workspaces.append(workspace)
        first, second = beacons
        second.start_worker()
        assert eventually(lambda: second.incidents.list_incidents(workspaces[1].id, "acme").total)
        first.start_worker()  # had b's worker taken a's job, a would never catch up
        assert eventually(lambda: first.incidents.list_incidents(workspaces[0].id, "acme").total)
    finally:
        for beacon in beacons:
            beacon.close()
