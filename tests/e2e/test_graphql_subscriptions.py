"""`subscription { events }` over graphql-transport-ws, through a real server and WebSocket client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from infrastructure.settings import Settings
from tests.conftest import ADMIN, Tenant, TestClient, make_tenant
from tests.e2e.test_live_stream import event, ids_of, ingest

SUBSCRIPTION = """subscription Live($filter: EventFilter) {
  events(filter: $filter) { position kind name actorId body }
}"""
TIMEOUT = 15.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_key_check_seconds": 0.2})


@contextmanager
def connected(base_url: str, key: str) -> Iterator[ClientConnection]:
    """A WebSocket that has said who it is (its `connection_init` acknowledged)."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT) as socket:
        socket.send(json.dumps({"type": "connection_init",
                                "payload": {"Authorization": f"Bearer {key}"}}))
        assert json.loads(socket.recv(TIMEOUT))["type"] == "connection_ack"
        yield socket


def first_answer(socket: ClientConnection, variables: dict[str, Any] | None = None,
                 query: str = SUBSCRIPTION) -> dict[str, Any]:
    """Subscribe, and the first message that answers it."""
    socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
        "query": query, "variables": variables or {}}}))
    return dict(json.loads(socket.recv(TIMEOUT)))


@contextmanager
def subscribed(base_url: str, key: str, variables: dict[str, Any] | None = None,
               query: str = SUBSCRIPTION) -> Iterator[ClientConnection]:
    """A WebSocket that has said who it is and whose subscription holds."""
    with connected(base_url, key) as socket:
        answer = first_answer(socket, variables, query)
        assert answer["type"] == "next", answer
        assert answer["payload"]["data"]["events"]["kind"] == "subscribed"
        yield socket


def items(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    found = []
    while len(found) < count:
        message = json.loads(socket.recv(TIMEOUT))
        assert message["type"] == "next", message
        found.append(message["payload"]["data"]["events"])
    return found


def test_a_subscription_receives_accepted_events_and_resumes_after_a_position(
        server: str, tenant: Tenant) -> None:
    first, later = [event(name="signed_up", plan="pro"), event()], [event()]
    with subscribed(server, tenant.keys["read"], {"filter": {"events": ["signed_up"]}}) as socket:
        ingest(server, tenant, first)
        received = items(socket, 1)
    assert received[0]["kind"] == "event" and received[0]["name"] == "signed_up"
    assert received[0]["body"]["event_id"] == first[0]["event_id"]
    with subscribed(server, tenant.keys["read"],
                    {"filter": {"after": received[0]["position"]}}) as socket:
        ingest(server, tenant, later)
        resumed = items(socket, 2)
    assert [r["body"]["event_id"] for r in resumed] == ids_of(first[1:] + later)


def test_a_subscription_sees_only_its_workspace_and_ends_when_its_key_is_revoked(
        server: str, client: TestClient, tenant: Tenant) -> None:
    other = make_tenant(client, name="Globex", slug="globex")
    with subscribed(server, tenant.keys["read"]) as socket:
        ingest(server, other, [event(name="secret")])
        ingest(server, tenant, [event(name="ours")])
        assert [i["name"] for i in items(socket, 1)] == ["ours"]
        response = client.delete(f"/admin/v1/workspaces/{tenant.id}/keys/{tenant.key_ids['read']}",
                                 headers=ADMIN)
        assert response.status_code == 204
        assert items(socket, 1)[0]["kind"] == "revoked"
        assert json.loads(socket.recv(TIMEOUT))["type"] == "complete"


def test_a_connection_without_a_valid_read_key_is_refused(server: str, tenant: Tenant) -> None:
    url = server.replace("http://", "ws://") + "/graphql"
    for payload in ({}, {"Authorization": f"Bearer {tenant.keys['ingest']}"},
                    {"Authorization": "Bearer bkn_live_nothing"}):
        with connect(url, subprotocols=["graphql-transport-ws"]) as socket:
            socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(TIMEOUT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("after", ["x.1", "²", "1000000"],
                         ids=["no position", "a Unicode digit", "past the head"])
def test_a_subscription_resuming_after_no_position_is_refused_with_its_code(
        server: str, tenant: Tenant, after: str) -> None:
    with connected(server, tenant.keys["read"]) as socket:
        answer = first_answer(socket, {"filter": {"after": after}})
    assert answer["type"] == "next" and answer["payload"]["data"] is None, answer
    error = answer["payload"]["errors"][0]
    assert error["extensions"]["code"] == "bad_request" and "after" in error["message"]


def test_a_subscription_with_one_property_given_two_values_is_refused(
        server: str, tenant: Tenant) -> None:
    twice = [{"key": "plan", "value": "pro"}, {"key": "plan", "value": "free"}]
    with connected(server, tenant.keys["read"]) as socket:
        answer = first_answer(socket, {"filter": {"properties": twice}})
    error = answer["payload"]["errors"][0]
    assert error["extensions"]["code"] == "bad_request" and "one value per key" in error["message"]


def test_a_subscription_with_more_filter_terms_than_the_most_is_refused(
        server: str, tenant: Tenant) -> None:
    terms = [{"key": f"key{n}", "value": "v"} for n in range(21)]
    with connected(server, tenant.keys["read"]) as socket:
        answer = first_answer(socket, {"filter": {"properties": terms}})
    assert answer["type"] == "next" and answer["payload"]["data"] is None, answer
    error = answer["payload"]["errors"][0]
    assert error["extensions"]["code"] == "bad_request" and "at most 20" in error["message"]
    with subscribed(server, tenant.keys["read"], {"filter": {"properties": terms[:20]}}):
        pass  # at the most: it holds
