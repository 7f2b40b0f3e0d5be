"""Background jobs (DESIGN.md decision 7): projections' catch-up, quiet sessions, overdue monitors,
webhook deliveries and exports.

Each job is a plain method of `Jobs`, so tests run it synchronously with a controlled clock;
`declare_actors` wraps each in a dramatiq actor on the broker the composition root built (no
import-time broker), and the scheduler (started by `Beacon.start_worker`) enqueues the periodic ones.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import dramatiq

from application.alert_evaluation import AlertEvaluation
from application.deletions import ProjectDeletions
from application.exports import ExportsApplication
from application.monitored_components import StatusUpkeep
from application.monitoring import MonitoringApplication
from application.outages import OutageIncidents
from application.telemetry import TelemetryApplication
from application.visitors import Visitors
from application.webhooks import DeliveryKey, WebhookDeliveries
from domain.errors import NotFoundError
from domain.monitor import Monitor
from domain.time import micros
from infrastructure.export_files import ExportFiles
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.queued_runs import QueuedRun
from infrastructure.scheduler import PeriodicJob
from projections.telemetry import TelemetryQueries

log = logging.getLogger("beacon.jobs")
SESSION_SWEEP_SECONDS, MONITOR_CHECK_SECONDS = 60, 15
WEBHOOK_SWEEP_SECONDS, EXPORT_PURGE_SECONDS = 2, 600
# A deleted project's purge that failed when it was asked for (it answered 204: the deletion
# holds) is tried again this often, and at every start-up.
DELETION_RETRY_SECONDS = 300
WEBHOOK_PRUNE_SECONDS = 3600  # deliveries older than BEACON_WEBHOOK_HISTORY_DAYS are forgotten
SALT_SWEEP_SECONDS = 60  # yesterday's visitor salt is destroyed within a minute of midnight UTC
# Alert evaluation is asked for by the projector as soon as a read model the rules measure moves
# (Beacon.start_projections), and sweeps the alerts' outbox as soon as a rule changed state; the
# timer is for the grid's instants (silence) and a backstop for a request lost with a process.
ALERT_EVALUATION_SECONDS = 2
# Runs asked for by moves start this long after the ask: under load the read models move a few
# hundred times a second, and one run every half second reads all of it at once (one evaluation
# of a touched rule per page instead of one per batch) for half a second of alert delay.
ALERT_EVALUATION_GAP = timedelta(milliseconds=500)


def milliseconds(span: timedelta) -> int:
    """A dramatiq delay: whole milliseconds, rounded up."""
    return math.ceil(span.total_seconds() * 1000)


@dataclass
class Jobs:
    """The work Beacon does in the background, and what each job works with."""

    runners: list[ProjectionRunner]
    telemetry: TelemetryApplication
    telemetry_queries: TelemetryQueries
    session_timeout: timedelta
    monitoring: MonitoringApplication
    outages: OutageIncidents
    upkeep: StatusUpkeep
    webhooks: WebhookDeliveries
    exports: ExportsApplication
    export_files: ExportFiles
    export_ttl: timedelta
    alert_evaluation: AlertEvaluation
    alert_webhooks: WebhookDeliveries
    alert_outbox: ProjectionRunner  # the alerts projection: it writes a state change's deliveries
    evaluation_queued: QueuedRun
    deletions: ProjectDeletions
    visitors: Visitors
    webhook_history: timedelta  # BEACON_WEBHOOK_HISTORY_DAYS

    def destroy_salts(self) -> int:
        """Destroy the visitor salts of days that are over (minutes after midnight UTC)."""
        destroyed = self.visitors.destroy_expired()
        if destroyed:
            log.info("destroyed %d visitor salt(s) of days that are over", destroyed)
        return destroyed

    def prune_webhooks(self) -> int:
        """Forget the deliveries of both outboxes (subscribers', alerts') older than the
        webhook history, with their attempts; returns how many."""
        pruned = sum(outbox.prune(self.webhook_history)
                     for outbox in (self.webhooks, self.alert_webhooks))
        if pruned:
            log.info("forgot %d webhook deliveries older than %s", pruned, self.webhook_history)
        return pruned

    def catch_up_projections(self) -> int:
        """Bring every read model up to the head of its log; returns how many pages were applied."""
        return catch_up(self.runners)

    def finish_deletions(self) -> int:
        """Purge the rows of deleted projects whose purge has not finished; returns how many."""
        finished = self.deletions.finish_deletions()
        if finished:
            log.info("finished the purge of %d deleted project(s)", finished)
        return finished

    def expire_sessions(self) -> int:
        """End sessions with no activity for the configured timeout (end_reason 'timeout')."""
        cutoff = micros(self.telemetry.clock() - self.session_timeout)
        ended = 0
        for row in self.telemetry_queries.quiet_sessions(cutoff):
            ended += self.telemetry.expire_session(UUID(row["workspace_id"]), row["session_id"],
                                                   row["last"])
        if ended:
            log.info("ended %d quiet session(s)", ended)
        return ended

    def check_monitors(self) -> int:
        """Mark overdue monitors late or down, open or close their outage incidents, then start
        and complete maintenance and move the components linked to monitors."""
        checked: list[Monitor] = []
        due = self.monitoring.check_due(lambda m: checked.append(self.outages.reconcile(m)))
        self.upkeep.run(checked)
        return due

    def check_monitor(self, monitor_id: str) -> None:
        """Check one monitor now (a beat that ended an outage closes its incident without waiting)."""
        self.outages.check(UUID(monitor_id))

    def deliver_webhook(self, subscriber_id: str, incident_id: str, version: int,
                        attempt: int) -> None:
        self.webhooks.deliver(DeliveryKey(subscriber_id, incident_id, version), attempt)

    def evaluate_alerts(self) -> int:
        """Evaluate the alert rules new batches and the clock may have changed; when one changed
        state, its deliveries are written now (the projector may get there too: the page is
        applied once either way) so that they can be swept at once."""
        changed = self.alert_evaluation.run()
        if changed:
            self.alert_outbox.catch_up()
        return changed

    def deliver_alert_webhook(self, channel_id: str, alert_id: str, version: int,
                              attempt: int) -> None:
        self.alert_webhooks.deliver(DeliveryKey(channel_id, alert_id, version), attempt)

    def run_export(self, export_id: str) -> str:
        """Write a pending export's file and mark it completed (or failed, with the reason)."""
        export = self.exports.get_export(None, UUID(export_id))
        if export.status != "pending":
            return export.status
        try:
            file_name, rows, size = self.export_files.write(export)
        except Exception as error:  # noqa: BLE001 - the reason is recorded on the export
            log.exception("export %s failed", export_id)
            return self.exports.fail_export(export.id, f"{type(error).__name__}: {error}").status
        return self.exports.complete_export(export.id, file_name=file_name, rows=rows,
                                            size_bytes=size, ttl=self.export_ttl).status

    def purge_exports(self) -> int:
        """Delete the files of expired (or unknown) exports; returns how many were deleted."""
        now = self.exports.clock()
        deleted = 0
        for path in self.export_files.files():
            try:
                export = self.exports.get_export(None, UUID(path.name.split(".", 1)[0]))
                keep = export.status_at(now) in ("pending", "completed")
            except (ValueError, NotFoundError):
                keep = False
            if not keep:
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted


