"""Stream positions and filters: what a client sends back and what a subscriber asks for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import orjson

from application.enrichment import Derivation
from application.stream import Message, Notification, StreamFilter, StreamPosition, messages_of
from domain.batch import EventBatch
from infrastructure.stream_relay import decode_page, encode_page, page_of


def message(position: str, name: str = "page_viewed", actor_id: str = "ann",
            **properties: Any) -> Message:
    at = StreamPosition.parse(position)
    assert at is not None
    return Message(uuid4(), at, "event", {"name": name, "actor_id": actor_id,
                                          "properties": properties}, None)


def test_positions_read_back_as_written_and_order_as_the_log() -> None:
    for text in ("0", "12", "12.0", "12.999"):
        parsed = StreamPosition.parse(text)
        assert parsed is not None and str(parsed) == text
    assert StreamPosition(12, 3) < StreamPosition(12, 4) < StreamPosition(12) < StreamPosition(13, 0)


def test_anything_else_is_not_a_position() -> None:
    for text in ("", "x", "1.x", "-1", "1.-2", "1.2.3", "1." + "9" * 12):
        assert StreamPosition.parse(text) is None


def test_a_filter_needs_every_condition_and_any_of_its_names() -> None:
    wanted = StreamFilter(frozenset({"checkout", "refund"}), "ann", {"plan": "pro", "seats": "3"})
    assert wanted.admits(message("1.0", "refund", plan="pro", seats=3))
    assert not wanted.admits(message("1.0", "page_viewed", plan="pro", seats=3))
    assert not wanted.admits(message("1.0", "refund", actor_id="bob", plan="pro", seats=3))
    assert not wanted.admits(message("1.0", "refund", plan="pro", seats="4"))
    assert not wanted.admits(message("1.0", "refund", plan="pro"))


def test_properties_match_as_json_scalars_written_as_text() -> None:
    assert StreamFilter(properties={"ok": "true"}).admits(message("1.0", ok=True))
    assert StreamFilter(properties={"ok": "null"}).admits(message("1.0", ok=None))
    assert not StreamFilter(properties={"ok": "true"}).admits(message("1.0", ok="yes"))
    assert not StreamFilter(properties={"tags": "[]"}).admits(message("1.0", tags=[]))


def test_a_notifications_candidates_keep_log_order_across_names() -> None:
    messages = [message("5.0", "b"), message("5.1", "a"), message("5.2", "b"), message("5.3", "c")]
    notification = Notification(messages)
    chosen = notification.candidates(StreamFilter(frozenset({"a", "b"})))
    assert [str(m.position) for m in chosen] == ["5.0", "5.1", "5.2"]
    assert notification.candidates(StreamFilter()) == messages


def test_a_message_shows_its_times_as_the_api_does() -> None:
    shown = Message(uuid4(), StreamPosition(7, 2), "event",
                    {"name": "a", "timestamp_us": 1_774_017_000_000_001}, "2026-03-20T14:30:00.5Z")
    assert shown.body == {"name": "a", "timestamp": "2026-03-20T14:30:00.000001Z",
                          "received_at": "2026-03-20T14:30:00.5Z", "position": "7.2"}
    assert orjson.loads(shown.data) == shown.body


def test_a_dimension_filter_matches_the_enrichment_not_a_property_of_that_name() -> None:
    enriched = Message(uuid4(), StreamPosition(3, 0), "event",
                       {"name": "a", "properties": {"$country": "FR"}}, None,
                       {"content_hash": "ab", "country": "GB", "browser": "Chrome"})
    unenriched = message("3.1", **{"$country": "GB"})
    assert StreamFilter(properties={"$country": "GB", "$browser": "Chrome"}).admits(enriched)
    assert not StreamFilter(properties={"$country": "FR"}).admits(enriched)
    assert not StreamFilter(properties={"$country": "GB"}).admits(unenriched)
    assert not StreamFilter(properties={"$city": "null"}).admits(enriched)  # none derived


def test_a_message_sent_through_redis_reads_back_and_filters_as_made() -> None:
    made = [Message(uuid4(), StreamPosition(9, n), "event",
                    {"name": name, "actor_id": "visitor_1", "properties": {"plan": "pro"}},
                    "2026-03-20T14:30:00Z", {"content_hash": "ab", "country": "DE"}, visitor=True)
            for n, name in enumerate(["a\tb", "c\nd"])]
    start, end, read = decode_page(made[0].workspace_id, encode_page(8, 12, made))
    assert (start, end) == (8, 12)
    assert [(m.position, m.kind, m.name, m.actor_id) for m in read] == \
        [(m.position, m.kind, m.name, m.actor_id) for m in made]
    assert [m.data for m in read] == [m.data for m in made]
    assert read[1].body["visitor_id"] == "visitor_1" and read[1].body["$country"] == "DE"
    wanted = StreamFilter(frozenset({"c\nd"}), "visitor_1", {"plan": "pro", "$country": "DE"})
    assert [wanted.admits(m) for m in read] == [False, True]


def test_a_page_made_for_redis_holds_what_the_log_reader_would_send() -> None:
    events = [{"event_id": f"e{n}", "category": "web", "name": f"n{n}", "timestamp_us": 10**15 + n,
               "actor_id": "visitor_1" if n else "ann", "properties": {"plan": "pro"}}
              for n in range(3)]
    accepted = EventBatch.accept(batch_id=uuid4(), workspace_id=uuid4(), received_at=datetime.now(UTC),
                                 events_json=orjson.dumps(events).decode(), count=3,
                                 client={"visitors": ["e1", "e2"]}).collect_events()[0]
    records = [{"event_id": f"e{n}", "content_hash": f"h{n}", "country": "DE"} for n in range(3)]
    derived = Derivation(orjson.dumps(records).decode(), records, orjson.loads(accepted.events_json))
    _, _, relayed = decode_page(accepted.workspace_id, page_of(4, 9, [(7, accepted, derived)]))
    read = messages_of(7, accepted, records)
    assert [(m.position, m.name, m.actor_id, m.data) for m in relayed] == \
        [(m.position, m.name, m.actor_id, m.data) for m in read]
    assert [m.body.get("visitor_id") for m in relayed] == [None, "visitor_1", "visitor_1"]
