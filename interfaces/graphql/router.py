"""The /graphql endpoint: POST (and GET) for queries, GET from a browser for GraphiQL."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.concurrency import run_in_threadpool
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from interfaces.bootstrap import Beacon
from interfaces.graphql.context import GraphQLContext, context_getter
from interfaces.graphql.schema import build_schema
from interfaces.rest.beacon_request import bearer
from interfaces.rest.deps import authorize_key, bearer_token
from interfaces.rest.errors import ApiError, error_response

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


    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        """A WebSocket's caller: the key in `connection_init`'s `{"Authorization": "Bearer …"}`
        (browsers cannot set headers on a WebSocket), else in the handshake's header. A refused
        key closes the socket with 4403, before any subscription runs."""
        params = context.connection_params
        given = params.get("Authorization") if isinstance(params, dict) else None
        token = bearer(given) if isinstance(given, str) else bearer_token(context.request)
        try:
            principal = await run_in_threadpool(authorize_key, context.request, context.beacon,
                                                token, "read", "write")
        except ApiError as error:
            raise ConnectionRejectionError({"code": error.code, "message": error.message}) \
                from None
        context.connected(principal, token or "")
        return UNSET


def build_router(beacon: Beacon) -> GraphQLRouter[GraphQLContext | None, None]:
    """Mount with `prefix="/graphql"`; the router's own path is empty. Subscriptions speak
    graphql-transport-ws only (the legacy graphql-ws protocol is unmaintained)."""
    return BeaconGraphQLRouter(build_schema(), path="", context_getter=context_getter(beacon),
                               subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))