def catch_up(runners: list[ProjectionRunner]) -> int:
    """Bring these read models up to the head of their logs; returns how many pages were applied."""
    pages = sum(runner.catch_up() for runner in runners)
    log.info("caught up %d page(s)", pages)
    return pages


@dataclass
class Actors:
    """The jobs as dramatiq actors: `.send(...)` queues one."""

    catch_up_projections: dramatiq.Actor[Any, Any]
    expire_sessions: dramatiq.Actor[Any, Any]
    check_monitors: dramatiq.Actor[Any, Any]
    check_monitor: dramatiq.Actor[Any, Any]
    sweep_webhooks: dramatiq.Actor[Any, Any]
    deliver_webhook: dramatiq.Actor[Any, Any]
    run_export: dramatiq.Actor[Any, Any]
    purge_exports: dramatiq.Actor[Any, Any]
    evaluate_alerts: dramatiq.Actor[Any, Any]
    sweep_alert_webhooks: dramatiq.Actor[Any, Any]
    deliver_alert_webhook: dramatiq.Actor[Any, Any]
    finish_deletions: dramatiq.Actor[Any, Any]
    destroy_salts: dramatiq.Actor[Any, Any]
    prune_webhooks: dramatiq.Actor[Any, Any]
    request_alert_evaluation: Callable[[], None]  # queues one unless one is waiting already


