"""A Server-Sent Events client for the tests: a real HTTP stream read frame by frame."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

READ_TIMEOUT = 15.0  # seconds without a byte before a test gives up on a stream
# Seconds a test waits for the messages it expects: keep-alives keep the read going, so a stream
# that sends nothing else would otherwise hold the test forever.
MESSAGES_TIMEOUT = 60.0


@dataclass
class Frame:
    """One SSE frame: a comment (keep-alive) or a message with its id, event and data."""

    comment: str | None = None
    id: str | None = None
    event: str = "message"
    data: str = ""

    @property
    def json(self) -> Any:
        return orjson.loads(self.data)


@dataclass
class EventStream:
    response: httpx.Response
    _lines: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self._lines = self.response.iter_lines()

    def next_frame(self) -> Frame | None:
        """The next frame, or None when the server has closed the stream."""
        frame, seen = Frame(), False
        for line in self._lines:
            if line == "":
                if seen:
                    return frame
                continue
            seen = True
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                frame.comment = value
            elif name == "id":
                frame.id = value
            elif name == "event":
                frame.event = value
            elif name == "data":
                frame.data = value if not frame.data else f"{frame.data}\n{value}"
        return None

    def messages(self, count: int) -> list[Frame]:
        """The next `count` messages, skipping keep-alives."""
        found: list[Frame] = []
        deadline = time.monotonic() + MESSAGES_TIMEOUT
        while len(found) < count:
            assert time.monotonic() < deadline, \
                f"{len(found)} of {count} messages in {MESSAGES_TIMEOUT:.0f} s (keep-alives only)"
            frame = self.next_frame()
            assert frame is not None, f"the stream closed after {len(found)} of {count} messages"
            if frame.comment is None:
                found.append(frame)
        return found

    def until_closed(self) -> list[Frame]:
        """Every message up to the end of the stream."""
        found = []
        while (frame := self.next_frame()) is not None:
            if frame.comment is None:
                found.append(frame)
        return found


@contextmanager
def open_stream(base_url: str, key: str, *, last_event_id: str | None = None,
                **params: Any) -> Iterator[EventStream]:
    """GET /api/v1/events/stream, returning once the server has subscribed (its `subscribed
    after` comment; keep-alives may come before it while the subscription is being set up)."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    timeout = httpx.Timeout(10.0, read=READ_TIMEOUT)
    with httpx.Client(base_url=base_url, timeout=timeout) as client, \
            client.stream("GET", "/api/v1/events/stream", headers=headers,
                          params=params) as response:
        assert response.status_code == 200, response.read()
        stream = EventStream(response)
        first = stream.next_frame()
        while first is not None and first.comment == "keep-alive":
            first = stream.next_frame()
        assert first is not None and (first.comment or "").startswith("subscribed"), first
        yield stream
