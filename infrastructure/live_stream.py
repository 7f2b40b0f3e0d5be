"""The live event stream of one API process: every subscriber of the process, and the one
follower that brings them what the Telemetry log holds (DESIGN.md decision 13).

The follower is a reader of the log by position (infrastructure/stream_follower.py) or, with
Redis and enrichment, a relay of what the enrichment pipeline published (stream_forwarder.py).
Either keeps, per workspace, a frontier: the notification up to which every subscriber of that
workspace has been handed all it wants. A subscriber joins at the frontier, under the same lock
the follower hands messages out and moves it with: what came before it reads from the log itself
(`history`), what comes after reaches it live, with no gap and no repeat. Each subscriber is
served on its event loop with a bounded buffer, so a slow one is cut off (`overflowed`) instead of
slowing the follower or ingestion.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter, defaultdict, deque
from typing import Protocol
from uuid import UUID

from application.stream import Message, Notification, StreamFilter, StreamPosition
from infrastructure.stream_log import LogReader


class Subscription:
    """One subscriber's view: what it asked for, where it joined, and what waits to be sent."""

    def __init__(self, workspace_id: UUID, wanted: StreamFilter, after: StreamPosition | None,
                 limit: int, loop: asyncio.AbstractEventLoop):
        self.workspace_id, self.wanted, self.after, self.limit = workspace_id, wanted, after, limit
        self.caught_up_to: int | None = None  # the frontier it joined at, once it has
        self.loop = loop
        self.pending: deque[Message] = deque()
        self.overflowed = False
        self._ready = asyncio.Event()
        self._joined = asyncio.Event()

    def admits(self, message: Message) -> bool:
        return (self.after is None or message.position > self.after) and self.wanted.admits(message)

    def join(self, frontier: int) -> None:
        """From any thread, under the stream's lock: everything after `frontier` reaches it live."""
        self.caught_up_to = frontier
        self.loop.call_soon_threadsafe(self._joined.set)

    async def joined(self, timeout: float) -> bool:
        """Whether it has joined (waiting up to `timeout` seconds for it)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._joined.wait(), timeout)
        return self._joined.is_set()

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


class Follower(Protocol):
    """What brings a process's subscribers the log's messages, and knows their frontiers."""

    def frontier_of(self, workspace_id: UUID) -> int | None:
        """Under the stream's lock: the workspace's frontier, or None while it is being set up
        (the follower then calls `LiveStream.establish`)."""

    def watch(self, workspace_id: UUID) -> None:
        """Under the stream's lock: the workspace's first subscriber has come."""

    def unwatch(self, workspace_id: UUID) -> None:
        """Under the stream's lock: its last one has gone."""

    def start(self, stream: LiveStream, stop: threading.Event) -> list[threading.Thread]: ...

    def wake(self) -> None: ...


class LiveStream:
    """Every subscriber of this process, by workspace, and what the follower hands them."""

    def __init__(self, follower: Follower, reader: LogReader, *, buffer_size: int):
        self.follower, self.reader, self.buffer_size = follower, reader, buffer_size
        self.lock = threading.Lock()  # subscribers and frontiers change together
        self._subscribers: defaultdict[UUID, set[Subscription]] = defaultdict(set)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] | None = None
        self.ended: Counter[str] = Counter()  # streams ended by Beacon, by reason (metrics)

    @property
    def listening(self) -> bool:
        """Whether anyone in this process is subscribed (a hint: it may change at once)."""
        return bool(self._subscribers)

    def subscribe(self, workspace_id: UUID, wanted: StreamFilter,
                  after: StreamPosition | None) -> Subscription:
        """Join from the running loop: wait for `Subscription.joined`, then read what lies between
        `after` and where it joined with `history`; live messages queue meanwhile."""
        self._start()
        sub = Subscription(workspace_id, wanted, after, self.buffer_size,
                           asyncio.get_running_loop())
        with self.lock:
            first = not self._subscribers.get(workspace_id)
            self._subscribers[workspace_id].add(sub)
            frontier = self.follower.frontier_of(workspace_id)
            if frontier is not None:
                sub.join(frontier)
            elif first:
                self.follower.watch(workspace_id)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self.lock:
            self._remove(sub)

    def subscribers(self) -> int:
        """How many streams this process holds open (metrics)."""
        with self.lock:
            return sum(len(subs) for subs in self._subscribers.values())

    def subscribed(self, workspace_id: UUID) -> bool:
        """Under the lock: whether the workspace has a subscriber here."""
        return bool(self._subscribers.get(workspace_id))

    def workspaces(self) -> list[UUID]:
        """Under the lock: the workspaces with a subscriber here."""
        return list(self._subscribers)

    def establish(self, workspace_id: UUID, frontier: int) -> None:
        """Under the lock, by the follower: the workspace's frontier is set; whoever waits joins."""
        for sub in self._subscribers.get(workspace_id, ()):
            if sub.caught_up_to is None:
                sub.join(frontier)

    def deliver(self, workspace_id: UUID, messages: list[Message]) -> None:
        """Under the lock, by the follower: hand these messages (in log order, all after the
        workspace's frontier) to its subscribers; the follower then moves the frontier."""
        subs = self._subscribers.get(workspace_id)
        if not subs or not messages:
            return
        notification = Notification(messages)  # indexed once, for all its subscribers
        gone = []
        for sub in subs:
            if sub.caught_up_to is None:
                continue
            try:
                sub.loop.call_soon_threadsafe(sub.deliver, notification)
            except RuntimeError:  # its loop is closed: the subscriber is gone
                gone.append(sub)
        for sub in gone:
            self._remove(sub)

    def head(self) -> int:
        """Blocking: the last notification of the log, where a subscriber from now on starts
        (sources up to it still unenriched are behind it, accepted before it subscribed)."""
        return self.reader.head()

    def history(self, sub: Subscription, start: int) -> tuple[list[Message], int]:
        """Blocking: one page of `sub`'s messages from notification `start` up to where it joined,
        and the next notification to read (past `caught_up_to` when done)."""
        stop = sub.caught_up_to or 0
        if start > stop:
            return [], stop + 1
        messages, end = self.reader.read(start, stop, sub.workspace_id)
        return [m for m in messages if sub.admits(m)], end + 1

    def wake(self) -> None:
        """Something was written to the log: look now (safe from any thread)."""
        self.follower.wake()

    def close(self) -> None:
        self._stop.set()
        self.follower.wake()
        for thread in self._threads or ():
            thread.join(timeout=5)

    def _start(self) -> None:
        with self.lock:
            if self._threads is None:
                self._threads = self.follower.start(self, self._stop)

    def _remove(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.workspace_id)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self._subscribers[sub.workspace_id]
            self.follower.unwatch(sub.workspace_id)
