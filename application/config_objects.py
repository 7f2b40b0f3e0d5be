"""The pages, monitors and alert rules a configuration owns, brought to what it says.

A deploy compares the document with what exists and decides, without saving, every change: the
missing pages and monitors made (ids derived from the workspace and the name in beacon.yml),
monitors' settings and alert rules changed to match, rules dropped from the file deleted. The
deploy saves those changes with its own event, in one transaction (application/config_deploys.py,
docs/decisions/config-as-code.md). Comparing with what exists, not with the previous document,
also completes objects an older Beacon failed to make after a deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from application.alerts import AlertsApplication, with_ids
from application.base import BeaconApplication
from application.monitoring import MonitoringApplication
from application.statuspages import StatusPagesApplication
from domain.actor import Actor
from domain.alert import Alert
from domain.configuration import config_monitor_id
from domain.errors import NotFoundError, ValidationError
from domain.monitor import Monitor
from domain.page import Page, page_id


@dataclass
class ObjectChanges:
    """What a deploy changes besides its own event: aggregates per application, unsaved, and
    what to show once (a new monitor's token, a new channel's secret)."""

    saves: list[tuple[BeaconApplication, list[Any]]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)

    def add(self, app: BeaconApplication, aggregate: Any) -> None:
        self.saves.append((app, [aggregate]))


def unknown(field_name: str, message: str) -> ValidationError:
    return ValidationError(message, details=[{"field": field_name, "message": "unknown"}])


class ConfiguredObjects:
    def __init__(self, statuspages: StatusPagesApplication, monitoring: MonitoringApplication,
                 alerts: AlertsApplication):
        self.statuspages = statuspages
        self.monitoring = monitoring
        self.alerts = alerts

    def check(self, workspace_id: UUID, document: dict[str, Any]) -> None:
        """Refuse, before anything is written, a monitor linked to a page that neither the
        document nor the workspace has, and an alert on a monitor the document does not name."""
        pages, monitors = set(document.get("pages") or {}), set(document.get("monitors") or {})
        for name, spec in (document.get("monitors") or {}).items():
            slug = spec.get("page")
            if slug and slug not in pages and page_id(workspace_id, slug) not in self.statuspages.repository:
                raise unknown(f"monitors.{name}.page",
                              f"monitor {name!r} names page {slug!r}, which does not exist")
        for name, spec in (document.get("alerts") or {}).items():
            watched = spec["condition"].get("monitor")
            if spec["condition"].get("type") == "monitor" and watched is not None \
                    and watched not in monitors:
                raise unknown(f"alerts.{name}.condition.monitor",
                              f"alert {name!r} watches monitor {watched!r}, which beacon.yml "
                              "does not name")

    def changes(self, workspace_id: UUID, document: dict[str, Any], *,
                owned_before: dict[str, UUID], owned: dict[str, UUID], actor: Actor,
                at: datetime) -> ObjectChanges:
        """Every change that brings the workspace's objects to `document`; `owned_before` and
        `owned` are the alert rules (name → id) of the version before and of this one."""
        changes = ObjectChanges()
        self._pages(workspace_id, document, actor, changes)
        self._monitors(workspace_id, document, actor, changes)
        self._alerts(workspace_id, document, owned_before, owned, actor, at, changes)
        return changes

    def _pages(self, workspace_id: UUID, document: dict[str, Any], actor: Actor,
               changes: ObjectChanges) -> None:
        for slug, spec in (document.get("pages") or {}).items():
            if page_id(workspace_id, slug) not in self.statuspages.repository:
                page = Page.create(workspace_id=workspace_id, slug=slug, name=spec["name"],
                                   actor=actor)
                changes.add(self.statuspages, page)
                changes.created.append({"kind": "page", "name": slug, "id": str(page.id)})
                continue
            page = self.statuspages.get_page(workspace_id, slug)
            page.rename(spec["name"], actor=actor, at=self.statuspages.clock())
            if page.pending_events:
                changes.add(self.statuspages, page)

    def _monitors(self, workspace_id: UUID, document: dict[str, Any], actor: Actor,
                  changes: ObjectChanges) -> None:
        for name, spec in (document.get("monitors") or {}).items():
            settings = {"period_seconds": spec.get("period_seconds"),
                        "grace_seconds": spec.get("grace_seconds"), "page_slug": spec.get("page")}
            monitor_id = config_monitor_id(workspace_id, name)
            if monitor_id not in self.monitoring.repository:
                monitor, issued, token = self.monitoring.new_monitor(
                    workspace_id, name=name, actor=actor, monitor_id=monitor_id, **settings)
                changes.saves.append((self.monitoring, [monitor, issued]))
                changes.created.append({"kind": "monitor", "name": name, "id": str(monitor_id),
                                        "token": token})
                continue
            existing: Monitor = self.monitoring.repository.get(monitor_id)
            if existing.status == "deleted":  # released once, then deleted through the API
                raise ValidationError(
                    f"monitor {name!r} was deleted after beacon.yml released it: give it "
                    "another name", details=[{"field": f"monitors.{name}", "message": "deleted"}])
            existing.reconfigure(settings, actor=actor, at=self.monitoring.clock())
            changes.add(self.monitoring, existing)

    def _alerts(self, workspace_id: UUID, document: dict[str, Any],
                owned_before: dict[str, UUID], owned: dict[str, UUID], actor: Actor,
                at: datetime, changes: ObjectChanges) -> None:
        book = self.alerts.book(workspace_id)  # the cap on rules holds for deploys too
        for name, alert_id in owned_before.items():
            if owned.get(name) != alert_id:  # dropped from beacon.yml: the rule is deleted
                dropped = self._alert(alert_id)
                if dropped is not None:
                    dropped.delete(actor=actor, at=at)
                    book.strike(dropped.id)
                    changes.add(self.alerts, dropped)
        for name, spec in (document.get("alerts") or {}).items():
            condition = self._condition(workspace_id, spec["condition"])
            alert = self._alert(owned[name])
            if alert is None:
                alert = Alert.create(alert_id=owned[name], workspace_id=workspace_id, name=name,
                                     condition=condition, channels=with_ids(spec["channels"]),
                                     cooldown_seconds=spec["cooldown_seconds"], actor=actor, at=at,
                                     description=spec.get("description"))
                book.enter(alert.id, limit=self.alerts.rule_limit)
            else:
                given = {"condition": condition, "cooldown_seconds": spec["cooldown_seconds"],
                         "description": spec.get("description")}
                if not same_channels(alert.channels, spec["channels"]):
                    given["channels"] = with_ids(spec["channels"])
                alert.change(actor=actor, at=at, **given)
            if any(isinstance(e, (Alert.Created, Alert.Changed)) and
                   (isinstance(e, Alert.Created) or "channels" in e.fields)
                   for e in alert.pending_events):
                self.alerts.check_channels(alert)
                changes.created.append({"kind": "alert", "name": name, "id": str(alert.id),
                                        "channels": alert.channels})  # new secrets: shown once
            changes.add(self.alerts, alert)
        if book.pending_events:
            changes.add(self.alerts, book)

    def _alert(self, alert_id: UUID) -> Alert | None:
        try:
            alert = self.alerts.get_alert(None, alert_id)
        except NotFoundError:
            return None
        return None if alert.deleted else alert

    @staticmethod
    def _condition(workspace_id: UUID, condition: dict[str, Any]) -> dict[str, Any]:
        """A condition as the alert takes it: a monitor named in beacon.yml becomes its id."""
        if condition.get("type") == "monitor" and "monitor" in condition:
            named = {k: v for k, v in condition.items() if k != "monitor"}
            return {**named, "monitor_id": str(config_monitor_id(workspace_id,
                                                                  condition["monitor"]))}
        return condition


def same_channels(kept: list[dict[str, str]], given: list[dict[str, Any]]) -> bool:
    """Whether beacon.yml's channels are the rule's: the same URLs in order, and the same
    secret where the file gives one (a secret Beacon made is kept while the URL stays)."""
    return len(kept) == len(given) and all(
        k["url"] == g.get("url") and g.get("secret") in (None, k["secret"])
        for k, g in zip(kept, given, strict=True))
