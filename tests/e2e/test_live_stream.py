"""The live event stream (SSE) through a real server and a real HTTP client, on both backends."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import h11
import httpx
import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from tests.conftest import ADMIN, Tenant, make_tenant
from tests.e2e.sse import EventStream, Frame, open_stream


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Keep-alives and key checks often enough that the tests need not wait 15 s."""
    return settings.model_copy(update={"stream_keepalive_seconds": 0.3,
                                       "stream_key_check_seconds": 0.2,
                                       "stream_buffer_events": 50})


def event(name: str = "page_viewed", actor_id: str = "user-1", **properties: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "category": "web", "name": name,
            "timestamp": "2026-03-20T14:30:00Z", "actor_id": actor_id,
            "properties": properties or {"plan": "free"}}


def ingest(base_url: str, tenant: Tenant, events: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{base_url}/v1/events", json=events, headers=tenant.headers("ingest"))
    assert response.status_code == 200, response.text


def ids_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in events]


def test_accepted_events_arrive_with_their_log_position_as_id(server: str, tenant: Tenant) -> None:
    sent = [event(), event(name="signed_up", plan="pro")]
    with open_stream(server, tenant.keys["read"]) as stream:
        ingest(server, tenant, sent)
        received = stream.messages(2)
    assert [m.json["event_id"] for m in received] == ids_of(sent)
    notification = received[0].id.partition(".")[0] if received[0].id else ""
    assert [m.id for m in received] == [f"{notification}.0", f"{notification}.1"]
    assert [m.event for m in received] == ["event", "event"]
    second = received[1].json
    assert second["name"] == "signed_up" and second["properties"] == {"plan": "pro"}
    assert second["timestamp"] == "2026-03-20T14:30:00.000000Z" and second["received_at"]
    assert second["position"] == received[1].id


def test_reconnecting_with_last_event_id_resumes_with_no_gap_and_no_repeat(
        server: str, tenant: Tenant) -> None:
    first, missed, later = [event() for _ in range(3)], [event(), event()], [event()]
    with open_stream(server, tenant.keys["read"]) as stream:
        ingest(server, tenant, first)
        seen = stream.messages(2)  # the client drops after two of the three
    ingest(server, tenant, missed)
    with open_stream(server, tenant.keys["read"], last_event_id=seen[-1].id) as stream:
        resumed = stream.messages(3)
        ingest(server, tenant, later)
        resumed += stream.messages(1)
    assert [m.json["event_id"] for m in seen + resumed] == ids_of(first + missed + later)


def test_filters_select_by_event_actor_and_property(server: str, tenant: Tenant) -> None:
    wanted = event(name="checkout", actor_id="ann", plan="pro", seats=3)
    sent = [event(name="page_viewed", actor_id="ann", plan="pro", seats=3),
            event(name="checkout", actor_id="bob", plan="pro", seats=3),
            event(name="checkout", actor_id="ann", plan="free", seats=3),
            wanted, event(name="checkout", actor_id="ann", plan="pro", seats=4)]
    filters = {"event": ["checkout", "refund"], "actor_id": "ann", "property.plan": "pro",
               "property.seats": "3"}
    with open_stream(server, tenant.keys["read"], **filters) as stream:
        ingest(server, tenant, sent)
        ingest(server, tenant, [event(name="refund", actor_id="ann", plan="pro", seats=3)])
        received = stream.messages(2)
    assert received[0].json["event_id"] == wanted["event_id"]
    assert received[1].json["name"] == "refund"


def test_exception_reports_stream_as_their_own_kind(server: str, tenant: Tenant) -> None:
    report = {"exception_id": str(uuid.uuid4()), "exception_type": "ValueError",
              "message": "bad input", "severity": "non_fatal", "actor_id": "ann",
              "source_app": "MyApp", "source_version": "1.0", "occurred_at": "2026-03-20T14:30:00Z"}
    with open_stream(server, tenant.keys["read"], event="$exception") as stream:
        ingest(server, tenant, [event()])
        response = httpx.post(f"{server}/v1/events/exceptions", json=report,
                              headers=tenant.headers("ingest"))
        assert response.status_code == 200, response.text
        received = stream.messages(1)[0]
    assert received.event == "exception" and received.id and received.id.endswith(".0")
    assert received.json["exception_id"] == report["exception_id"]
    assert received.json["fingerprint"] == response.json()["fingerprint"]


