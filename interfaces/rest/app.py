"""The FastAPI application: routers, error handlers and middleware around one Beacon."""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from domain.time import micros
from interfaces.bootstrap import Beacon
from interfaces.graphql.router import build_router
from interfaces.metrics import Metrics, PipelineFigures
from interfaces.rest import (
    admin,
    alerts,
    analytics,
    auth,
    cli_sign_in,
    components,
    dashboard,
    deploys,
    dialects,
    enriched,
    exports,
    feeds,
    heartbeats,
    incidents,
    ingest,
    maintenances,
    monitor_runs,
    monitors,
    operations,
    project_keys,
    projects,
    status_page,
    stream,
    subscribers,
    uptime,
)
from interfaces.rest.errors import ERROR_RESPONSES, install_error_handlers
from interfaces.rest.middleware import BodyGuard, Observability


def pipeline_figures(beacon: Beacon) -> PipelineFigures:
    now = beacon.webhooks.clock()
    judged = beacon.alert_evaluation.judged_until()
    return PipelineFigures(
        streams_open=beacon.stream.subscribers(), streams_ended=dict(beacon.stream.ended),
        webhooks_waiting={"subscribers": beacon.webhook_log.waiting(micros(now)),
                          "alerts": beacon.alert_delivery_log.waiting(micros(now))},
        alerts_behind_seconds=None if judged is None else (now - judged).total_seconds())


def create_app(beacon: Beacon, lifespan: Any = None) -> FastAPI:
    """Build the HTTP app for a Beacon the caller owns (and closes, unless `lifespan` does)."""
    app = FastAPI(title="Beacon", version="0.1.0", lifespan=lifespan,
                  description="Product telemetry, status pages and heartbeat monitoring.")
    app.state.beacon = beacon
    app.state.metrics = Metrics(lambda: [r.status() for r in beacon.runners],
                                lambda: pipeline_figures(beacon))
    install_error_handlers(app)
    # The stream first: its path must win over /api/v1/events/{id}.
    for router in (stream.router, operations.router, admin.router, incidents.router, ingest.router,
                   dialects.router, heartbeats.router, monitors.router, monitor_runs.router,
                   subscribers.router,
                   exports.router, status_page.router, analytics.router, components.router,
                   maintenances.router, uptime.router, feeds.router, auth.router,
                   cli_sign_in.router, projects.router, project_keys.router, deploys.router,
                   enriched.router, alerts.router):
        app.include_router(router, responses=ERROR_RESPONSES)
    graphql = build_router(beacon)
    for route in graphql.routes:  # GET answers GraphiQL's page to a browser, JSON to a client
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            route.responses[200] = {"description": "a result, or GraphiQL for a browser",
                                    "content": {"application/json": {}, "text/html": {}}}
    app.include_router(graphql, prefix="/graphql", responses=ERROR_RESPONSES)
    dashboard.mount(app)
    app.add_middleware(BodyGuard, max_bytes=beacon.settings.max_body_bytes)
    app.add_middleware(stream.TelemetryDoorbell)
    app.add_middleware(Observability, metrics=app.state.metrics)
    return app


# Objects tracked by the collector, allocated and not yet freed, before a young pass runs. An
# ingestion request makes ~3,000 (TrackedEvents, their dicts, properties) that all die with it; at
# the default 700 each request paid ~4 young passes and a share of older ones (~0.3 s of 2.8 s of
# API CPU on the benchmark). Cyclic garbage still goes, after at most this many objects more.
YOUNG_GENERATION = 50_000


def tune_garbage_collection() -> None:
    """Keep what start-up built (app, schema, pools: all long-lived) out of the garbage
    collector's full passes, which would otherwise walk it again and again as requests allocate,
    and let a request's short-lived objects die before any pass looks at them."""
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, *gc.get_threshold()[1:])
