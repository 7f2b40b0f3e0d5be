"""ASGI middleware: body limits, media types and NUL characters before a handler sees a byte, and
one log line, one metric sample and the rate-limit headers for every request."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.nul_text import has_nul
from interfaces.metrics import Metrics
from interfaces.rest.errors import error_body

log = logging.getLogger("beacon.http")
BODY_METHODS = {"POST", "PUT", "PATCH"}
# Heartbeat pings answer a GIF whatever they send, so they read (and cap) their own bodies.
UNGUARDED_PREFIXES = ("/api/v1/beet/",)


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps(error_body(code, message))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


NUL_REFUSED = ("text may not contain NUL characters (\\u0000, %00): no database keeps them, "
               "and none of Beacon's fields needs one")


SURROGATE_REFUSED = ("text may not contain a lone UTF-16 surrogate (\\ud800-\\udfff outside a "
                     "high-low pair): it is no Unicode character, and no database keeps it")
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def has_lone_surrogate(body: bytes) -> bool:
    """Whether a JSON body escapes half a surrogate pair: a high one (\\ud800-\\udbff) not
    followed at once by a low one, or a low one not after a high one. Python's JSON reader (the
    one FastAPI uses) accepts them into text that cannot then be written as UTF-8. An escape
    after an odd run of backslashes is text, not an escape."""
    pending = -1  # where a high surrogate escape ended, waiting for its low half
    for found in _SURROGATE.finditer(body):
        start = found.start()
        run = 0
        while start - run > 0 and body[start - run - 1] == 0x5C:
            run += 1
        if run % 2:
            continue  # "\\ud800": a backslash, then the text ud800
        high = found[0][3:4] in b"89abAB"
        if pending != -1 and (high or start != pending):
            return True  # the high one before was alone
        if not high and pending == -1:
            return True
        pending = found.end() if high else -1
    return pending != -1


class _Refused(HTTPException):
    """A body the guard refuses once it has it whole (FastAPI's reader lets these through)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(status, message)
        self.code = code


class _TooLarge(_Refused):
    """An HTTPException, so FastAPI's body reader lets it through to the error handlers."""

    def __init__(self, max_bytes: int):
        super().__init__(413, "payload_too_large", f"the body must be at most {max_bytes} bytes")


class BodyGuard:
    """413 for bodies over the limit (by Content-Length, or by counting a streamed body), 415 for
    bodies that are not JSON, without reading more than the limit into memory, and 400 for a NUL
    character in the path, the query string or the body: PostgreSQL text cannot hold one, so a
    NUL accepted into an event would stop every read model that copies it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNGUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _send_error(send, 400, "bad_request", NUL_REFUSED)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            status, code = (413, "payload_too_large") if length.isdigit() else (400, "bad_request")
            await _send_error(send, status, code,
                              f"the body must be at most {self.max_bytes} bytes")
            return
        media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        has_body = length != b"0" and (length is not None or b"transfer-encoding" in headers)
        if has_body and not (media == b"application/json" or media.endswith(b"+json")):
            await _send_error(send, 415, "unsupported_media_type",
                              "the body must be application/json")
            return
        received = 0
        started = False
        chunks: list[bytes] = []

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
                chunks.append(chunk)
                if not message.get("more_body", False):  # whole: looked at before it is read
                    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                    if has_nul(body):
                        raise _Refused(400, "bad_request", NUL_REFUSED)
                    if b"\\" in body and has_lone_surrogate(body):  # memchr: no escape, no scan
                        raise _Refused(400, "bad_request", SURROGATE_REFUSED)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _Refused as refused:
            if not started:
                await _send_error(send, refused.status_code, refused.code, refused.detail)


class Observability:
    """Rate-limit headers, metrics and one structured log line per request (never a secret)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        state: dict[str, Any] = scope["state"]
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                decision = state.get("rate_limit")
                if decision is not None:
                    headers = list(message.get("headers", []))
                    headers += [(b"x-ratelimit-limit", str(decision.limit).encode()),
                                (b"x-ratelimit-remaining", str(decision.remaining).encode()),
                                (b"x-ratelimit-reset", str(decision.reset_at).encode())]
                    message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            log.info(orjson.dumps({
                "method": method, "route": route, "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "workspace": state.get("workspace_id"),
            }).decode())
