"""A workspace holds at most BEACON_STREAM_MAX_PER_WORKSPACE live streams open at once (SSE and
GraphQL subscriptions together), through a real server and real clients, on both backends."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from tests.conftest import Tenant, make_tenant
from tests.e2e.sse import open_stream
from tests.e2e.test_graphql_subscriptions import connected, first_answer, subscribed
from tests.e2e.test_live_stream import event, ids_of, ingest
from tests.polling import eventually

MOST = 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_max_per_workspace": MOST,
                                       "stream_keepalive_seconds": 0.3,
                                       "stream_key_check_seconds": 0.2})


def opens(server: str, tenant: Tenant) -> httpx.Response:
    """A stream request's answer, read whole when refused (an accepted one is closed at once)."""
    with httpx.stream("GET", f"{server}/api/v1/events/stream", headers=tenant.headers("read"),
                      timeout=10) as response:
        if response.status_code != 200:
            response.read()
        return response


def test_a_workspace_at_its_most_open_streams_is_refused_another_until_one_closes(
        server: str, client: TestClient, tenant: Tenant) -> None:
    other = make_tenant(client, name="Globex", slug="globex")
    with open_stream(server, tenant.keys["read"]) as first, \
            open_stream(server, tenant.keys["read"]):
        refused = opens(server, tenant)
        assert refused.status_code == 429 and refused.headers["retry-after"]
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and "BEACON_STREAM_MAX_PER_WORKSPACE" in \
            error["message"]
        with open_stream(server, other.keys["read"]):  # another workspace's seats are its own
            pass
        sent = [event()]
        ingest(server, tenant, sent)  # the open streams are unharmed by the refusal
        assert [m.json["event_id"] for m in first.messages(1)] == ids_of(sent)
    # Closing gives the seats back: the server notices the client went away.
    assert eventually(lambda: opens(server, tenant).status_code == 200)
    with open_stream(server, tenant.keys["read"]), open_stream(server, tenant.keys["read"]):
        assert opens(server, tenant).status_code == 429


def test_graphql_subscriptions_take_the_same_seats(server: str, tenant: Tenant) -> None:
    with subscribed(server, tenant.keys["read"]), open_stream(server, tenant.keys["read"]):
        assert opens(server, tenant).status_code == 429
        with connected(server, tenant.keys["read"]) as socket:
            answer = first_answer(socket)
        assert answer["type"] == "next" and answer["payload"]["data"] is None, answer
        assert answer["payload"]["errors"][0]["extensions"]["code"] == "rate_limited"
    assert eventually(lambda: opens(server, tenant).status_code == 200)
