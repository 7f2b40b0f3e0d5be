"""The heartbeat ingestion endpoint of seed 003: whatever happens, the caller gets a 1×1 GIF."""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from interfaces.bootstrap import Beacon

router = APIRouter(prefix="/api/v1", tags=["heartbeats"])
log = logging.getLogger("beacon.heartbeats")

# The classic 43-byte transparent 1×1 GIF89a.
GIF = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000"
                    "010001000002024401003b")
BEATS_PER_WINDOW, WINDOW_SECONDS = 60, 10
MAX_BEAT_BODY = 4096


def gif(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The transparent pixel every beat is answered with, never to be cached."""
    return Response(GIF, status_code=status, media_type="image/gif",
                    headers={"Cache-Control": "no-store", **(headers or {})})


async def beat_value(request: Request) -> float | None:
    """The number in an optional `{"value": …}` body; None for anything else, read at most 4 KiB."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BEAT_BODY:
            return None
    try:
        data = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        return None
    value = data.get("value") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


GIF_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"image/gif": {}}},
                                                  429: {"content": {"image/gif": {}}}}


# One route per method, so each has an operation id of its own in the OpenAPI document.
@router.post("/beet/{token}", response_class=Response, responses=GIF_RESPONSES,
             operation_id="beat_post")
@router.get("/beet/{token}", response_class=Response, responses=GIF_RESPONSES,
            operation_id="beat_get")
async def beat(token: str, request: Request) -> Response:
    """Record a heartbeat. Always a 1×1 GIF: 200 for any token, 429 past 60 beats in 10 s."""
    beacon: Beacon = request.app.state.beacon
    try:
        key = "beet:" + hashlib.sha256(token.encode()).hexdigest()[:32]
        decision = await run_in_threadpool(beacon.limiter.hit, key, BEATS_PER_WINDOW,
                                           WINDOW_SECONDS)
        request.state.rate_limit = decision
        if not decision.allowed:
            return gif(429, {"Retry-After": str(decision.retry_after)})
        value = await beat_value(request) if request.method == "POST" else None
        monitor = await run_in_threadpool(beacon.monitoring.record_beat, token, value)
        if monitor is not None and monitor.incident_outlived:
            beacon.actors.check_monitor.send(str(monitor.id))
    except Exception:  # an image beacon must never break: log and answer the GIF
        log.exception("heartbeat not recorded")
    return gif()
