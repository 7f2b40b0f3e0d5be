"""Stream positions and filters: what a client sends back and what a subscriber asks for."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import orjson

from application.stream import Message, Notification, StreamFilter, StreamPosition


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
