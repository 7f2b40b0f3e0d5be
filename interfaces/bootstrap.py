"""The composition root: builds every application, database, projection and broker from settings.

How a new piece is wired, so that nothing is patched in after construction:
- An application takes its collaborators (query ports, stores, policies) as keyword arguments of
  its constructor, typed as ports (Protocols in `application/`, query interfaces in
  `projections/`). `bootstrap()` builds the SQL adapters first, from `databases`, then the
  applications with them (see `MonitoringApplication(..., due=monitors)`).
- A new application: list its class in `APPLICATIONS` (its database follows from its `name`),
  build it in `bootstrap()`, and add it to `Beacon` (`interfaces/beacon.py`: a field, and
  `applications`).
- A read the interfaces need: a field of `Beacon` typed as the port, filled with the SQL class.
- A background job: a method of `Jobs` (`interfaces/jobs.py`; what it works with are fields of
  `Jobs`), made an actor in `declare_actors`, and listed in `periodic_jobs` if the scheduler runs
  it. `interfaces/jobs.py` never imports this module (import-linter holds it).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from datetime import timedelta
from functools import partial
from uuid import UUID

import psycopg
from psycopg import sql

from application.alerts import AlertChannels, AlertsApplication, DashboardLinks
from application.base import BeaconApplication, Clock, system_clock
from application.config_deploys import Deploys
from application.config_objects import ConfiguredObjects
from application.deletions import ProjectDeletions
from application.deploys import ConfigurationApplication
from application.enrichment import Enricher
from application.exports import ExportsApplication
from application.monitored_components import StatusUpkeep
from application.monitoring import MonitoringApplication
from application.outages import OutageIncidents
from application.statuspages import StatusPagesApplication
from application.telemetry import TelemetryApplication
from application.tracking_plans import TrackingPlans
from application.visitors import Visitors
from application.webhook_bodies import PageSubscribers
from application.webhooks import DeliveryPolicy, WebhookDeliveries
from application.workspaces import WorkspacesApplication
from domain.errors import NotReadyError
from infrastructure.alert_queries import SqlAlertActivity, SqlAlertQueries
from infrastructure.analytics_rollup import RollupAnalyticsQueries
from infrastructure.api_key_queries import SqlApiKeyQueries
from infrastructure.broker import build_broker
from infrastructure.component_queries import SqlComponentQueries, SqlMaintenanceQueries
from infrastructure.configuration_queries import SqlConfigurationQueries, SqlStoredEvents
from infrastructure.database import Database, PostgresDatabase, SQLiteDatabase
from infrastructure.enrichment_queries import SqlEnrichedQueries
from infrastructure.enrichment_runner import EnrichmentRunner
from infrastructure.export_files import ExportFiles
from infrastructure.geo import GeoDatabase
from infrastructure.incident_queries import SqlIncidentQueries
from infrastructure.joint_recording import joint_recorder
from infrastructure.monitor_activity_queries import SqlMonitorActivityQueries
from infrastructure.monitor_links import SqlMonitorLinks
from infrastructure.monitor_queries import SqlMonitorQueries
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.queued_runs import QueuedRun
from infrastructure.rate_limits import RateLimiter
from infrastructure.read_models import ReadModelStore
from infrastructure.rollup_upgrade import (
    fill_enrichment_reach,
    fill_event_minutes,
    fill_hourly_rollups,
)
from infrastructure.settings import PIPELINE_PLACE_POOL_SIZE, Settings, eventsourcing_env
from infrastructure.status_page_queries import SqlStatusPageQueries
from infrastructure.stream_relay import StreamPublisher
from infrastructure.stream_seats import stream_seats
from infrastructure.stream_wakes import RedisDoorbell
from infrastructure.table_creation import one_creator_at_a_time
from infrastructure.telemetry_queries import SqlTelemetryQueries
from infrastructure.user_agents import UserAgentParser
from infrastructure.visitor_salts import SqlVisitorSalts
from infrastructure.webhook_addresses import check_public_url
from infrastructure.webhook_deliveries import ATTEMPTS, STATE, SqlDeliveryStore, attempts_table, state_table
from infrastructure.webhook_sender import HttpWebhookSender
from infrastructure.workspace_purge import SqlWorkspacePurge, purge_plan
from interfaces.alerting import alert_deliveries, evaluation
from interfaces.beacon import Beacon
from interfaces.jobs import Jobs, catch_up, declare_actors
from interfaces.streaming import live_stream, page_listeners
from projections.alert_activity import AlertActivityProjection
from projections.alerts import AlertsProjection
from projections.api_keys import ApiKeysProjection
from projections.components import ComponentsProjection
from projections.configuration import ConfigurationProjection
from projections.enrichment import EnrichedEventsProjection, EnrichmentPipeline
from projections.event_seconds import EventSecondsProjection
from projections.incidents import IncidentsProjection
from projections.maintenance import MaintenancesProjection
from projections.model import Parent, Projection, Table
from projections.monitor_activity import MonitorActivityProjection
from projections.monitors import MonitorsProjection
from projections.pages import PagesProjection
from projections.telemetry import (
    EventsProjection,
    ExceptionsProjection,
    SessionsProjection,
)
from projections.webhooks import WebhookDeliveriesProjection

APPLICATIONS = (WorkspacesApplication, StatusPagesApplication, TelemetryApplication,
                MonitoringApplication, ExportsApplication, ConfigurationApplication,
                AlertsApplication)


def all_projections() -> list[Projection]:
    return [IncidentsProjection(), EventsProjection(), SessionsProjection(), ExceptionsProjection(),
            PagesProjection(), WebhookDeliveriesProjection(), MonitorsProjection(),
            ComponentsProjection(), MaintenancesProjection(),
            ConfigurationProjection(), MonitorActivityProjection(), EnrichedEventsProjection(),
            AlertsProjection(), ApiKeysProjection(), EventSecondsProjection(),
            AlertActivityProjection()]


def delivery_tables() -> list[tuple[str, Table]]:
    """What became of each webhook and alert delivery (infrastructure/webhook_deliveries.py): not
    read models, but rows of a workspace all the same, found through the subscriber or the rule."""
    subscriber = (Parent("subscriber_id", "rm_subscribers"),)
    rule = (Parent("incident_id", "rm_alerts"),)  # an alert's deliveries name the rule there
    return [("StatusPages", replace(STATE, parents=subscriber)),
            ("StatusPages", replace(ATTEMPTS, parents=subscriber)),
            ("Alerts", replace(state_table("alert_delivery_state"), parents=rule)),
            ("Alerts", replace(attempts_table("alert_attempts"), parents=rule))]


def ensure_schema(settings: Settings) -> None:
    if settings.uses_postgres and settings.db_schema != "public":
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(settings.db_schema)))


def bootstrap(settings: Settings | None = None, clock: Clock = system_clock) -> Beacon:
    """Build a Beacon from settings (read from the environment when not given). Processes
    starting together on PostgreSQL build one after another: each creates what is missing."""
    settings = settings or Settings()
    with one_creator_at_a_time(settings.database_url, settings.db_schema) \
            if settings.uses_postgres else nullcontext():
        return build(settings, clock)


def place_database(settings: Settings, telemetry: Database) -> Database:
    """Where the enrichment pipeline keeps its place: on PostgreSQL a pool of its own
    (PIPELINE_PLACE_POOL_SIZE, opened on first use), so that moving it after a page never waits
    for a connection of the read models' pool."""
    if not settings.uses_postgres:
        return telemetry
    return PostgresDatabase(settings.database_url, settings.db_schema, min_size=0,
                            max_size=PIPELINE_PLACE_POOL_SIZE)


