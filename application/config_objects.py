"""The pages and monitors a configuration names, made to exist in their own contexts.

They live in other applications' stores (other SQLite files), which no transaction shares with
the configuration's: the deploy event is the commit point, and this makes its pages and
monitors exist afterwards. Ids derive from the workspace and the name in beacon.yml, so making
them is idempotent: run again after a failure (the next deploy of any version runs it for the
whole document in force), it creates only what is missing (docs/decisions/config-as-code.md).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.monitoring import MonitoringApplication
from application.statuspages import StatusPagesApplication
from domain.actor import Actor
from domain.configuration import config_monitor_id
from domain.errors import AlreadyExistsError, ValidationError
from domain.page import page_id


class ConfiguredObjects:
    def __init__(self, statuspages: StatusPagesApplication, monitoring: MonitoringApplication):
        self.statuspages = statuspages
        self.monitoring = monitoring

    def check(self, workspace_id: UUID, document: dict[str, Any]) -> None:
        """Refuse, before anything is written, a monitor linked to a page that neither the
        document nor the workspace has."""
        pages = set(document.get("pages") or {})
        for name, spec in (document.get("monitors") or {}).items():
            slug = spec.get("page")
            if slug and slug not in pages and page_id(workspace_id, slug) not in self.statuspages.repository:
                raise ValidationError(f"monitor {name!r} names page {slug!r}, which does not exist",
                                      details=[{"field": f"monitors.{name}.page",
                                                "message": "unknown page"}])

    def materialize(self, workspace_id: UUID, document: dict[str, Any],
                    actor: Actor) -> list[dict[str, Any]]:
        """Create the document's missing pages, then monitors; what was created (a monitor's
        token is in it: shown this once)."""
        created: list[dict[str, Any]] = []
        for slug, spec in (document.get("pages") or {}).items():
            if page_id(workspace_id, slug) in self.statuspages.repository:
                continue
            try:
                self.statuspages.create_page(workspace_id, slug=slug, name=spec["name"],
                                             actor=actor)
            except AlreadyExistsError:
                continue  # made concurrently by another deploy
            created.append({"kind": "page", "name": slug, "id": str(page_id(workspace_id, slug))})
        for name, spec in (document.get("monitors") or {}).items():
            monitor_id = config_monitor_id(workspace_id, name)
            if monitor_id in self.monitoring.repository:
                continue
            try:
                monitor, token = self.monitoring.create_monitor(
                    workspace_id, name=name, period_seconds=spec.get("period_seconds"),
                    grace_seconds=spec.get("grace_seconds"), page_slug=spec.get("page"),
                    actor=actor, monitor_id=monitor_id)
            except AlreadyExistsError:
                continue
            created.append({"kind": "monitor", "name": name, "id": str(monitor.id), "token": token})
        return created
