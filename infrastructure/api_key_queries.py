"""The API keys read model in SQL (projections/api_keys.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from infrastructure.database import Database
from projections.api_keys import API_KEYS, ApiKeyQueries


class SqlApiKeyQueries(ApiKeyQueries):
    def __init__(self, db: Database):
        self.db = db

    def keys_of(self, workspace_id: UUID) -> list[dict[str, Any]]:
        rows = self.db.query(f"SELECT * FROM {API_KEYS.name} WHERE workspace_id = %s "
                             "ORDER BY created_at, id", [str(workspace_id)])
        for row in rows:
            row["scopes"] = self.db.load_json(row["scopes"])
        return rows
