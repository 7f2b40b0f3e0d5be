"""The live event stream of one API process: one reader of the Telemetry log fanning out to
every subscriber (DESIGN.md decision 13).

The log is the source of truth; wake-ups (infrastructure/stream_wakes.py) only say "read now",
and a re-check every `recheck_seconds` makes a lost one cost latency, never messages. Reading and
fan-out run on one thread; each subscriber is served on its own event loop, and a bounded buffer
means a slow one is cut off (`overflowed`) instead of slowing the reader or ingestion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from application.stream import (
    Message,
    Notification,
    StreamFilter,
    StreamPosition,
    messages_of,
)
from domain.batch import EventBatch
from domain.exception_report import ExceptionReport

log = logging.getLogger("beacon.stream")
TOPICS = (get_topic(EventBatch.Accepted), get_topic(ExceptionReport.Reported))
PAGE = 100  # notifications per read (a batch holds up to 1,000 events)
# Starts the threads that wake a reader (infrastructure/stream_wakes.py) until the event is set.
WakeSources = Callable[[Any, threading.Event], list[threading.Thread]]


class Subscription:
    """One subscriber's view: what it asked for, and what is waiting to be sent to it."""

    def __init__(self, workspace_id: UUID, wanted: StreamFilter, after: StreamPosition | None,
                 limit: int, loop: asyncio.AbstractEventLoop):
        self.workspace_id, self.wanted, self.after, self.limit = workspace_id, wanted, after, limit
        self.caught_up_to = 0  # the last notification the reader had fanned out when it joined
        self.loop = loop
        self.pending: deque[Message] = deque()
        self.overflowed = False
        self._ready = asyncio.Event()

    def admits(self, message: Message) -> bool:
        return (self.after is None or message.position > self.after) and self.wanted.admits(message)

    def deliver(self, notification: Notification) -> None:
        """On the subscriber's loop: queue what it wants, or mark it overflowed when full."""
        if self.overflowed:
            return
        wanted = [m for m in notification.candidates(self.wanted) if self.admits(m)]
        if len(self.pending) + len(wanted) > self.limit:
            self.overflowed = True
        else:
            self.pending.extend(wanted)
        if wanted or self.overflowed:
            self._ready.set()

    async def take(self, timeout: float) -> list[Message]:
        """What is waiting (possibly nothing, after `timeout` seconds)."""
        if not self.pending and not self.overflowed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout)
        self._ready.clear()
        taken = list(self.pending)
        self.pending.clear()
        return taken


class LiveStream:
    """Follows the Telemetry log from its head while anyone listens, and hands every subscriber
    of a workspace what that workspace's notifications hold."""

    def __init__(self, app: Application[Any], *, buffer_size: int, recheck_seconds: float,
                 wake_sources: WakeSources | None = None):
        self.app = app
        self.wake_sources = wake_sources
        self.buffer_size = buffer_size
        self.recheck_seconds = recheck_seconds
        self.position = 0  # the last notification fanned out
        self._subscribers: defaultdict[UUID, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()  # the position and the subscribers change together
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[threading.Thread] = []

    def subscribe(self, workspace_id: UUID, wanted: StreamFilter,
                  after: StreamPosition | None) -> Subscription:
        """Join from the running loop: live messages queue at once; what lies between `after` and
        the reader's position is read with `history`."""
        self._start()
        sub = Subscription(workspace_id, wanted, after, self.buffer_size,
                           asyncio.get_running_loop())
        with self._lock:
            sub.caught_up_to = self.position
            self._subscribers[workspace_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subscribers.get(sub.workspace_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[sub.workspace_id]

    def history(self, sub: Subscription, start: int) -> tuple[list[Message], int]:
        """Blocking: one page of `sub`'s messages from notification `start` up to where it joined,
        and the next notification to read (past `caught_up_to` when done)."""
        notifications = self.app.recorder.select_notifications(
            start=start, limit=PAGE, stop=sub.caught_up_to, topics=TOPICS)
        found: list[Message] = []
        to_event = self.app.mapper.to_domain_event
        for notification in notifications:
            event = to_event(notification)
            if getattr(event, "workspace_id", None) == sub.workspace_id:
                found.extend(m for m in messages_of(notification.id, event) if sub.admits(m))
        if len(notifications) < PAGE:
            return found, sub.caught_up_to + 1
        return found, notifications[-1].id + 1

    def wake(self) -> None:
        """Something was written to the log: read it now (safe from any thread)."""
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in [*self._listeners, *([self._thread] if self._thread else [])]:
            thread.join(timeout=5)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self.position = self.app.recorder.max_notification_id() or 0
            self._thread = threading.Thread(target=self._follow, daemon=True, name="live-stream")
            self._thread.start()
            if self.wake_sources is not None:
                self._listeners = self.wake_sources(self, self._stop)

    def _follow(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.recheck_seconds)
            self._wake.clear()
            try:
                while self._read_page():
                    pass
            except Exception:
                log.exception("live stream failed to read the log; retrying")
                self._stop.wait(1.0)

    def _read_page(self) -> bool:
        """Fan out one page after `position`; True when there may be more."""
        head = self.app.recorder.max_notification_id() or 0
        if head <= self.position:
            return False
        with self._lock:
            if not self._subscribers:  # nobody listens: skip what nobody will be sent
                self.position = head  # (under the lock: one who joins now starts from here)
                return False
        notifications = self.app.recorder.select_notifications(
            start=self.position + 1, limit=PAGE, stop=head, topics=TOPICS)
        to_event = self.app.mapper.to_domain_event
        decoded: list[tuple[int, Any]] = [(n.id, to_event(n)) for n in notifications]
        end = notifications[-1].id if len(notifications) == PAGE else head
        gone: list[Subscription] = []
        with self._lock:
            for notification_id, event in decoded:
                subs = self._subscribers.get(event.workspace_id)
                if not subs:
                    continue
                # Decoded once, for all its subscribers.
                notification = Notification(messages_of(notification_id, event))
                for sub in subs:
                    try:
                        sub.loop.call_soon_threadsafe(sub.deliver, notification)
                    except RuntimeError:  # its loop is closed: the subscriber is gone
                        gone.append(sub)
            self.position = end
        for sub in gone:
            self.unsubscribe(sub)
        return end < head
