"""How the composition root builds alert evaluation and the alerts' outbox (kept beside
`bootstrap.py`, which calls these, so that it stays one screenful per concern)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from application.alert_evaluation import AlertEvaluation
from application.alert_sources import (
    MONITORING_TOPICS,
    RULE_TOPICS,
    TELEMETRY_TOPICS,
    LogSource,
    received,
    recorded,
    touched_by_monitoring,
    touched_by_telemetry,
    touches_nothing,
)
from application.alerts import AlertsApplication
from application.base import Clock
from application.monitoring import MonitoringApplication
from application.telemetry import TelemetryApplication
from domain.enrichment import DIMENSIONS
from infrastructure.alert_meters import SqlThresholdMeter
from infrastructure.alert_queries import SqlAlertQueries, SqlEvaluationPositions
from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.arrival_meters import SqlExceptionGroupMeter, SqlMonitorMeter
from infrastructure.database import Database
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.webhook_deliveries import SqlDeliveryStore, attempts_table, state_table
from projections.alerts import ALERT_DELIVERIES

# The read models alert evaluation reads: the rules (`alerts`), and what they are measured on;
# `enriched_events` only by rules that filter on an enriched field ($country, …).
MEASURED = ("alerts", "events", "event_seconds", "exceptions", "monitors", "enriched_events")


def filters_enriched(rule: dict[str, Any]) -> bool:
    return any(f.get("key") in DIMENSIONS for f in rule["condition"].get("filters") or ())


def alert_sources(runners: list[ProjectionRunner], telemetry: TelemetryApplication,
                  monitoring: MonitoringApplication, alerts: AlertsApplication,
                  enriched_reach: Callable[[], int] | None = None) -> list[LogSource]:
    """The logs alert evaluation follows, each as far as the read models it measures have come:
    while a rule filters on an enriched field, as far as the enrichment has come too (an event
    is in that rule's count only once its country, browser, … are known): `enriched_reach`, the
    last source whose enrichment the read models hold, when the pipeline runs (the
    `enriched_events` read model's own position passes a source the pipeline has not enriched
    yet; without the pipeline nothing is enriched, and that position is all there is to wait
    for). The rules' own log moves the horizon only: a batch that arrives after a rule was
    written waits until the rules' list has it, instead of being read while the list does not."""
    position = {r.name: r.store.position for r in runners if r.name in MEASURED}
    enriched = enriched_reach or position["enriched_events"]

    def telemetry_ready(rules: list[dict[str, Any]]) -> int:
        ready = min(position["events"](), position["event_seconds"](), position["exceptions"]())
        if any(filters_enriched(rule) for rule in rules):
            ready = min(ready, enriched())
        return ready

    def monitoring_ready(rules: list[dict[str, Any]]) -> int:
        return position["monitors"]()

    def rules_ready(rules: list[dict[str, Any]]) -> int:
        return position["alerts"]()

    return [LogSource("telemetry", telemetry, TELEMETRY_TOPICS, telemetry_ready,
                      touched_by_telemetry, received),
            LogSource("monitoring", monitoring, MONITORING_TOPICS, monitoring_ready,
                      touched_by_monitoring, recorded, dated_back=True),
            LogSource("rules", alerts, RULE_TOPICS, rules_ready, touches_nothing, recorded)]


def alert_deliveries(db: Database) -> SqlDeliveryStore:
    """The alerts' outbox, with dispatch tables of its own beside it."""
    store = SqlDeliveryStore(db, ALERT_DELIVERIES, state_table("alert_delivery_state"),
                             attempts_table("alert_attempts"))
    store.create_tables()
    return store


def evaluation(alerts: AlertsApplication, rules: SqlAlertQueries, analytics: SqlAnalyticsQueries,
               databases: dict[str, Database], runners: list[ProjectionRunner],
               telemetry: TelemetryApplication, monitoring: MonitoringApplication,
               clock: Clock, under_maintenance: Callable[[UUID], bool],
               settle_seconds: float, enriched_reach: Callable[[], int] | None) -> AlertEvaluation:
    """Alert evaluation with one meter per kind of condition, following both logs."""
    positions = SqlEvaluationPositions(databases["Alerts"])
    positions.create_tables()
    return AlertEvaluation(
        alerts=alerts, rules=rules, positions=positions, clock=clock,
        meters={"threshold": SqlThresholdMeter(analytics),
                "exception_group": SqlExceptionGroupMeter(databases["Telemetry"]),
                "monitor": SqlMonitorMeter(databases["Monitoring"])},
        sources=alert_sources(runners, telemetry, monitoring, alerts, enriched_reach),
        under_maintenance=under_maintenance,
        settle=timedelta(seconds=settle_seconds))
