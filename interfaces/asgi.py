"""An app factory for `uvicorn --factory` and multi-process `beacon serve --workers N`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from interfaces.rest.app import create_app, tune_garbage_collection


def create_asgi_app() -> FastAPI:
    """An API-only process (projections and jobs run elsewhere) that owns its Beacon."""
    beacon = bootstrap(Settings())
    beacon.workspaces.assign_missing_slugs()  # workspaces made before slugs existed
    beacon.deletions.finish_deletions()  # a purge a crash interrupted

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        beacon.close()

    app = create_app(beacon, lifespan=lifespan)
    tune_garbage_collection()
    return app
