"""Components and maintenance of a public status page, as its JSON summary shows them."""

from __future__ import annotations

from typing import Any

from application.statuspages import update_json
from interfaces.rest.representations import iso
from projections.public_components import PageParts, PublicMaintenance


def maintenance_summary_json(item: PublicMaintenance) -> dict[str, Any]:
    m = item.maintenance
    return {"id": str(m.id), "title": m.title, "state": m.state,
            "scheduled_for": iso(m.scheduled_for), "scheduled_until": iso(m.scheduled_until),
            "started_at": iso(m.started_at), "components": item.components,
            "updates": [update_json(u) for u in item.updates]}


def parts_json(parts: PageParts) -> dict[str, Any]:
    return {
        "components": [
            {"group": group, "components": [
                {"id": str(row.component.id), "name": row.component.name,
                 "description": row.component.description, "status": row.status,
                 "uptime_percent": row.uptime_percent,
                 "days": [{"date": d.day, "state": d.state, "uptime_percent": d.uptime_percent,
                           "lost_seconds": d.lost_seconds} for d in row.days]}
                for row in rows]}
            for group, rows in parts.groups],
        "maintenance": {"ongoing": [maintenance_summary_json(m) for m in parts.ongoing],
                        "upcoming": [maintenance_summary_json(m) for m in parts.upcoming]},
    }
