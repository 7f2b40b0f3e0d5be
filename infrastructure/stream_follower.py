"""A live stream that reads the Telemetry log itself: without Redis, or without enrichment.

Its frontier is one notification for every workspace. It moves to the log's `frontier`: the head
when messages go as accepted (BEACON_ENRICHMENT=0), the enrichment pipeline's place when they go
enriched (everything up to it has its enrichment recorded). Wake-ups (infrastructure/
stream_wakes.py) only say "look now"; a re-check every `recheck_seconds` makes a lost one cost
latency, never messages. It reads only while someone listens (with no subscriber it moves its
frontier without reading), decodes each page once for every subscriber, and hands each workspace's
messages to that workspace's subscribers only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.stream import Message
from infrastructure.live_stream import LiveStream
from infrastructure.stream_log import LogReader

log = logging.getLogger("beacon.stream")
# Starts the threads that wake a follower (infrastructure/stream_wakes.py) until the event is set.
WakeSources = Callable[[Any, threading.Event], list[threading.Thread]]


class LogFollower:
    """Follows the log up to `frontier()` for every subscriber of the process."""

    def __init__(self, reader: LogReader, frontier: Callable[[], int], *, recheck_seconds: float,
                 wake_sources: WakeSources | None = None):
        self.reader, self.frontier = reader, frontier
        self.recheck_seconds = recheck_seconds
        self.wake_sources = wake_sources
        self.position = 0  # the frontier: every subscriber has been handed all up to it
        self._wake = threading.Event()
        self._stream: LiveStream | None = None
        self._stop = threading.Event()

    def frontier_of(self, workspace_id: UUID) -> int | None:
        return self.position

    def watch(self, workspace_id: UUID) -> None:
        pass

    def unwatch(self, workspace_id: UUID) -> None:
        pass

    def wake(self) -> None:
        self._wake.set()

    def start(self, stream: LiveStream, stop: threading.Event) -> list[threading.Thread]:
        self._stream, self._stop = stream, stop
        self.position = self.frontier()
        thread = threading.Thread(target=self._follow, daemon=True, name="live-stream")
        thread.start()
        return [thread, *(self.wake_sources(self, stop) if self.wake_sources else [])]

    def _follow(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.recheck_seconds)
            self._wake.clear()
            try:
                while not self._stop.is_set() and self._step():
                    pass
            except Exception:
                log.exception("live stream failed to read the log; retrying")
                self._stop.wait(1.0)

    def _step(self) -> bool:
        """Hand out one page after the frontier; True when there may be more."""
        stream = self._stream
        assert stream is not None
        target = self.frontier()
        if target <= self.position:
            return False
        with stream.lock:
            if not stream.listening:  # nobody listens: skip what nobody will be sent
                self.position = target  # (under the lock: one who joins now starts from here)
                return False
        messages, end = self.reader.read(self.position + 1, target, None)
        by_workspace: dict[UUID, list[Message]] = {}
        for message in messages:
            by_workspace.setdefault(message.workspace_id, []).append(message)
        with stream.lock:
            for workspace_id, found in by_workspace.items():
                stream.deliver(workspace_id, found)
            self.position = end
        return end < target
