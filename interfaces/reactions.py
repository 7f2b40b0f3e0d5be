"""Reactions (DESIGN.md decision 7): overdue beats, webhook deliveries and exports as dramatiq jobs.

Each job is a plain function of a Beacon, so tests run it synchronously with a controlled clock; the
actors wrap them, and the scheduler (started by `Beacon.start_worker`) enqueues the periodic ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import dramatiq

from application.monitored_components import follow_monitors
from application.outages import OutageIncidents
from domain.errors import NotFoundError
from infrastructure.scheduler import PeriodicJob
from infrastructure.webhook_deliveries import DeliveryKey

if TYPE_CHECKING:
    from interfaces.bootstrap import Beacon

log = logging.getLogger("beacon.reactions")
MONITOR_CHECK_SECONDS, WEBHOOK_SWEEP_SECONDS, EXPORT_PURGE_SECONDS = 15, 2, 600


@dataclass
class Reactions:
    """The jobs that react to events and to the passing of time."""

    check_monitors: dramatiq.Actor[Any, Any]
    check_monitor: dramatiq.Actor[Any, Any]
    sweep_webhooks: dramatiq.Actor[Any, Any]
    deliver_webhook: dramatiq.Actor[Any, Any]
    run_export: dramatiq.Actor[Any, Any]
    purge_exports: dramatiq.Actor[Any, Any]


def outage_incidents(beacon: Beacon) -> OutageIncidents:
    return OutageIncidents(beacon.monitoring, beacon.statuspages,
                           beacon.monitor_links.under_maintenance)


def check_monitors(beacon: Beacon) -> int:
    """Mark overdue monitors late or down, open or close their outage incidents, and move the
    components linked to them."""
    outages = outage_incidents(beacon)
    due = beacon.monitors.due_for_check(beacon.monitoring.clock())
    checked = []
    for monitor_id in due:
        try:
            checked.append(outages.check(monitor_id))
        except Exception:  # one monitor's trouble must not starve the others
            log.exception("checking monitor %s failed", monitor_id)
    try:
        advance_maintenances(beacon)
        follow_monitors(beacon.statuspages, beacon.monitor_links, checked)
    except Exception:  # the next check runs them again
        log.exception("following monitors and maintenance failed")
    return len(due)


def advance_maintenances(beacon: Beacon) -> int:
    """Start and complete maintenance whose time has come, effective at the scheduled times."""
    due = beacon.maintenances.due(beacon.statuspages.clock())
    for maintenance_id in due:
        beacon.statuspages.advance_maintenance(maintenance_id)
    return len(due)


def check_monitor(beacon: Beacon, monitor_id: str) -> None:
    """Check one monitor now (a beat that ended an outage closes its incident without waiting)."""
    outage_incidents(beacon).check(UUID(monitor_id))


def run_export(beacon: Beacon, export_id: str) -> str:
    """Write a pending export's file and mark it completed (or failed, with the reason)."""
    export = beacon.exports.get_export(None, UUID(export_id))
    if export.status != "pending":
        return export.status
    try:
        file_name, rows, size = beacon.export_files.write(export)
    except Exception as error:  # noqa: BLE001 - the reason is recorded on the export
        log.exception("export %s failed", export_id)
        return beacon.exports.fail_export(export.id, f"{type(error).__name__}: {error}").status
    ttl = timedelta(hours=beacon.settings.export_ttl_hours)
    return beacon.exports.complete_export(export.id, file_name=file_name, rows=rows,
                                          size_bytes=size, ttl=ttl).status


def purge_exports(beacon: Beacon) -> int:
    """Delete the files of expired (or unknown) exports; returns how many were deleted."""
    now = beacon.exports.clock()
    deleted = 0
    for path in beacon.export_files.files():
        try:
            export = beacon.exports.get_export(None, UUID(path.name.split(".", 1)[0]))
            keep = export.status_at(now) in ("pending", "completed")
        except (ValueError, NotFoundError):
            keep = False
        if not keep:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def declare_reactions(beacon: Beacon, broker: dramatiq.Broker) -> Reactions:
    """Each reaction as a dramatiq actor (they return nothing: there is no result store)."""

    def actor(name: str, work: Callable[..., object], retries: int = 3) -> dramatiq.Actor[Any, Any]:
        def run(*args: Any) -> None:
            work(*args)

        return dramatiq.actor(actor_name=name, broker=broker, queue_name="beacon",
                              max_retries=retries)(run)

    def deliver_webhook(subscriber_id: str, incident_id: str, version: int, attempt: int) -> None:
        beacon.webhooks.deliver(DeliveryKey(subscriber_id, incident_id, version), attempt)

    deliver = actor("deliver_webhook", deliver_webhook)

    def sweep_webhooks() -> None:
        """Claim due deliveries and queue one job per attempt."""
        beacon.webhooks.sweep(lambda key, attempt: deliver.send(*key.values(), attempt))

    return Reactions(
        check_monitors=actor("check_monitors", lambda: check_monitors(beacon), retries=0),
        check_monitor=actor("check_monitor", lambda monitor_id: check_monitor(beacon, monitor_id)),
        sweep_webhooks=actor("sweep_webhooks", sweep_webhooks, retries=0),
        deliver_webhook=deliver,
        run_export=actor("run_export", lambda export_id: run_export(beacon, export_id)),
        purge_exports=actor("purge_exports", lambda: purge_exports(beacon), retries=0),
    )


def reaction_jobs(reactions: Reactions) -> list[PeriodicJob]:
    """What the scheduler enqueues for the reactions, and how often."""
    return [PeriodicJob("check_monitors", MONITOR_CHECK_SECONDS, reactions.check_monitors.send),
            PeriodicJob("sweep_webhooks", WEBHOOK_SWEEP_SECONDS, reactions.sweep_webhooks.send),
            PeriodicJob("purge_exports", EXPORT_PURGE_SECONDS, reactions.purge_exports.send)]
