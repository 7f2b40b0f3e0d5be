"""The FastAPI application: routers, error handlers and middleware around one Beacon."""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI

from interfaces.bootstrap import Beacon
from interfaces.graphql.router import build_router
from interfaces.metrics import Metrics
from interfaces.rest import (
    admin,
    analytics,
    dialects,
    exports,
    heartbeats,
    incidents,
    ingest,
    monitors,
    operations,
    status_page,
    subscribers,
)
from interfaces.rest.errors import install_error_handlers
from interfaces.rest.middleware import BodyGuard, Observability


def create_app(beacon: Beacon, lifespan: Any = None) -> FastAPI:
    """Build the HTTP app for a Beacon the caller owns (and closes, unless `lifespan` does)."""
    app = FastAPI(title="Beacon", version="0.1.0", lifespan=lifespan,
                  description="Product telemetry, status pages and heartbeat monitoring.")
    app.state.beacon = beacon
    app.state.metrics = Metrics(lambda: [r.status() for r in beacon.runners])
    install_error_handlers(app)
    for router in (operations.router, admin.router, incidents.router, ingest.router,
                   dialects.router, heartbeats.router, monitors.router, subscribers.router,
                   exports.router, status_page.router, analytics.router):
        app.include_router(router)
    app.include_router(build_router(beacon), prefix="/graphql")
    app.add_middleware(BodyGuard, max_bytes=beacon.settings.max_body_bytes)
    app.add_middleware(Observability, metrics=app.state.metrics)
    return app


def freeze_startup_objects() -> None:
    """Keep what start-up built (app, schema, pools: all long-lived) out of the garbage
    collector's full passes, which would otherwise walk it again and again as requests allocate."""
    gc.freeze()