def build(settings: Settings, clock: Clock) -> Beacon:
    """Everything a Beacon is made of, its missing tables created on the way."""
    ensure_schema(settings)
    names = [app.name for app in APPLICATIONS]
    if settings.uses_postgres:
        shared = PostgresDatabase(settings.database_url, settings.db_schema,
                                  max_size=settings.db_pool_size)
        databases: dict[str, Database] = {name: shared for name in names}
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # a first start makes its directory
        databases = {name: SQLiteDatabase(settings.sqlite_path(name)) for name in names}
    monitors = SqlMonitorQueries(databases["Monitoring"])
    deliveries = SqlDeliveryStore(databases["StatusPages"])
    deliveries.create_tables()
    maintenances = SqlMaintenanceQueries(databases["StatusPages"])
    monitor_links = SqlMonitorLinks(databases["StatusPages"], databases["Monitoring"])
    workspaces = WorkspacesApplication(eventsourcing_env(settings, "Workspaces"), clock=clock)
    statuspages = StatusPagesApplication(eventsourcing_env(settings, "StatusPages"), clock=clock)
    telemetry = TelemetryApplication(eventsourcing_env(settings, "Telemetry"), clock=clock)
    monitoring = MonitoringApplication(eventsourcing_env(settings, "Monitoring"), clock=clock,
                                       due=monitors, closed=workspaces.is_deleted)
    exports = ExportsApplication(eventsourcing_env(settings, "Exports"), clock=clock)
    configuration = ConfigurationApplication(eventsourcing_env(settings, "Configuration"), clock=clock)
    alerts = AlertsApplication(eventsourcing_env(settings, "Alerts"), clock=clock)
    alerts.check_channel_url = partial(check_public_url,
                                       allow_private=settings.allow_private_webhooks)
    apps: dict[str, BeaconApplication] = {
        a.name: a for a in (workspaces, statuspages, telemetry, monitoring, exports, configuration,
                            alerts)}
    # The enrichment pipeline first: a catch-up of every runner in order (tests, a read that
    # waits) then finds what it recorded.
    enricher = Enricher(telemetry, GeoDatabase(settings.geoip_db), UserAgentParser())
    pipeline = ReadModelStore(databases["Telemetry"], EnrichmentPipeline())
    pipeline.create_tables()
    stream = live_stream(settings, telemetry, pipeline)
    told = page_listeners(settings, stream, databases["Telemetry"]) if settings.enrichment else []
    runners: list[ProjectionRunner] = [EnrichmentRunner(
        enricher, telemetry, pipeline, told, place=ReadModelStore(
            place_database(settings, databases["Telemetry"]), EnrichmentPipeline()))] \
        if settings.enrichment else []
    for projection in all_projections():
        store = ReadModelStore(databases[projection.source], projection)
        store.create_tables()
        runners.append(ProjectionRunner(projection, apps[projection.source], store,
                                        deleted=workspaces.deleted_workspace_ids))
    fill_hourly_rollups(databases["Telemetry"])  # an installation older than the hourly rollups
    fill_event_minutes(databases["Telemetry"])  # or than the minute counts
    fill_enrichment_reach(databases["Telemetry"])  # or than the enrichment's reach
    enriched = SqlEnrichedQueries(databases["Telemetry"])
    alert_outbox = alert_deliveries(databases["Alerts"])
    webhooks, alert_webhooks = (WebhookDeliveries(
        store, HttpWebhookSender(allow_private=settings.allow_private_webhooks,
                                 timeout=settings.webhook_timeout_seconds),
        recipients, clock, DeliveryPolicy(max_attempts=settings.webhook_max_attempts,
                                          backoff_seconds=settings.webhook_backoff_seconds))
        for store, recipients in ((deliveries, PageSubscribers(statuspages)),
                                  (alert_outbox, AlertChannels(alerts, DashboardLinks(
                                      settings.public_url, workspaces.slug_of)))))
    analytics = RollupAnalyticsQueries(databases["Telemetry"])
    alert_queries = SqlAlertQueries(databases["Alerts"])
    alerts.rule_limit = settings.alert_rules_max_per_workspace
    alerts.has_monitor = monitoring.has_monitor
    alerts_read_model = next(r for r in runners if r.name == AlertsProjection.name)

    def listed_rule_ids(workspace_id: UUID) -> list[str]:
        """The rules of a workspace whose rules predate books (the earlier release's): listed
        only once the read model has read the whole Alerts log, so the book's count is exact."""
        if not alerts_read_model.reaches_head(settings.read_wait_seconds):
            raise NotReadyError("this project's alert rules are still being counted (Beacon's "
                                "read models are behind); retry in a few seconds")
        return alert_queries.rule_ids(str(workspace_id))

    alerts.listed_rule_ids = listed_rule_ids
    alert_evaluation = evaluation(alerts, alert_queries, analytics, databases, runners,
                                  telemetry, monitoring, clock, monitor_links.under_maintenance,
                                  settings.alert_settle_seconds,
                                  enriched.reach if settings.enrichment else None)
    salts = SqlVisitorSalts(databases["Telemetry"])
    salts.create_tables()
    visitors = Visitors(salts, clock)
    telemetry_queries = SqlTelemetryQueries(databases["Telemetry"])
    export_files = ExportFiles(settings.data_dir / "exports", databases["StatusPages"],
                               databases.get("Telemetry"))
    deletions = ProjectDeletions(workspaces, SqlWorkspacePurge(
        purge_plan(databases, all_projections(), delivery_tables()),
        catch_up=partial(catch_up, runners)))
    jobs = Jobs(
        runners=runners, telemetry=telemetry, telemetry_queries=telemetry_queries,
        session_timeout=timedelta(minutes=settings.session_timeout_minutes),
        monitoring=monitoring,
        outages=OutageIncidents(monitoring, statuspages, monitor_links.under_maintenance),
        upkeep=StatusUpkeep(statuspages, monitor_links, maintenances),
        webhooks=webhooks, exports=exports, export_files=export_files,
        export_ttl=timedelta(hours=settings.export_ttl_hours), alert_evaluation=alert_evaluation,
        alert_webhooks=alert_webhooks,
        alert_outbox=alerts_read_model,
        evaluation_queued=QueuedRun(f"evaluate_alerts:{settings.namespace}",
                                    settings.redis_url),
        deletions=deletions, visitors=visitors,
        webhook_history=timedelta(days=settings.webhook_history_days))
    broker = build_broker(settings.redis_url, f"beacon:{settings.namespace}")
    configured_objects = ConfiguredObjects(statuspages, monitoring, alerts)
    return Beacon(
        settings=settings, workspaces=workspaces, statuspages=statuspages, telemetry=telemetry,
        monitoring=monitoring, exports=exports, configuration=configuration, databases=databases,
        runners=runners,
        incidents=SqlIncidentQueries(databases["StatusPages"]),
        telemetry_queries=telemetry_queries,
        analytics=analytics, monitors=monitors,
        public_pages=SqlStatusPageQueries(databases["StatusPages"], monitors),
        webhooks=webhooks, webhook_log=deliveries, alert_delivery_log=alert_outbox,
        export_files=export_files,
        limiter=RateLimiter(settings.redis_url, settings.namespace), broker=broker, jobs=jobs,
        actors=declare_actors(jobs, broker),
        tracking_plans=TrackingPlans(configuration, settings.plan_check_seconds),
        configured_objects=configured_objects,
        deploys=Deploys(configuration, configured_objects, joint_recorder(
            [configuration, statuspages, monitoring, alerts], settings.uses_postgres)),
        configuration_queries=SqlConfigurationQueries(databases["Configuration"]),
        stored_events=SqlStoredEvents(databases["Telemetry"]),
        components=SqlComponentQueries(databases["StatusPages"]), maintenances=maintenances,
        monitor_activity=SqlMonitorActivityQueries(databases["Monitoring"]),
        visitors=visitors, enricher=enricher,
        enriched=enriched,
        alerts=alerts, alert_queries=alert_queries, alert_evaluation=alert_evaluation,
        alert_activity=SqlAlertActivity(databases["Alerts"]),
        alert_webhooks=alert_webhooks,
        api_keys=SqlApiKeyQueries(databases["Workspaces"]),
        deletions=deletions,
        stream=stream, stream_seats=stream_seats(
            settings.redis_url, settings.namespace, settings.stream_max_per_workspace,
            renewed_every=settings.stream_key_check_seconds),
        stream_publishers=[t for t in told if isinstance(t, StreamPublisher)],
        doorbell=RedisDoorbell(settings.redis_url, settings.namespace)
        if settings.redis_url and not settings.enrichment else None,
    )
