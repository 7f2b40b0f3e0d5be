"""The Beacon serving a request, and the bearer token a request carries: what every way of
telling who is calling starts from (keys in deps.py, people in identity.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from interfaces.bootstrap import Beacon


def get_beacon(request: Request) -> Beacon:
    beacon: Beacon = request.app.state.beacon
    return beacon


BeaconDep = Annotated[Beacon, Depends(get_beacon)]


def bearer_token(request: HTTPConnection) -> str | None:
    """The bearer token of a request or a WebSocket handshake, if it carries one."""
    return bearer(request.headers.get("authorization", ""))


def bearer(authorization: str) -> str | None:
    """The key in an `Authorization: Bearer <key>` value."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
