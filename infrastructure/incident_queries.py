"""SQL for the incidents read model. The statements are portable; `Database` adapts placeholders."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from infrastructure.database import Database, Row
from projections.incidents import INCIDENTS, UPDATES, IncidentPage, IncidentQueries, IncidentSummary
from projections.model import from_micros


def incident_summary(row: Row) -> IncidentSummary:
    return IncidentSummary(
        id=UUID(row["id"]), workspace_id=UUID(row["workspace_id"]), page_slug=row["page_slug"],
        title=row["title"], impact=row["impact"], state=row["state"],
        resolved=bool(row["resolved"]), resolved_at=from_micros(row["resolved_at"]),
        created_at=from_micros(row["created_at"]),  # type: ignore[arg-type]
        updated_at=from_micros(row["updated_at"]),  # type: ignore[arg-type]
        version=int(row["version"]),
    )


class SqlIncidentQueries(IncidentQueries):
    def __init__(self, db: Database):
        self.db = db

    def list_incidents(self, workspace_id: UUID, page_slug: str, *, state: str | None = None,
                       after: tuple[int, str] | None = None, limit: int = 25) -> IncidentPage:
        where = ["workspace_id = %s", "page_slug = %s"]
        params: list[Any] = [str(workspace_id), page_slug]
        if state is not None:
            where.append("state = %s")
            params.append(state)
        total = self.db.query(f"SELECT COUNT(*) AS n FROM {INCIDENTS.name} "
                              f"WHERE {' AND '.join(where)}", params)[0]["n"]
        if after is not None:
            where.append("(created_at < %s OR (created_at = %s AND id < %s))")
            params += [after[0], after[0], after[1]]
        rows = self.db.query(
            f"SELECT * FROM {INCIDENTS.name} WHERE {' AND '.join(where)} "
            "ORDER BY created_at DESC, id DESC LIMIT %s", [*params, limit + 1])
        items = [incident_summary(r) for r in rows[:limit]]
        has_more = len(rows) > limit
        last = rows[limit - 1] if has_more else None
        return IncidentPage(items=items, has_more=has_more, total=int(total),
                            next_cursor=(int(last["created_at"]), last["id"]) if last else None)

    def updates_for(self, incident_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        return timelines(self.db, UPDATES.name, "incident_id", incident_ids)


def timelines(db: Database, table: str, owner: str,
              owner_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """The timeline updates of each owner (incident or maintenance), oldest first."""
    found: dict[UUID, list[dict[str, Any]]] = {i: [] for i in owner_ids}
    if not owner_ids:
        return found
    marks = ", ".join(["%s"] * len(owner_ids))
    rows = db.query(f"SELECT * FROM {table} WHERE {owner} IN ({marks}) ORDER BY created_at, id",
                    [str(i) for i in owner_ids])
    for row in rows:
        found[UUID(row[owner])].append({"id": row["id"], "message": row["message"],
                                        "created_at": from_micros(row["created_at"])})
    return found
