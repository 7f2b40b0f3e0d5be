"""Open-stream seats on a real Redis: every API process of a deployment counts the same seats; a
process that dies without giving its seats back loses them when their leases lapse."""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing

import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from infrastructure.stream_seats import LocalSeats, RedisSeats
from interfaces.bootstrap import bootstrap
from interfaces.rest.app import create_app
from tests.conftest import make_tenant
from tests.e2e.conftest import serving
from tests.e2e.sse import open_stream
from tests.e2e.test_stream_seats import opens
from tests.polling import eventually
from tests.services import require_redis

pytestmark = [pytest.mark.redis]


@pytest.fixture
def seats() -> Iterator[RedisSeats]:
    seats = RedisSeats(require_redis(), f"test-{uuid.uuid4()}", limit=2, lease_seconds=1.5)
    with closing(seats):
        yield seats


def test_two_api_processes_of_one_deployment_share_their_workspaces_seats(
        settings: Settings) -> None:
    shared = settings.model_copy(update={"redis_url": require_redis(),
                                         "stream_max_per_workspace": 2,
                                         "stream_keepalive_seconds": 0.3,
                                         "stream_key_check_seconds": 0.2})
    with ExitStack() as stack:
        apis = [stack.enter_context(closing(bootstrap(shared))) for _ in range(2)]
        first, second = (stack.enter_context(serving(api)) for api in apis)
        tenant = make_tenant(stack.enter_context(TestClient(create_app(apis[0]))))
        key = tenant.keys["read"]
        with open_stream(first, key), open_stream(second, key):
            assert [opens(url, tenant).status_code for url in (first, second)] == [429, 429]
        # The seats come back once each server notices its client went away.
        assert eventually(lambda: opens(first, tenant).status_code == 200)
        assert eventually(lambda: opens(second, tenant).status_code == 200)


def test_a_seat_whose_stream_stopped_renewing_lapses(seats: RedisSeats) -> None:
    workspace = uuid.uuid4()
    kept, lost = seats.take(workspace), seats.take(workspace)
    assert kept is not None and lost is not None and seats.take(workspace) is None
    # Its process died: `lost` is never renewed nor given back. `kept` is renewed.
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        kept.renew()
        time.sleep(0.1)
    assert seats.take(workspace) is not None  # lost's seat, now lapsed
    assert seats.take(workspace) is None  # kept's is still held


def test_deployments_and_workspaces_count_their_own_seats(seats: RedisSeats) -> None:
    workspace = uuid.uuid4()
    other_deployment = RedisSeats(require_redis(), f"test-{uuid.uuid4()}", limit=1,
                                  lease_seconds=5)
    with closing(other_deployment):
        first, second = seats.take(workspace), seats.take(workspace)
        assert first is not None and second is not None and seats.take(workspace) is None
        assert seats.take(uuid.uuid4()) is not None
        assert other_deployment.take(workspace) is not None
        first.release()
        first.release()  # twice gives back one seat
        assert seats.take(workspace) is not None and seats.take(workspace) is None


def test_streams_open_while_redis_is_away() -> None:
    away = RedisSeats("redis://127.0.0.1:1", "test", limit=1, lease_seconds=5)
    with closing(away):
        seat = away.take(uuid.uuid4())
        assert seat is not None
        seat.renew()
        seat.release()


def test_a_seat_dropped_before_its_stream_started_is_given_back_in_process() -> None:
    seats, workspace = LocalSeats(limit=1), uuid.uuid4()
    assert seats.take(workspace) is not None  # dropped at once, never released
    gc.collect()
    assert eventually(lambda: seats.take(workspace) is not None)