def test_a_subscriber_that_falls_behind_gets_overflow_and_can_resume(
        server: str, tenant: Tenant) -> None:
    burst = [event() for _ in range(60)]  # more than the subscriber's buffer of 50
    with open_stream(server, tenant.keys["read"]) as stream:
        ingest(server, tenant, burst)
        ended = stream.until_closed()
    assert [m.event for m in ended] == ["overflow"]
    resume_from = ended[0].json["last_event_id"]
    with open_stream(server, tenant.keys["read"], last_event_id=resume_from) as stream:
        resumed = stream.messages(60)
    assert [m.json["event_id"] for m in resumed] == ids_of(burst)


def test_a_reader_that_stops_reading_never_slows_ingestion_and_is_cut_off_with_overflow(
        server: str, tenant: Tenant) -> None:
    """A real slow consumer: a socket with a small receive window that stops reading once
    subscribed. The server's writes to it block, its buffer of 50 fills, and it is cut off; every
    batch sent meanwhile is accepted (none waits for the reader). Read
    at last, the stream holds a gapless prefix of what was sent, then `overflow`, and resuming
    from it gives the rest."""
    host, port = server.removeprefix("http://").split(":")
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect((host, int(port)))
    reader.sendall(f"GET /api/v1/events/stream HTTP/1.1\r\nHost: {host}\r\n"
                   f"Authorization: Bearer {tenant.keys['read']}\r\n"
                   "Accept: text/event-stream\r\n\r\n".encode())
    reader.settimeout(60)  # bounds, not timings: a loaded CI machine may be slow
    received = b""
    while b"subscribed after" not in received:
        received += reader.recv(4096)
    padding = "x" * 8000  # 8 KB a message: the kernel's buffers fill after some hundreds
    sent = [event(note=padding, n=str(n)) for n in range(1000)]
    with httpx.Client(timeout=60) as client:
        for start in range(0, len(sent), 50):
            response = client.post(f"{server}/v1/events", json=sent[start:start + 50],
                                   headers=tenant.headers("ingest"))
            assert response.status_code == 200, response.text
    while True:  # now read it all: the server closes the stream after `overflow`
        chunk = reader.recv(1 << 20)
        if not chunk:
            break
        received += chunk
    reader.close()
    frames = sse_frames(received)
    assert frames[-1].event == "overflow" and len(frames) < len(sent)
    delivered = [f.json["properties"]["n"] for f in frames[:-1]]
    assert delivered == [str(n) for n in range(len(delivered))]  # no gap, no repeat
    with open_stream(server, tenant.keys["read"],
                     last_event_id=frames[-1].json["last_event_id"]) as stream:
        rest = stream.messages(len(sent) - len(delivered))
    assert [m.json["properties"]["n"] for m in rest] == [
        str(n) for n in range(len(delivered), len(sent))]


def sse_frames(raw: bytes) -> list[Frame]:
    """The messages of a raw HTTP/1.1 response carrying an SSE stream (chunked)."""
    connection = h11.Connection(our_role=h11.CLIENT)
    connection.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    connection.receive_data(raw)
    connection.receive_data(b"")
    body = b""
    while (part := connection.next_event()) not in (h11.NEED_DATA, h11.PAUSED):
        if isinstance(part, h11.Data):
            body += part.data
        if isinstance(part, h11.EndOfMessage | h11.ConnectionClosed):
            break
    lines = iter(body.decode().split("\n"))
    stream = EventStream.__new__(EventStream)
    stream._lines = lines
    return [f for f in iter(stream.next_frame, None) if f.comment is None]


def test_another_workspaces_events_never_reach_a_stream(server: str, client: TestClient,
                                                          tenant: Tenant) -> None:
    other = make_tenant(client, name="Globex", slug="globex")
    theirs, ours = [event(name="secret")], [event()]
    with open_stream(server, tenant.keys["read"]) as stream:
        ingest(server, other, theirs)
        ingest(server, tenant, ours)
        received = stream.messages(1)
    assert [m.json["event_id"] for m in received] == ids_of(ours)
    with open_stream(server, tenant.keys["read"], last_event_id="0") as stream:
        ingest(server, tenant, [event(name="next")])
        resumed = stream.messages(2)  # the whole log's history: still only ours
    assert [m.json["name"] for m in resumed] == ["page_viewed", "next"]


