"""Two API processes on one PostgreSQL schema and one Redis: events accepted by one reach the live
streams open on the other, woken through Redis (the log stays the source of what is sent)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from interfaces.rest.app import create_app
from tests.conftest import ADMIN_TOKEN, Tenant, make_tenant
from tests.e2e.conftest import serving
from tests.e2e.sse import open_stream
from tests.e2e.test_live_stream import event, ids_of
from tests.services import fresh_schema, require_postgres, require_redis

pytestmark = [pytest.mark.redis]


@pytest.fixture
def two_api_processes(tmp_path: Path) -> Iterator[tuple[str, str, Tenant]]:
    """Two servers, each its own Beacon, sharing a schema and Redis: their URLs and a workspace.
    Neither re-reads the log on its own within the test, so only a wake-up through Redis can
    bring an event to the other's stream."""
    url, redis_url = require_postgres(), require_redis()
    with fresh_schema() as schema, ExitStack() as stack:
        urls = []
        for name in ("first", "second"):
            settings = Settings(env="test", data_dir=tmp_path / name, admin_token=ADMIN_TOKEN,
                                database_url=url, db_schema=schema, redis_url=redis_url,
                                stream_recheck_seconds=3600.0)
            beacon = stack.enter_context(closing(bootstrap(settings)))
            urls.append(stack.enter_context(serving(beacon)))
        tenant = make_tenant(stack.enter_context(TestClient(create_app(beacon))))
        yield urls[0], urls[1], tenant


def test_events_accepted_by_one_process_reach_streams_on_the_other(
        two_api_processes: tuple[str, str, Tenant]) -> None:
    first, second, tenant = two_api_processes
    read_key = tenant.keys["read"]
    sent = [[event(), event()], [event()]]
    with open_stream(second, read_key) as on_second, open_stream(first, read_key) as on_first:
        for batch in sent:
            response = httpx.post(f"{first}/v1/events", json=batch,
                                  headers=tenant.headers("ingest"))
            assert response.status_code == 200, response.text
        received_second = on_second.messages(3)
        received_first = on_first.messages(3)
    expected = ids_of(sent[0] + sent[1])
    assert [m.json["event_id"] for m in received_second] == expected
    assert [m.json["event_id"] for m in received_first] == expected
    assert [m.id for m in received_second] == [m.id for m in received_first]