def declare_actors(jobs: Jobs, broker: dramatiq.Broker) -> Actors:
    """Each job as a dramatiq actor (results are logged, not returned: there is no result store)."""

    def actor(name: str, work: Callable[..., object], retries: int = 3) -> dramatiq.Actor[Any, Any]:
        def run(*args: Any) -> None:
            work(*args)

        return dramatiq.actor(actor_name=name, broker=broker, queue_name="beacon",
                              max_retries=retries)(run)

    deliver = actor("deliver_webhook", jobs.deliver_webhook)
    deliver_alert = actor("deliver_alert_webhook", jobs.deliver_alert_webhook)

    def sweep_webhooks() -> None:
        """Claim due deliveries and queue one job per attempt."""
        jobs.webhooks.sweep(lambda key, attempt: deliver.send(*key.values(), attempt))

    def sweep_alert_webhooks() -> None:
        jobs.alert_webhooks.sweep(lambda key, attempt: deliver_alert.send(*key.values(), attempt))

    def evaluate_alerts() -> None:
        jobs.evaluation_queued.started()  # what moves from now on asks for the next run
        if jobs.evaluate_alerts():
            sweep_alert_webhooks()  # told now, not at the next sweep
        due = jobs.alert_evaluation.due  # entries left for being too recent: run once they settle
        if jobs.alert_evaluation.more:  # a backlog, a slice a run: the next slice at once
            due = jobs.alert_evaluation.clock()
        if due is not None and jobs.evaluation_queued.claim():
            wait = max(due - jobs.alert_evaluation.clock(), ALERT_EVALUATION_GAP)
            evaluate.send_with_options(delay=milliseconds(wait))

    evaluate = actor("evaluate_alerts", evaluate_alerts, retries=0)

    def request_alert_evaluation() -> None:
        if jobs.evaluation_queued.claim():
            evaluate.send_with_options(delay=milliseconds(ALERT_EVALUATION_GAP))

    return Actors(
        catch_up_projections=actor("catch_up_projections", jobs.catch_up_projections),
        expire_sessions=actor("expire_sessions", jobs.expire_sessions),
        check_monitors=actor("check_monitors", jobs.check_monitors, retries=0),
        check_monitor=actor("check_monitor", jobs.check_monitor),
        sweep_webhooks=actor("sweep_webhooks", sweep_webhooks, retries=0),
        deliver_webhook=deliver,
        run_export=actor("run_export", jobs.run_export),
        purge_exports=actor("purge_exports", jobs.purge_exports, retries=0),
        evaluate_alerts=evaluate,
        sweep_alert_webhooks=actor("sweep_alert_webhooks", sweep_alert_webhooks, retries=0),
        deliver_alert_webhook=deliver_alert,
        finish_deletions=actor("finish_deletions", jobs.finish_deletions, retries=0),
        destroy_salts=actor("destroy_salts", jobs.destroy_salts, retries=0),
        prune_webhooks=actor("prune_webhooks", jobs.prune_webhooks, retries=0),
        request_alert_evaluation=request_alert_evaluation,
    )


def periodic_jobs(actors: Actors) -> list[PeriodicJob]:
    """What the scheduler enqueues, and how often."""
    return [PeriodicJob("expire_sessions", SESSION_SWEEP_SECONDS, actors.expire_sessions.send),
            PeriodicJob("check_monitors", MONITOR_CHECK_SECONDS, actors.check_monitors.send),
            PeriodicJob("sweep_webhooks", WEBHOOK_SWEEP_SECONDS, actors.sweep_webhooks.send),
            PeriodicJob("purge_exports", EXPORT_PURGE_SECONDS, actors.purge_exports.send),
            PeriodicJob("evaluate_alerts", ALERT_EVALUATION_SECONDS,
                        actors.request_alert_evaluation),
            PeriodicJob("sweep_alert_webhooks", WEBHOOK_SWEEP_SECONDS,
                        actors.sweep_alert_webhooks.send),
            PeriodicJob("finish_deletions", DELETION_RETRY_SECONDS, actors.finish_deletions.send),
            PeriodicJob("destroy_salts", SALT_SWEEP_SECONDS, actors.destroy_salts.send),
            PeriodicJob("prune_webhooks", WEBHOOK_PRUNE_SECONDS, actors.prune_webhooks.send)]
