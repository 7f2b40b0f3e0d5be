"""Operations: liveness, readiness, Prometheus metrics and projection status (with failures)."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from domain.time import iso_of_micros
from infrastructure.projection_runner import Status
from interfaces.rest.deps import Admin, BeaconDep, Reader

router = APIRouter(tags=["operations"])
READY_LAG = 10_000  # events behind the log before /readyz says "not ready"


@router.get("/healthz")
def healthz(beacon: BeaconDep) -> dict:
    """Alive. Says whether rate limits fell back to memory because Redis is unreachable."""
    limiter = beacon.limiter
    limiter.recheck()
    mode = "memory" if not limiter.redis_url else ("degraded" if limiter.degraded else "redis")
    return {"status": "ok", "rate_limits": mode}


@router.get("/readyz")
def readyz(beacon: BeaconDep) -> Response:
    """Ready when every database answers and projections are not far behind. Redis unreachable
    is `degraded`, not unready: ingestion and reads go on without it (rate limits per process,
    jobs and cross-process streams wait for it), and every API process shares the outage, so a
    load balancer taking them all out would turn it into a full one."""
    checks: dict[str, Any] = {}
    ready, degraded = True, []
    pinged: dict[int, str] = {}  # databases that are one pool: asked once
    for name, db in beacon.databases.items():
        if id(db) not in pinged:
            try:
                db.ping()
                pinged[id(db)] = "ok"
            except Exception as error:  # noqa: BLE001
                pinged[id(db)] = f"unreachable: {type(error).__name__}"
        checks[f"database:{name}"] = pinged[id(db)]
        ready = ready and pinged[id(db)] == "ok"
    if beacon.settings.redis_url:
        try:
            redis.Redis.from_url(beacon.settings.redis_url, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except redis.RedisError as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
            degraded.append("redis")
    projections = []
    try:
        for runner in beacon.runners:
            status = runner.status()
            projections.append({"name": status.name, "lag": status.lag,
                                "failing": status.failure is not None})
            ready = ready and status.lag < READY_LAG
    except Exception as error:  # noqa: BLE001
        checks["projections"] = f"unreadable: {type(error).__name__}"
        ready = False
    body = {"status": "ready" if ready else "not ready", "degraded": degraded, "checks": checks,
            "projections": projections}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/projections")
def projections(_: Reader, beacon: BeaconDep) -> dict:
    """Each projection's position, the head of its log and the lag between them, and since when
    its pages fail, if they do. The error itself is the operator's (`GET /admin/v1/projections`,
    `beacon projections status`): it may quote any workspace's data."""
    return {"data": [projection_json(runner.status()) for runner in beacon.runners]}


@router.get("/admin/v1/projections", dependencies=[Admin], tags=["admin"])
def projections_for_operators(beacon: BeaconDep) -> dict:
    """As `GET /api/v1/projections`, with each failing projection's last error and the position
    it stands at (the page after it is the one that fails)."""
    listed = []
    for runner in beacon.runners:
        status = runner.status()
        failure = status.failure
        listed.append({**projection_json(status), "error": None if failure is None else {
            "message": failure.error, "position": failure.position}})
    return {"data": listed}


def projection_json(status: Status) -> dict[str, Any]:
    since = status.failing_since
    return {"name": status.name, "position": status.position, "head": status.head,
            "lag": status.lag, "failing_since": None if since is None else iso_of_micros(since),
            "failures": status.failures}
