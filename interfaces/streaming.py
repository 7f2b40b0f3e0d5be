"""The live stream's wiring: the process's follower of the Telemetry log, what wakes it, and who
the enrichment pipeline tells of each page it records (docs/decisions/live-stream.md).

- BEACON_ENRICHMENT=0: messages as accepted, read from the log up to its head (`SourceLog`),
  woken through Redis, PostgreSQL's NOTIFY or in-process.
- Enrichment with Redis: the pipeline publishes each page's messages, made once, and every API
  process forwards them (`StreamPublisher`, `RedisForwarder`), reading the log for any it missed.
- Enrichment without Redis: each process reads the log up to the pipeline's place
  (`EnrichedLog`), woken by the pipeline's NOTIFY or, in its own process, directly.
"""

from __future__ import annotations

from typing import Any, cast

from application.telemetry import TelemetryApplication
from infrastructure.database import Database
from infrastructure.enrichment_runner import PageListener
from infrastructure.live_stream import Follower, LiveStream
from infrastructure.read_models import ReadModelStore
from infrastructure.settings import Settings
from infrastructure.stream_follower import LogFollower
from infrastructure.stream_forwarder import RedisForwarder
from infrastructure.stream_log import EnrichedLog, SourceLog
from infrastructure.stream_relay import StreamPublisher
from infrastructure.stream_wakes import PageNotifier, enriched_channel, wake_sources


def live_stream(settings: Settings, telemetry: TelemetryApplication,
                pipeline: ReadModelStore) -> LiveStream:
    """The process's one follower of the Telemetry log for every stream it serves; `pipeline` is
    the enrichment pipeline's place."""
    namespace = settings.namespace
    recheck = settings.stream_recheck_seconds
    follower: Follower
    if not settings.enrichment:
        reader = SourceLog(telemetry)
        wakes = wake_sources(redis_url=settings.redis_url, database_url=settings.database_url,
                             channel=cast(Any, telemetry.recorder).channel_name
                             if settings.uses_postgres else "", namespace=namespace)
        follower = LogFollower(reader, lambda: telemetry.recorder.max_notification_id() or 0,
                               recheck_seconds=recheck, wake_sources=wakes)
    elif settings.redis_url:
        reader = EnrichedLog(telemetry)
        follower = RedisForwarder(settings.redis_url, namespace, reader, pipeline.position,
                                  recheck_seconds=recheck)
    else:
        reader = EnrichedLog(telemetry)
        wakes = wake_sources(redis_url="", database_url=settings.database_url,
                             channel=enriched_channel(settings.db_schema)
                             if settings.uses_postgres else "", namespace=namespace)
        follower = LogFollower(reader, pipeline.position, recheck_seconds=recheck,
                               wake_sources=wakes)
    return LiveStream(follower, reader, buffer_size=settings.stream_buffer_events)


def page_listeners(settings: Settings, stream: LiveStream, telemetry_db: Database
                   ) -> list[PageListener]:
    """Whom the enrichment pipeline tells of each page it has recorded."""
    if settings.redis_url:
        return [StreamPublisher(settings.redis_url, settings.namespace)]
    listeners: list[PageListener] = [lambda start, end, page: stream.wake()]
    if settings.uses_postgres:
        listeners.append(PageNotifier(telemetry_db, settings.db_schema))
    return listeners
