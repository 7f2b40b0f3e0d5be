"""The exports context: requests for a workspace's data as a file, completed by a worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from application.base import BeaconApplication, retry_on_conflict
from domain.actor import Actor
from domain.errors import ExportNotFoundError
from domain.export import Export
from domain.ids import new_id


class ExportsApplication(BeaconApplication):
    name = "Exports"

    def request_export(self, workspace_id: UUID, *, kind: str, format: str, start: datetime,
                       end: datetime, actor: Actor) -> Export:
        export = Export.request(export_id=new_id(), workspace_id=workspace_id, kind=kind,
                                format=format, start=start, end=end, actor=actor,
                                at=self.clock())
        self.save(export)
        return export

    def get_export(self, workspace_id: UUID | None, export_id: UUID) -> Export:
        """An export; given a workspace, another workspace's export is not found."""
        export: Export = self.load(export_id, ExportNotFoundError, "export",
                                   workspace_id=workspace_id, kind=Export)
        return export

    @retry_on_conflict
    def complete_export(self, export_id: UUID, *, file_name: str, rows: int, size_bytes: int,
                        ttl: timedelta) -> Export:
        export = self.get_export(None, export_id)
        export.complete(file_name=file_name, rows=rows, size_bytes=size_bytes, at=self.clock(),
                        ttl=ttl)
        self.save(export)
        return export

    @retry_on_conflict
    def fail_export(self, export_id: UUID, reason: str) -> Export:
        export = self.get_export(None, export_id)
        export.fail(reason, at=self.clock())
        self.save(export)
        return export
