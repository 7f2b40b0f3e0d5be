"""Visitor ids on the request path: every anonymous event of a client gets that client's id."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from uuid import UUID, uuid4

from application.visitors import Visitors
from domain.enrichment import Client, visitor_id
from domain.tracked_event import TrackedEvent

WORKSPACE = SimpleNamespace(id=UUID("8c4f6a1e-0000-4000-8000-000000000001"), store_ip=False)
BROWSER, SERVER = Client("81.2.69.160", "Firefox/120"), Client("10.1.2.3", "sdk/1")


class OneSalt:
    def salt_for(self, day: date) -> bytes:
        return b"salt of " + day.isoformat().encode()


class CountingVisitors(Visitors):
    """Visitors that count the ids they compute."""

    computed = 0

    def visitor(self, workspace_id: UUID, client: Client) -> str:
        self.computed += 1
        return super().visitor(workspace_id, client)


def anonymous(count: int) -> list[TrackedEvent]:
    return [TrackedEvent(event_id=str(uuid4()), category="web", name="page_viewed",
                         timestamp_us=0, actor_id=None) for _ in range(count)]


def test_a_requests_anonymous_events_get_their_clients_visitor_id_computed_once_a_client() -> None:
    visitors = CountingVisitors(OneSalt(), lambda: datetime(2026, 4, 4, 12, tzinfo=UTC))
    events = anonymous(1000)
    named_by_sdk = {events[0].event_id: SERVER, events[500].event_id: SERVER}
    events.append(TrackedEvent(event_id=str(uuid4()), category="web", name="login",
                               timestamp_us=0, actor_id="user-7"))
    kept = visitors.identify(WORKSPACE, BROWSER, events, named_by_sdk)
    salt = b"salt of 2026-04-04"
    expected = [visitor_id(salt, WORKSPACE.id, named_by_sdk.get(e.event_id, BROWSER))
                for e in events[:1000]]
    assert [e.actor_id for e in events] == [*expected, "user-7"]
    assert len(set(expected)) == 2
    assert kept["visitors"] == [e.event_id for e in events[:1000]]
    assert visitors.computed == 2
