"""Which events of a log belong to deleted workspaces, so that no read model takes them in.

A deleted project's events stay in the log (they are its audit), so replaying a log from the start
(a rebuild) meets them all again. The first event of every per-workspace aggregate names its
workspace (`Incident.Opened`, `Monitor.Created`, `Batch.Accepted`…); later events often do not
(`Incident.Changed`), so the aggregates met in a deleted workspace are remembered and their later
events left out too. A live runner meets only what comes after a deletion, which the purge
(infrastructure/workspace_purge.py) follows anyway; a rebuild meets everything, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

DeletedWorkspaces = Callable[[], frozenset[UUID]]


class DeletedWorkspaceEvents:
    """Tells, event by event in log order, whether it belongs to a deleted workspace."""

    def __init__(self, deleted: DeletedWorkspaces):
        self._deleted_now = deleted
        self._deleted: frozenset[str] = frozenset()
        self._aggregates: set[UUID] = set()  # aggregates found in deleted workspaces

    def refresh(self) -> None:
        """Read the deleted workspaces again (once per page: cheap, and a deletion is seen soon)."""
        self._deleted = frozenset(str(w) for w in self._deleted_now())

    def drops(self, event: Any) -> bool:
        if not self._deleted:
            return False
        originator = event.originator_id
        if originator in self._aggregates:
            return True
        workspace = getattr(event, "workspace_id", None)
        if workspace is not None and str(workspace) in self._deleted:
            self._aggregates.add(originator)
            return True
        return False
