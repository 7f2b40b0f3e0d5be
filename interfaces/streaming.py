"""The live stream's wiring: one log reader per process, and what wakes it."""

from __future__ import annotations

from typing import Any, cast

from application.telemetry import TelemetryApplication
from infrastructure.live_stream import LiveStream
from infrastructure.settings import Settings
from infrastructure.stream_wakes import wake_sources


def stream_namespace(settings: Settings) -> str:
    """What tells this Beacon's stream wake-ups from another's on a shared Redis."""
    return settings.db_schema if settings.uses_postgres else str(settings.data_dir.resolve())


def live_stream(settings: Settings, telemetry: TelemetryApplication) -> LiveStream:
    """The process's one reader of the Telemetry log for every stream it serves."""
    wakes = wake_sources(redis_url=settings.redis_url, database_url=settings.database_url,
                         channel=cast(Any, telemetry.recorder).channel_name
                         if settings.uses_postgres else "",
                         namespace=stream_namespace(settings))
    return LiveStream(telemetry, buffer_size=settings.stream_buffer_events,
                      recheck_seconds=settings.stream_recheck_seconds, wake_sources=wakes)
