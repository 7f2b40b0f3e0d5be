"""The heartbeat endpoints: seed 003's beacon (whatever happens, the caller gets a 1×1 GIF) and,
beside it, the job signals `/start`, `/fail`, `/log` and `/{exit_status}`."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import ValidationError
from domain.runs import MAX_BODY_CHARS, check_rid, kept_body
from interfaces.bootstrap import Beacon

router = APIRouter(prefix="/api/v1", tags=["heartbeats"])
log = logging.getLogger("beacon.heartbeats")

# The classic 43-byte transparent 1×1 GIF89a.
GIF = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000"
                    "010001000002024401003b")
BEATS_PER_WINDOW, WINDOW_SECONDS = 60, 10
GIF_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"image/gif": {}}},
                                                  429: {"content": {"image/gif": {}}}}
Endpoint = Callable[..., Awaitable[Response]]
Rid = Annotated[str | None, Query(description="run id: pairs a start with its end")]


def gif(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The transparent pixel every beat is answered with, never to be cached."""
    return Response(GIF, status_code=status, media_type="image/gif",
                    headers={"Cache-Control": "no-store", **(headers or {})})


async def read_body(request: Request) -> tuple[bytes, bool]:
    """At most 10 KiB of the body, and whether there was more (the rest is never read)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_CHARS:
            return body[:MAX_BODY_CHARS], True
    return body, False


def beat_value(body: bytes, cut: bool) -> float | None:
    """The number in an optional `{"value": …}` body; None for anything else."""
    try:
        data = orjson.loads(body) if body.strip() and not cut else None
    except orjson.JSONDecodeError:
        return None
    value = data.get("value") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def body_text(body: bytes) -> str | None:
    """The body as text to keep with the signal (NUL characters dropped: no database keeps them)."""
    return kept_body(body.decode("utf-8", errors="replace").replace("\x00", ""))


async def signal(request: Request, token: str, kind: str, **details: Any) -> Response:
    """Record one signal; the answer is the GIF whether or not the token names a monitor."""
    beacon: Beacon = request.app.state.beacon
    try:
        key = "beet:" + hashlib.sha256(token.encode()).hexdigest()[:32]
        decision = await run_in_threadpool(beacon.limiter.hit, key, BEATS_PER_WINDOW,
                                           WINDOW_SECONDS)
        request.state.rate_limit = decision
        if not decision.allowed:
            return gif(429, {"Retry-After": str(decision.retry_after)})
        body, cut = await read_body(request) if request.method == "POST" else (b"", False)
        if kind == "success":
            details["value"] = beat_value(body, cut)
        monitor = await run_in_threadpool(beacon.monitoring.record_signal, token, kind,
                                          body=body_text(body), **details)
        if monitor is not None and (monitor.incident_outlived or monitor.needs_incident):
            beacon.actors.check_monitor.send(str(monitor.id))
    except Exception:  # an image beacon must never break: log and answer the GIF
        log.exception("heartbeat not recorded")
    return gif()


def gif_route(path: str, name: str) -> Callable[[Endpoint], Endpoint]:
    """GET and POST of one signal, as one route per method, so each has an operation id of its
    own in the OpenAPI document."""

    def register(endpoint: Endpoint) -> Endpoint:
        for method in ("post", "get"):
            getattr(router, method)(path, response_class=Response, responses=GIF_RESPONSES,
                                    operation_id=f"{name}_{method}")(endpoint)
        return endpoint

    return register


@gif_route("/beet/{token}", "beat")
async def beat(token: str, request: Request, rid: Rid = None) -> Response:
    """Record a heartbeat (a success; it ends the run `rid`). Always a 1×1 GIF: 200 for any
    token, 429 past 60 beats in 10 s (a malformed `rid` is ignored here: seed 003's beacon never
    answers anything but the GIF)."""
    try:
        rid = check_rid(rid)
    except ValidationError:
        rid = None
    return await signal(request, token, "success", rid=rid)


@gif_route("/beet/{token}/start", "start_run")
async def start(token: str, request: Request, rid: Rid = None) -> Response:
    """A job started: opens a run, timed until its success or failure."""
    return await signal(request, token, "start", rid=check_rid(rid))


@gif_route("/beet/{token}/fail", "fail_run")
async def fail(token: str, request: Request, rid: Rid = None) -> Response:
    """A job failed: its run ends and the monitor is down at once."""
    return await signal(request, token, "fail", rid=check_rid(rid))


@gif_route("/beet/{token}/log", "log_line")
async def log_line(token: str, request: Request, rid: Rid = None) -> Response:
    """Keep a message (the body) with the monitor's signals; changes nothing else."""
    return await signal(request, token, "log", rid=check_rid(rid))


@gif_route("/beet/{token}/{exit_status}", "exit_status")
async def exit_status(token: str, request: Request,
                      exit_status: Annotated[int, Path(ge=0, le=255)],
                      rid: Rid = None) -> Response:
    """A job ended with this exit status: 0 is a success, anything else a failure."""
    return await signal(request, token, "success", rid=check_rid(rid), exit_status=exit_status)
