"""One Beacon process: everything it uses, built once by interfaces/bootstrap.py, closed once;
and what it runs (projections, the worker) and waits for (read-your-writes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, cast

import dramatiq

from application.alert_evaluation import AlertEvaluation
from application.alerts import AlertsApplication
from application.base import BeaconApplication
from application.config_deploys import Deploys
from application.config_objects import ConfiguredObjects
from application.deletions import ProjectDeletions
from application.deploys import ConfigurationApplication
from application.enrichment import Enricher
from application.exports import ExportsApplication
from application.monitoring import MonitoringApplication
from application.statuspages import StatusPagesApplication
from application.telemetry import TelemetryApplication
from application.tracking_plans import TrackingPlans
from application.visitors import Visitors
from application.webhooks import WebhookDeliveries
from application.workspaces import WorkspacesApplication
from domain.errors import DomainError
from infrastructure.broker import start_worker
from infrastructure.configuration_queries import SqlStoredEvents
from infrastructure.database import Database
from infrastructure.enrichment_queries import SqlEnrichedQueries
from infrastructure.enrichment_runner import EnrichmentRunner
from infrastructure.export_files import ExportFiles
from infrastructure.live_stream import LiveStream
from infrastructure.projection_runner import LogListener, ProjectionRunner
from infrastructure.rate_limits import RateLimiter
from infrastructure.rebuilder import Rebuilder
from infrastructure.scheduler import Scheduler
from infrastructure.settings import Settings
from infrastructure.stream_relay import StreamPublisher
from infrastructure.stream_seats import StreamSeats
from infrastructure.stream_wakes import RedisDoorbell
from interfaces.alerting import MEASURED
from interfaces.jobs import Actors, Jobs, periodic_jobs
from projections.alert_activity import AlertActivity
from projections.alerts import AlertQueries, AlertsProjection
from projections.analytics_questions import AnalyticsQueries
from projections.api_keys import ApiKeyQueries
from projections.components import ComponentQueries
from projections.configuration import ConfigurationQueries
from projections.incidents import IncidentQueries
from projections.maintenance import MaintenanceQueries
from projections.monitor_activity import MonitorActivityQueries
from projections.monitors import MonitorQueries
from projections.status_page import StatusPageQueries
from projections.telemetry import (
    TelemetryQueries,
)
from projections.webhooks import WebhookDeliveriesProjection, WebhookLog

# The projections whose tables hold a webhook outbox: subscribers', alert rules'.
OUTBOXES = (WebhookDeliveriesProjection.name, AlertsProjection.name)


@dataclass
class Beacon:
    """Everything one Beacon process uses, built once, closed once."""

    settings: Settings
    workspaces: WorkspacesApplication
    statuspages: StatusPagesApplication
    telemetry: TelemetryApplication
    monitoring: MonitoringApplication
    exports: ExportsApplication
    configuration: ConfigurationApplication
    databases: dict[str, Database]
    runners: list[ProjectionRunner]
    incidents: IncidentQueries
    telemetry_queries: TelemetryQueries
    analytics: AnalyticsQueries
    monitors: MonitorQueries
    public_pages: StatusPageQueries
    webhooks: WebhookDeliveries
    webhook_log: WebhookLog
    alert_delivery_log: WebhookLog  # `recent_of` alert channels: their deliveries
    export_files: ExportFiles
    limiter: RateLimiter
    broker: dramatiq.Broker
    jobs: Jobs
    actors: Actors
    tracking_plans: TrackingPlans
    configured_objects: ConfiguredObjects
    deploys: Deploys
    configuration_queries: ConfigurationQueries
    stored_events: SqlStoredEvents
    visitors: Visitors
    enricher: Enricher
    enriched: SqlEnrichedQueries
    components: ComponentQueries
    maintenances: MaintenanceQueries
    monitor_activity: MonitorActivityQueries
    alerts: AlertsApplication
    alert_queries: AlertQueries
    alert_activity: AlertActivity
    alert_evaluation: AlertEvaluation
    alert_webhooks: WebhookDeliveries
    api_keys: ApiKeyQueries
    deletions: ProjectDeletions
    stream: LiveStream
    stream_seats: StreamSeats
    stream_publishers: list[StreamPublisher] = field(default_factory=list)
    doorbell: RedisDoorbell | None = None  # messages as accepted, across processes: Redis rings
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _worker: dramatiq.Worker | None = None

    @property
    def applications(self) -> dict[str, BeaconApplication]:
        return {app.name: app for app in (self.workspaces, self.statuspages, self.telemetry,
                                          self.monitoring, self.exports, self.configuration,
                                          self.alerts)}

    def runner(self, name: str) -> ProjectionRunner:
        for runner in self.runners:
            if runner.name == name:
                return runner
        raise KeyError(name)

    def start_projections(self, only: Collection[str] = (), skip: Collection[str] = ()) -> list[str]:
        """Follow every log in background threads: on PostgreSQL one LISTEN connection per log
        wakes its runners on NOTIFY; on SQLite they poll. A read model that alert rules measure
        asks for an evaluation each time it moves. `only` and `skip` name runners (`beacon
        projections status`) to split them between processes, e.g. the enrichment pipeline in a
        projector of its own: each process then has an interpreter (a GIL) of its own."""
        listening = self.settings.uses_postgres
        unknown = sorted((set(only) | set(skip)) - {r.name for r in self.runners})
        if unknown:
            raise DomainError(f"no projection named {', '.join(unknown)}; "
                              "`beacon projections status` lists them")
        started = [r for r in self.runners
                   if (not only or r.name in only) and r.name not in skip]
        for runner in started:
            if runner.name in MEASURED:
                runner.advanced = self.actors.request_alert_evaluation
            thread = threading.Thread(target=runner.run, args=(self._stop,),
                                      kwargs={"listening": listening}, daemon=True,
                                      name=f"projection-{runner.name}")
            thread.start()
            self._threads.append(thread)
        if listening:
            for source, app in self.applications.items():
                runners = [r for r in started if r.projection.source == source]
                if runners:
                    channel = cast(Any, app.recorder).channel_name
                    listener = LogListener(self.settings.database_url, channel, runners, self._stop)
                    listener.start()
                    self._threads.append(listener)
        return [r.name for r in started]

    def start_worker(self, threads: int = 2) -> None:
        """Run jobs in this process, and the scheduler that enqueues the periodic ones."""
        self._worker = start_worker(self.broker, threads)
        scheduler = Scheduler(periodic_jobs(self.actors), self._stop, self.settings.redis_url,
                              namespace=self.settings.namespace)
        scheduler.start()
        self._threads.append(scheduler)

    def wake_projections(self, source: str) -> None:
        for runner in self.runners:
            if runner.projection.source == source:
                runner.wake()

    def wait_for(self, source: str, position: int, timeout: float) -> bool:
        """Read-your-writes: wait until every projection of `source` has reached `position`."""
        deadline = time.monotonic() + timeout
        self.wake_projections(source)  # all of them at once; each is woken again while awaited
        return all(runner.reaches(position, deadline - time.monotonic())
                   for runner in self.runners if runner.projection.source == source)

    def telemetry_written(self) -> None:
        """This process wrote to the Telemetry log: wake what brings it to the live streams.
        Messages as accepted: the streams of every API process. Enriched ones: the pipeline, if
        it runs here and someone here streams (elsewhere, the log's NOTIFY wakes it)."""
        if not self.settings.enrichment:
            self.stream.wake()
            if self.doorbell is not None:
                self.doorbell.ring()
        elif self.stream.listening:
            for runner in self.runners:
                if isinstance(runner, EnrichmentRunner):
                    runner.wake()

    def rebuild(self, name: str, progress: Any = None) -> int:
        moved = Rebuilder(self.runner(name)).run(progress)
        self.rebuilt(name)
        return moved

    def rebuilt(self, name: str) -> None:
        """What follows a rebuild of projection `name` (however it was run)."""
        if name in OUTBOXES:
            # The log makes every delivery again, those the webhook history forgot too: forget
            # them at once rather than list them (as expired, never sent) until the hourly prune.
            self.jobs.prune_webhooks()

    def close(self) -> None:
        self._stop.set()
        self.stream.close()
        if self.doorbell is not None:
            self.doorbell.close()
        for runner in self.runners:
            runner.wake()
        LogListener.interrupt(self.settings.database_url,
                              [t for t in self._threads if isinstance(t, LogListener)])
        for thread in self._threads:
            thread.join(timeout=5)
        for publisher in self.stream_publishers:  # after the pipeline's thread has stopped
            publisher.close()
        if self._worker is not None:
            self._worker.stop(timeout=5000)
        self.broker.close()
        self.webhooks.close()
        self.alert_webhooks.close()
        self.jobs.evaluation_queued.close()
        self.stream_seats.close()
        self.enricher.geo.close()
        self.deploys.recorder.close()
        for app in self.applications.values():
            app.close()
        for runner in self.runners:
            runner.close()
        for db in {id(d): d for d in self.databases.values()}.values():
            db.close()
