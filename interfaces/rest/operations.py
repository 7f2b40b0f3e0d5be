"""Operations: liveness, readiness, Prometheus metrics and projection status."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from interfaces.rest.deps import BeaconDep, Reader

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
    """Ready when every database and Redis answer and projections are not far behind."""
    checks: dict[str, Any] = {}
    ready = True
    for name, db in beacon.databases.items():
        try:
            db.ping()
            checks[f"database:{name}"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks[f"database:{name}"] = f"unreachable: {type(error).__name__}"
            ready = False
    if beacon.settings.redis_url:
        try:
            redis.Redis.from_url(beacon.settings.redis_url, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except redis.RedisError as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
            ready = False
    projections = []
    try:
        for runner in beacon.runners:
            status = runner.status()
            projections.append({"name": status.name, "lag": status.lag})
            ready = ready and status.lag < READY_LAG
    except Exception:  # noqa: BLE001
        ready = False
    body = {"status": "ready" if ready else "not ready", "checks": checks,
            "projections": projections}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/projections")
def projections(_: Reader, beacon: BeaconDep) -> dict:
    """Each projection's position, the head of its log and the lag between them."""
    statuses = [runner.status() for runner in beacon.runners]
    return {"data": [{"name": s.name, "position": s.position, "head": s.head, "lag": s.lag}
                     for s in statuses]}
