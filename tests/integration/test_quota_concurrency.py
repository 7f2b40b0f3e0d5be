"""The quota is exact under concurrent writers on PostgreSQL: never one event over."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.tracked_event import check_event
from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant

WRITERS, BATCHES, BATCH_SIZE, LIMIT = 8, 6, 10, 137


def fresh_batch() -> list[Any]:
    """BATCH_SIZE new, valid events, checked as the API checks them."""
    return [check_event({"event_id": str(uuid.uuid4()), "category": "c", "name": "n", "actor_id": "a",
                         "timestamp": "2026-03-20T14:30:00Z"}, datetime.now(UTC))
            for _ in range(BATCH_SIZE)]


def run_writers(writer: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("backend", ["postgres"])
def test_eight_writers_never_exceed_the_limit(client: TestClient, beacon: Beacon, tenant: Tenant) -> None:
    client.patch(f"/admin/v1/workspaces/{tenant.id}",
                 json={"monthly_event_limit": LIMIT, "rate_limit_per_minute": 10_000}, headers=ADMIN)
    barrier = threading.Barrier(WRITERS)
    accepted: list[int] = []
    errors: list[str] = []

    def writer() -> None:
        barrier.wait()
        for _ in range(BATCHES):
            batch = [{"event_id": str(uuid.uuid4()), "category": "c", "name": "n", "actor_id": "a",
                      "timestamp": "2026-03-20T14:30:00Z"} for _ in range(BATCH_SIZE)]
            response = client.post("/v1/events", json=batch, headers=tenant.headers("ingest"))
            if response.status_code == 200:
                accepted.append(response.json()["accepted"])
            elif response.status_code == 207:
                accepted.append(sum(r["status"] == "accepted" for r in response.json()["results"]))
            elif response.status_code != 402:
                errors.append(response.text)
            # a retry of the same batch must never count again
            client.post("/v1/events", json=batch, headers=tenant.headers("ingest"))

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(accepted) == LIMIT
    usage = client.get("/api/v1/usage", headers=tenant.headers("read")).json()["data"]
    assert (usage["used"], usage["remaining"]) == (LIMIT, 0)
    # every refused event was refused twice (its batch was retried); accepted ones came back duplicates
    assert usage["refused"] == 2 * (WRITERS * BATCHES * BATCH_SIZE - LIMIT)
    head = beacon.telemetry.recorder.max_notification_id()
    assert beacon.wait_for("Telemetry", head, timeout=20)
    assert beacon.telemetry_queries.count_events(tenant.id) == LIMIT


@pytest.mark.parametrize("backend", ["postgres"])
def test_writers_in_two_processes_stay_exact(beacon: Beacon) -> None:
    from interfaces.bootstrap import bootstrap

    other_process = bootstrap(beacon.settings)  # its own pools, caches and locks
    workspace_id = uuid.uuid4()
    barrier = threading.Barrier(WRITERS)
    accepted: list[int] = []

    def writer(n: int) -> None:
        app = (beacon if n % 2 else other_process).telemetry
        barrier.wait()
        for _ in range(BATCHES):
            batch = fresh_batch()
            outcome = app.ingest(workspace_id, batch, limit=LIMIT)
            accepted.append(outcome.count("accepted"))

    try:
        run_writers(writer)
        assert sum(accepted) == LIMIT
        assert other_process.telemetry.usage(workspace_id, LIMIT)["used"] == LIMIT
        quota = other_process.telemetry.quota(workspace_id)
        head = beacon.databases["Telemetry"].query(  # what claims were checked against
            "SELECT version, used FROM telemetry_quota_heads WHERE quota_id = %s", [quota.id])
        assert [(h["version"], h["used"]) for h in head] == [(quota.version, LIMIT)]
    finally:
        other_process.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_workspace_lock_held_in_one_process_makes_the_other_wait(beacon: Beacon) -> None:
    from interfaces.bootstrap import bootstrap

    other_process = bootstrap(beacon.settings)
    workspace_id, elsewhere = uuid.uuid4(), uuid.uuid4()
    order: list[str] = []
    held = threading.Event()

    def second_writer() -> None:
        held.wait()
        with other_process.telemetry.serialised(workspace_id):
            order.append("other process in")

    try:
        thread = threading.Thread(target=second_writer)
        thread.start()
        with beacon.telemetry.serialised(workspace_id):
            held.set()
            with other_process.telemetry.serialised(elsewhere):  # other workspaces never wait
                order.append("other workspace in")
            thread.join(timeout=0.5)
            order.append("first process out")
        thread.join()
        assert order == ["other workspace in", "first process out", "other process in"]
    finally:
        other_process.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_writers_in_two_processes_queue_on_the_shared_lock_instead_of_conflicting(
        beacon: Beacon) -> None:
    from interfaces.bootstrap import bootstrap

    other_process = bootstrap(beacon.settings)
    workspace_id = uuid.uuid4()
    conflicts: list[int] = []
    apps = (beacon.telemetry, other_process.telemetry)
    for app in apps:  # count the saves that lost to another writer
        original = app.recorder.insert_events

        def counted(*args: object, _original: object = original, **kwargs: object) -> object:
            try:
                return _original(*args, **kwargs)  # type: ignore[operator]
            except Exception:
                conflicts.append(1)
                raise

        app.recorder.insert_events = counted  # type: ignore[method-assign]

    def writer(n: int) -> None:
        for _ in range(BATCHES):
            batch = fresh_batch()
            apps[n % 2].ingest(workspace_id, batch, limit=10**6)

    try:
        run_writers(writer)
        assert beacon.telemetry.usage(workspace_id, 10**6)["used"] == WRITERS * BATCHES * BATCH_SIZE
        assert conflicts == []
    finally:
        other_process.close()
