"""Per request: who is calling, and DataLoaders that batch what one query asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import Request, Response, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from application.workspaces import Principal
from domain.errors import IncidentNotFoundError
from interfaces.bootstrap import Beacon
from interfaces.graphql.pagination import position_after
from interfaces.rest.deps import bearer_token, consistent_read, principal_with

Rows = list[dict[str, Any]]
read_scoped = principal_with("read", "write")


class GraphQLContext(BaseContext):
    """The Beacon, the caller, and this request's loaders (never shared between requests).
    Over a WebSocket the caller is known once its `connection_init` is accepted (router.py)."""

    def __init__(self, beacon: Beacon, principal: Principal | None, token: str = ""):
        super().__init__()
        self.beacon = beacon
        self._principal = principal
        self.token = token  # the key, which a subscription re-checks while it runs
        self.connection_params: dict[str, object] = {}
        self.updates: DataLoader[UUID, Rows] = DataLoader(load_fn=self._load_updates)
        self.history: DataLoader[UUID, Rows] = DataLoader(load_fn=self._load_history)
        self.session_events: DataLoader[tuple[str, int, str | None], tuple[Rows, bool]] = \
            DataLoader(load_fn=self._load_session_events)
        self.channel_deliveries: DataLoader[tuple[str, int], Rows] = DataLoader(
            load_fn=self._load_channel_deliveries)

    @property
    def principal(self) -> Principal:
        if self._principal is None:  # strawberry runs nothing before connection_init is accepted
            raise RuntimeError("no caller yet")
        return self._principal

    def connected(self, principal: Principal, token: str) -> None:
        self._principal, self.token = principal, token

    @property
    def workspace_id(self) -> UUID:
        return self.principal.workspace_id

    async def _load_updates(self, ids: list[UUID]) -> list[Rows]:
        found = await run_in_threadpool(self.beacon.incidents.updates_for, ids)
        return [found[i] for i in ids]

    async def _load_session_events(self, keys: list[tuple[str, int, str | None]]
                                   ) -> list[tuple[Rows, bool]]:
        """Timelines of every session a query touches: one query per distinct (first, after)."""
        found: dict[tuple[str, int, str | None], tuple[Rows, bool]] = {}
        for first, after in {(k[1], k[2]) for k in keys}:
            ids = [k[0] for k in keys if (k[1], k[2]) == (first, after)]
            pages = await run_in_threadpool(
                self.beacon.telemetry_queries.session_events, self.workspace_id, ids,
                first=first, after=position_after(after))
            found.update({(sid, first, after): page for sid, page in pages.items()})
        return [found[key] for key in keys]

    async def _load_channel_deliveries(self, keys: list[tuple[str, int]]) -> list[Rows]:
        """The latest webhooks of every alert channel a query shows: one read per `first`."""
        found: dict[tuple[str, int], Rows] = {}
        for first in {k[1] for k in keys}:
            channels = [k[0] for k in keys if k[1] == first]
            rows = await run_in_threadpool(self.beacon.alert_delivery_log.recent_of, channels,
                                           first)
            found.update({(channel, first): rows[channel] for channel in channels})
        return [found[key] for key in keys]

    async def _load_history(self, ids: list[UUID]) -> list[Rows]:
        return await run_in_threadpool(lambda: [self._history_of(i) for i in ids])

    def _history_of(self, incident_id: UUID) -> Rows:
        try:
            return self.beacon.statuspages.incident_history(self.workspace_id, incident_id)
        except IncidentNotFoundError:
            return []


# What every resolver is given: the request's context (no root value).
Ctx = Info[GraphQLContext, None]


def asks_for_graphiql(request: Request) -> bool:
    """A browser opening /graphql: strawberry answers with the GraphiQL page, running nothing."""
    accept = request.headers.get("accept", "")
    return (request.method == "GET" and "query" not in request.query_params
            and ("text/html" in accept or "*/*" in accept))


def context_getter(beacon: Beacon) -> Callable[..., GraphQLContext | None]:
    """A FastAPI dependency: authenticate (401/403/429 in the platform's error shape), then
    honour X-Beacon-Min-Position, then build the context."""

    def get_context(request: HTTPConnection, response: Response = None  # type: ignore[assignment]
                    ) -> GraphQLContext | None:
        if isinstance(request, WebSocket):  # authenticated by its connection_init (router.py)
            return GraphQLContext(beacon, None)
        assert isinstance(request, Request)
        if asks_for_graphiql(request):
            return None
        request.state.reads_only = True  # no mutations: a member's cookie needs no CSRF token
        principal = read_scoped(request, beacon)
        consistent_read(request, response, beacon)
        return GraphQLContext(beacon, principal, bearer_token(request) or "")

    return get_context
