"""What the enriched live stream does when Redis loses its messages: it reads the rest from the
log, and a subscriber left too far behind gets `overflow` and resumes, with no gap and no repeat.

An API process on each backend serves the stream through Redis, without projections; two
projectors the test drives page by page share its store: one publishes what it enriches, the
other has no Redis (its pages reach nobody through it, as when the pipeline cannot publish).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from infrastructure import stream_forwarder
from infrastructure.settings import Settings
from infrastructure.stream_forwarder import connection_name
from infrastructure.stream_relay import workspace_channel
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.rest.app import create_app
from tests.conftest import Tenant, make_tenant
from tests.e2e.conftest import serving
from tests.e2e.sse import open_stream
from tests.e2e.test_enrichment import cities
from tests.e2e.test_live_stream_enriched import (
    LONDONER,
    event,
    from_browser,
    ids_of,
    place_and_device,
    track,
)
from tests.polling import eventually
from tests.services import own_redis, require_redis

pytestmark = [pytest.mark.redis]
Enrich = Callable[[], None]


@contextmanager
def relayed(settings: Settings, tmp_path: Path, recheck_seconds: float = 3600.0,
            redis_url: str | None = None) -> Iterator[tuple[str, Tenant, Enrich, Enrich]]:
    """The API's URL, a workspace, and what runs each projector's pipeline once: the one that
    publishes through Redis, and the one that cannot."""
    shared = settings.model_copy(update={
        "redis_url": redis_url or require_redis(), "geoip_db": cities(tmp_path / "cities.mmdb"),
        "trusted_proxies": "127.0.0.0/8", "stream_buffer_events": 50,
        "stream_keepalive_seconds": 0.3, "stream_recheck_seconds": recheck_seconds})
    with ExitStack() as stack:
        api = stack.enter_context(closing(bootstrap(shared)))
        url = stack.enter_context(serving(api))
        publishing = stack.enter_context(closing(bootstrap(shared)))
        silent = stack.enter_context(closing(bootstrap(shared.model_copy(update={"redis_url": ""}))))
        tenant = make_tenant(stack.enter_context(TestClient(create_app(api))))
        yield url, tenant, pipeline_of(publishing), pipeline_of(silent)


def pipeline_of(projector: Beacon) -> Enrich:
    def enrich() -> None:
        projector.runner("enrichment").catch_up()
    return enrich


def sent_ids(*batches: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for batch in batches for e in batch]


def test_a_page_whose_messages_never_came_through_redis_is_read_from_the_log(
        settings: Settings, tmp_path: Path) -> None:
    first, lost, next_ = [event()], [event(), event()], [event()]
    with relayed(settings, tmp_path) as (url, tenant, publish, enrich_unpublished), \
            open_stream(url, tenant.keys["read"]) as stream:
        track(url, tenant, first, **from_browser())
        publish()
        received = stream.messages(1)
        track(url, tenant, lost, **from_browser())
        enrich_unpublished()
        track(url, tenant, next_, **from_browser())
        publish()  # its page does not start where the stream stands: the stream reads the rest
        received += stream.messages(3)
    assert ids_of(received) == sent_ids(first, lost, next_)
    assert [place_and_device(m.json) for m in received] == [LONDONER] * 4
    assert len({m.id for m in received}) == 4


def test_a_lost_page_with_nothing_after_it_is_read_from_the_log_at_the_next_recheck(
        settings: Settings, tmp_path: Path) -> None:
    lost = [event(), event()]
    with relayed(settings, tmp_path, recheck_seconds=0.2) as (url, tenant, _, enrich_unpublished), \
            open_stream(url, tenant.keys["read"]) as stream:
        track(url, tenant, lost, **from_browser())
        enrich_unpublished()
        received = stream.messages(2)
    assert ids_of(received) == sent_ids(lost)
    assert received[0].json["content_hash"] and received[1].json["$city"] == "London"


def test_after_its_redis_connection_is_killed_the_stream_reads_what_it_missed(
        settings: Settings, tmp_path: Path) -> None:
    before, during, after = [event()], [event(), event()], [event()]
    with relayed(settings, tmp_path) as (url, tenant, publish, _), \
            open_stream(url, tenant.keys["read"]) as stream:
        track(url, tenant, before, **from_browser())
        publish()
        received = stream.messages(1)
        server = redis.Redis.from_url(require_redis())
        name = connection_name(settings.namespace)
        killed = [c["id"] for c in server.client_list() if c.get("name") == name]
        assert killed and server.client_kill_filter(_id=killed[0]) == 1
        track(url, tenant, during, **from_browser())
        publish()  # published while the API reconnects: lost to it, read from the log after
        received += stream.messages(2)
        track(url, tenant, after, **from_browser())
        publish()
        received += stream.messages(1)
        server.close()
    assert ids_of(received) == sent_ids(before, during, after)


def test_while_redis_is_down_streams_are_read_from_the_log_and_go_back_to_redis_after(
        settings: Settings, tmp_path: Path) -> None:
    """An outage of Redis itself: the pipeline cannot publish and the API cannot subscribe, yet
    open streams go on (and new ones open, in a workspace streamed already or not) from the
    log, each message once and to its own workspace only; once Redis is back the API subscribes
    again."""
    before, during, joined, theirs, after = [event()], [event(), event()], [event()], [event()], [
        event()]
    with own_redis() as server, \
            relayed(settings, tmp_path, recheck_seconds=0.2, redis_url=server.url) as (
                url, tenant, publish, _), \
            open_stream(url, tenant.keys["read"]) as stream:
        track(url, tenant, before, **from_browser())
        publish()
        received = stream.messages(1)
        server.stop()
        track(url, tenant, during, **from_browser())
        publish()  # enriched and recorded; published to no one
        received += stream.messages(2)
        with httpx.Client(base_url=url, timeout=10) as admin:
            other = make_tenant(admin, name="Other", slug="other-co")  # type: ignore[arg-type]
        with open_stream(url, tenant.keys["read"]) as opened_meanwhile, \
                open_stream(url, other.keys["read"]) as first_of_theirs:
            track(url, tenant, joined, **from_browser())
            track(url, other, theirs, **from_browser())
            publish()
            assert ids_of(opened_meanwhile.messages(1)) == sent_ids(joined)
            assert ids_of(first_of_theirs.messages(1)) == sent_ids(theirs)
        received += stream.messages(1)
        server.start()
        listening = redis.Redis.from_url(server.url)
        channel = workspace_channel(settings.namespace, UUID(tenant.id))
        assert eventually(lambda: dict(listening.pubsub_numsub(channel)).get(
            channel.encode(), 0) >= 1)  # subscribed again
        listening.close()
        track(url, tenant, after, **from_browser())
        publish()
        received += stream.messages(1)
    assert ids_of(received) == sent_ids(before, during, joined, after)
    assert len({m.id for m in received}) == 5
    assert all(place_and_device(m.json) == LONDONER for m in received)


def test_a_redis_that_hangs_is_noticed_by_its_unanswered_ping_and_streams_go_on_from_the_log(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Redis that stops answering (paused, or cut off) closes no connection: the forwarder
    pings it, keeps the one connection while pongs come, and reads the log once one does not."""
    monkeypatch.setattr(stream_forwarder, "PING_EVERY", 0.3)
    before, during = [event()], [event(), event()]
    with own_redis() as server, \
            relayed(settings, tmp_path, redis_url=server.url) as (url, tenant, publish, _), \
            open_stream(url, tenant.keys["read"]) as stream:
        watching = redis.Redis.from_url(server.url)
        name = connection_name(settings.namespace)

        def forwarders() -> list[str]:
            return [c["id"] for c in watching.client_list() if c.get("name") == name]

        assert eventually(lambda: len(forwarders()) == 1)
        connected = forwarders()
        track(url, tenant, before, **from_browser())
        publish()
        received = stream.messages(1)
        time.sleep(1.5)  # five pings answered: the same connection throughout
        assert forwarders() == connected
        watching.close()
        assert server.process is not None
        server.process.send_signal(signal.SIGSTOP)
        try:
            track(url, tenant, during, **from_browser())
            publish()  # cannot publish (its own timeout): enriched and recorded
            received += stream.messages(2)
        finally:
            server.process.send_signal(signal.SIGCONT)
    assert ids_of(received) == sent_ids(before, during)


@pytest.mark.parametrize("path", ["published", "read from the log"])
def test_a_subscriber_behind_by_more_than_its_buffer_gets_overflow_and_resumes_enriched(
        settings: Settings, tmp_path: Path, path: str) -> None:
    burst = [event() for _ in range(60)]  # more than the subscriber's buffer of 50
    with relayed(settings, tmp_path) as (url, tenant, publish, enrich_unpublished):
        with open_stream(url, tenant.keys["read"]) as stream:
            track(url, tenant, burst, **from_browser())
            if path == "read from the log":
                enrich_unpublished()
            publish()  # the next page, or this one: either way the burst reaches the stream at once
            ended = stream.until_closed()
        assert [m.event for m in ended] == ["overflow"]
        with open_stream(url, tenant.keys["read"], last_event_id=ended[0].json["last_event_id"]
                         ) as stream:
            resumed = stream.messages(60)
    assert ids_of(resumed) == sent_ids(burst)
    assert all(place_and_device(m.json) == LONDONER for m in resumed)