def test_a_revoked_keys_open_stream_is_closed(server: str, client: TestClient,
                                              tenant: Tenant) -> None:
    with open_stream(server, tenant.keys["read"]) as stream:
        response = client.delete(f"/admin/v1/workspaces/{tenant.id}/keys/{tenant.key_ids['read']}",
                                 headers=ADMIN)
        assert response.status_code == 204
        ended = stream.until_closed()
    assert [m.event for m in ended] == ["revoked"]


def test_a_quiet_stream_sends_keep_alive_comments(server: str, tenant: Tenant) -> None:
    with open_stream(server, tenant.keys["read"]) as stream:
        frame = stream.next_frame()
    assert frame is not None and frame.comment == "keep-alive"


def test_the_stream_needs_a_read_key_and_known_filters(server: str, tenant: Tenant) -> None:
    url = f"{server}/api/v1/events/stream"
    assert httpx.get(url, headers=tenant.headers("ingest")).status_code == 403
    assert httpx.get(url).status_code == 401
    response = httpx.get(url, params={"colour": "red"}, headers=tenant.headers("read"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
    response = httpx.get(url, headers={**tenant.headers("read"), "Last-Event-ID": "x.1"})
    assert response.status_code == 400
    # A filter is a handful of terms: past the most of either kind it is refused, not matched
    # against every message.
    most = [("event", f"name-{n}") for n in range(50)] + \
        [(f"property.key{n}", "v") for n in range(20)]
    for extra in (("event", "one-more"), ("property.one-more", "v")):
        response = httpx.get(url, params=[*most, extra], headers=tenant.headers("read"))
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"][0]["field"] == extra[0].split(".")[0]
    with httpx.stream("GET", url, params=most, headers=tenant.headers("read"),
                      timeout=10) as at_the_most:
        assert at_the_most.status_code == 200


def test_a_position_the_stream_never_sent_is_refused_not_skipped_to(
        server: str, tenant: Tenant) -> None:
    """Resuming after a position past the log's head would skip, unseen, every event accepted
    up to it; Unicode digits ("²" passes str.isdigit) are no position either."""
    ingest(server, tenant, [event()])
    url, read = f"{server}/api/v1/events/stream", tenant.headers("read")
    for given in ("1000000", "9" * 30, "²", "1.²"):  # a header's bytes read as Latin-1
        response = httpx.get(url, headers={**read, "Last-Event-ID": given.encode("latin-1")})
        assert response.status_code == 400, (given, response.text)
        assert response.json()["error"]["details"][0]["field"] == "Last-Event-ID"
    for given in ("1000000", "²"):
        response = httpx.get(url, params={"last_event_id": given}, headers=read)
        assert response.status_code == 400, (given, response.text)
    assert "past the newest message" in httpx.get(
        url, params={"last_event_id": "1000000"}, headers=read).text
    with open_stream(server, tenant.keys["read"], last_event_id="0") as stream:  # from the start
        assert [f.json["name"] for f in stream.messages(1)] == ["page_viewed"]


def test_a_filter_term_given_twice_with_two_values_is_refused(server: str, tenant: Tenant) -> None:
    """Every term must hold, and one property cannot equal two values: such a filter would match
    nothing, silently (it used to keep the last value)."""
    url, read = f"{server}/api/v1/events/stream", tenant.headers("read")
    for twice in ([("property.plan", "pro"), ("property.plan", "free")],
                  [("actor_id", "a"), ("actor_id", "b")], [("$country", "GB"), ("$country", "FR")]):
        response = httpx.get(url, params=twice, headers=read)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"][0]["message"] == "given twice, differently"
    with httpx.stream("GET", url, params=[("event", "a"), ("event", "b"), ("actor_id", "x"),
                                          ("actor_id", "x")], headers=read, timeout=10) as same:
        assert same.status_code == 200  # names are any-of; a term repeated alike is one term
