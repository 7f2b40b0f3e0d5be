"""The /graphql endpoint: POST (and GET) for queries, GET from a browser for GraphiQL."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from fastapi.routing import APIWebSocketRoute
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UNSET

from interfaces.bootstrap import Beacon
from interfaces.graphql.context import GraphQLContext, context_getter
from interfaces.graphql.schema import build_schema
from interfaces.rest.errors import error_response

CODES = {404: "not_found", 405: "method_not_allowed"}


class BeaconGraphQLRouter(GraphQLRouter[GraphQLContext | None, None]):
    """Transport failures (a body that is not JSON, no query) in the platform's error shape,
    not strawberry's plain text."""

    async def run(self, request: Any, context: Any = UNSET,
                  root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as error:
            if error.status_code == 400 and "JSON" in error.reason:
                return error_response(400, "malformed_json", "the request body is not valid JSON")
            return error_response(error.status_code, CODES.get(error.status_code, "bad_request"),
                                  error.reason)


def build_router(beacon: Beacon) -> GraphQLRouter[GraphQLContext | None, None]:
    """Mount with `prefix="/graphql"`; the router's own path is empty."""
    router = BeaconGraphQLRouter(build_schema(), path="", context_getter=context_getter(beacon),
                                 subscription_protocols=())
    # No subscriptions, so no WebSocket endpoint to authenticate.
    router.routes = [r for r in router.routes if not isinstance(r, APIWebSocketRoute)]
    return router

