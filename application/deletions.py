"""Deleting a project: the Workspace.Deleted event first, then the read models' purge.

The event is the deletion: from it on, the project's keys, members, pages and heartbeat tokens are
refused, and `deleted_workspace_ids` tells the projections to leave its events alone. The purge
follows (its rows leave every read model) and is itself recorded (Workspace.Purged), so a purge a
crash interrupted (or that failed) is finished at the next start-up, and by the worker every five
minutes (`ProjectDeletions.finish_deletions`, interfaces/jobs.py). The
events stay: they are the audit of what the project was and who deleted it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Notification
from eventsourcing.utils import EnvType

from application.base import BeaconApplication, Clock, retry_on_conflict, system_clock
from domain.actor import Actor
from domain.errors import WorkspaceNotFoundError
from domain.workspace import Workspace

log = logging.getLogger("beacon.deletions")
DELETED_TOPIC = "domain.workspace:Workspace.Deleted"
PURGED_TOPIC = "domain.workspace:Workspace.Purged"
DELETED_SET_TTL = 1.0  # seconds a process trusts its list of deleted workspaces before re-reading


class DeletionCommands(BeaconApplication):
    """The Workspaces application's side of a deletion: record it, know it, mark it purged."""

    def __init__(self, env: EnvType | None = None, clock: Clock = system_clock) -> None:
        super().__init__(env, clock)
        self._deleted: set[UUID] = set()
        self._deleted_read_to = 0
        self._deleted_read_at = float("-inf")
        self._deleted_lock = threading.Lock()

    @retry_on_conflict
    def delete_workspace(self, workspace_id: UUID, *, actor: Actor,
                         confirm: str | None = None, confirmed: bool = False) -> Workspace:
        """Record the deletion; a person must have typed the slug (`confirm`), the admin API and
        the command line after its prompt say `confirmed`. Deleting twice is 404."""
        workspace = self._live_workspace(workspace_id)
        if not confirmed:
            workspace.check_confirmation(confirm)
        workspace.delete(actor, self.clock())
        self.save(workspace)
        with self._deleted_lock:
            self._deleted.add(workspace.id)
        return workspace

    def _live_workspace(self, workspace_id: UUID) -> Workspace:
        try:
            workspace: Workspace = self.repository.get(workspace_id)
        except AggregateNotFoundError:
            raise WorkspaceNotFoundError("workspace not found") from None
        if workspace.deleted:
            raise WorkspaceNotFoundError("workspace not found")
        return workspace

    def is_deleted(self, workspace_id: UUID) -> bool:
        """Whether the workspace was deleted (by any process: read from the log, at most
        DELETED_SET_TTL seconds old; this process's own deletions at once)."""
        return workspace_id in self.deleted_workspace_ids()

    def deleted_workspace_ids(self) -> frozenset[UUID]:
        """Every deleted workspace; the log is read only for deletions newer than the last read."""
        with self._deleted_lock:
            if time.monotonic() - self._deleted_read_at >= DELETED_SET_TTL:
                head = self.recorder.max_notification_id() or 0
                for notification in self._notifications_after(self._deleted_read_to,
                                                              DELETED_TOPIC, head):
                    self._deleted.add(UUID(str(notification.originator_id)))
                self._deleted_read_to = max(head, self._deleted_read_to)
                self._deleted_read_at = time.monotonic()
            return frozenset(self._deleted)

    def _notifications_after(self, position: int, topic: str,
                             head: int | None = None) -> list[Notification]:
        """The log's notifications of `topic` after `position` (up to `head`), oldest first."""
        found: list[Notification] = []
        while True:
            page = self.recorder.select_notifications(start=position + 1, limit=500, stop=head,
                                                      topics=[topic])
            found.extend(page)
            if len(page) < 500:
                return found
            position = page[-1].id

    def unpurged_deletions(self) -> list[UUID]:
        """Deleted workspaces whose read-model rows may still be there (a purge never finished)."""
        deleted = [UUID(str(n.originator_id)) for n in self._notifications_after(0, DELETED_TOPIC)]
        purged = {UUID(str(n.originator_id)) for n in self._notifications_after(0, PURGED_TOPIC)}
        return [workspace_id for workspace_id in deleted if workspace_id not in purged]

    @retry_on_conflict
    def mark_purged(self, workspace_id: UUID, rows: dict[str, int]) -> None:
        workspace: Workspace = self.repository.get(workspace_id)
        workspace.mark_purged(rows, self.clock())
        self.save(workspace)


class ReadModelPurge(Protocol):
    """The read models' side: bring them up to date, then delete a workspace's rows."""

    def catch_up(self) -> None: ...

    def purge(self, workspace_id: UUID) -> dict[str, int]:
        """Delete every read-model row of the workspace; answers how many per table."""
        ...


class ProjectDeletions:
    """A deletion from start to finish: the event, then the purge, then its record."""

    def __init__(self, workspaces: DeletionCommands, read_models: ReadModelPurge):
        self.workspaces = workspaces
        self.read_models = read_models

    def delete(self, workspace_id: UUID, *, actor: Actor, confirm: str | None = None,
               confirmed: bool = False) -> Workspace:
        """Delete the project now and purge its rows before answering (a purge that fails is
        finished by the worker's next retry or at the next start-up; the deletion holds already)."""
        workspace = self.workspaces.delete_workspace(workspace_id, actor=actor, confirm=confirm,
                                                     confirmed=confirmed)
        try:
            self.purge(workspace.id)
        except Exception:  # noqa: BLE001 - recorded already; finished later
            log.exception("purging deleted workspace %s failed; the worker or the next start-up "
                          "finishes it",
                          workspace.id)
        return workspace

    def purge(self, workspace_id: UUID) -> dict[str, int]:
        """Project everything recorded before the deletion (so nothing of it lands after the
        purge), delete the workspace's rows, and record that it is done."""
        self.read_models.catch_up()
        rows = self.read_models.purge(workspace_id)
        self.workspaces.mark_purged(workspace_id, rows)
        log.info("purged deleted workspace %s: %d row(s)", workspace_id, sum(rows.values()))
        return rows

    def finish_deletions(self) -> int:
        """Purge every deletion recorded but not purged yet (start-up); returns how many."""
        pending = self.workspaces.unpurged_deletions()
        for workspace_id in pending:
            self.purge(workspace_id)
        return len(pending)


DeletedWorkspaces = Callable[[], frozenset[UUID]]
