"""An API process's enriched live stream through Redis: it forwards what the enrichment pipeline
published (infrastructure/stream_relay.py) to its subscribers, and reads from the log whatever
did not come (docs/decisions/live-stream.md, "Through Redis").

Redis pub/sub delivers at most once, so its messages are never trusted to be complete. Per
workspace the forwarder keeps a frontier: the notification up to which its subscribers have been
handed everything. Every page names its range, so one that does not start at the frontier, a
progress message for a page whose messages did not come, two quiet re-check intervals that end
behind the pipeline's place read before them, or a lost connection, each sends the forwarder to
the log for the rest (`EnrichedLog`) before it forwards more. A gap costs a read, never a message.

Joining: it SUBSCRIBEs to a workspace's channel on its first subscriber here and, once Redis has
confirmed it, takes the pipeline's place as the frontier. The pipeline moves its place before it
asks who listens, so a page it did not publish to us lies at or before that place, and a page past
it is published to us.

Without Redis: while it cannot be reached, the forwarder reads every streamed workspace's
messages from the log up to the pipeline's place every `OFFLINE_READ` seconds, as a lost page is
read, and starts a workspace joined meanwhile at that place; once Redis answers again it
subscribes them all and reads what it missed, as after any lost connection. A stream is slower
while Redis is down (up to `OFFLINE_READ` more), never silent.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from uuid import UUID

import redis

from infrastructure.live_stream import LiveStream
from infrastructure.stream_log import LogReader
from infrastructure.stream_relay import Progress, decode_page, progress_channel, workspace_channel

log = logging.getLogger("beacon.stream")
POLL = 0.05  # seconds between looks at the queue of joins and leaves
OFFLINE_READ = 0.5  # seconds between reads of the log while Redis is unreachable
PING_EVERY = 5.0  # seconds: Redis answers a ping within this, or the forwarder reads the log
CONNECT_TIMEOUT = 5.0  # seconds to (re)connect to Redis


def connection_name(namespace: str) -> str:
    return "beacon-stream:" + "".join(c if c.isalnum() or c in "/._-" else "_" for c in namespace)


class RedisForwarder:
    """Relays published pages to this process's subscribers, on one thread."""

    def __init__(self, url: str, namespace: str, reader: LogReader, frontier: Callable[[], int], *,
                 recheck_seconds: float):
        self.url, self.namespace, self.reader, self.frontier = url, namespace, reader, frontier
        self.recheck_seconds = recheck_seconds
        self._covered: dict[UUID, int] = {}  # the workspaces' frontiers (changed under the lock)
        self._commands: queue.SimpleQueue[tuple[bool, UUID]] = queue.SimpleQueue()
        self._channels: dict[bytes, UUID] = {}
        self._stream: LiveStream | None = None
        self._stop = threading.Event()

    def frontier_of(self, workspace_id: UUID) -> int | None:
        return self._covered.get(workspace_id)

    def watch(self, workspace_id: UUID) -> None:
        self._commands.put((True, workspace_id))

    def unwatch(self, workspace_id: UUID) -> None:
        self._commands.put((False, workspace_id))

    def wake(self) -> None:
        pass  # Redis wakes it

    def start(self, stream: LiveStream, stop: threading.Event) -> list[threading.Thread]:
        self._stream, self._stop = stream, stop
        thread = threading.Thread(target=self._run, daemon=True, name="live-stream-redis")
        thread.start()
        return [thread]

    def _run(self) -> None:
        offline = False
        while not self._stop.is_set():
            try:
                if offline and not self._without_redis():
                    return  # stopped while Redis was away
                offline = False
                self._relay()
            except redis.RedisError as error:
                log.warning("live stream lost Redis (%s); reading the log until it is back",
                            error)
                offline = True
            except Exception:
                log.exception("live stream relay failed; restarting")
                self._stop.wait(1.0)

    def _without_redis(self) -> bool:
        """Serve the streams from the log until Redis answers again (True) or the process
        stops (False)."""
        client = redis.Redis.from_url(self.url, socket_timeout=OFFLINE_READ,
                                      socket_connect_timeout=OFFLINE_READ, protocol=2)
        try:
            while not self._stop.wait(OFFLINE_READ):
                place = self.frontier()
                self._streamed_offline(place)
                for workspace_id in list(self._covered):
                    self._fill(workspace_id, place, quietly=True)
                try:
                    client.ping()
                except redis.RedisError:
                    continue
                log.warning("live stream: Redis answers again; subscribing")
                return True
            return False
        finally:
            client.close()

    def _streamed_offline(self, place: int) -> None:
        """While Redis is unreachable, the workspaces served are those streamed here: one
        joined (or whose join Redis had not confirmed when it went) starts at the pipeline's
        place, as `_joined` would start it; one left is dropped. The relay subscribes them all
        once Redis is back, so the joins and leaves asked for meanwhile are settled here."""
        while True:
            try:
                self._commands.get_nowait()
            except queue.Empty:
                break
        with self._lock():
            streamed = set(self._stream_of().workspaces())
            for workspace_id in set(self._covered) - streamed:
                del self._covered[workspace_id]
            for workspace_id in streamed - set(self._covered):
                self._covered[workspace_id] = place
                self._stream_of().establish(workspace_id, place)

    def _relay(self) -> None:
        # Named, so an operator (or a test) can tell its connection in CLIENT LIST. RESP2: over
        # RESP3, redis-py hands every published message to a push handler that formats it whole
        # for a debug log, which cost more than reading it (docs/performance.md).
        client = redis.Redis.from_url(self.url, client_name=connection_name(self.namespace),
                                      protocol=2, socket_connect_timeout=CONNECT_TIMEOUT,
                                      socket_keepalive=True)
        pubsub: Any = client.pubsub()
        progress = progress_channel(self.namespace).encode()
        awaiting: set[UUID] = set()
        try:
            pubsub.subscribe(progress)
            with self._lock():  # those served too: a leave and a join may both be queued
                again = set(self._stream_of().workspaces()) | set(self._covered)
            for workspace_id in again:  # (re)connecting: every workspace streamed here
                self._subscribe(pubsub, workspace_id, awaiting)
            places = deque([self.frontier()], maxlen=2)  # read at the last re-checks
            heard, quiet = False, 0
            check_at = time.monotonic() + self.recheck_seconds
            pinged, answered = time.monotonic(), True
            while not self._stop.is_set():
                self._obey(pubsub, awaiting)
                message = pubsub.get_message(timeout=POLL)
                if message is not None:
                    heard = heard or message["type"] == "message"
                    answered = answered or message["type"] == "pong"
                    self._handle(message, progress, awaiting)
                if time.monotonic() - pinged >= PING_EVERY:
                    # A Redis that hangs (paused, or cut off) closes nothing: unanswered for a
                    # whole interval, it is as good as gone.
                    if not answered:
                        raise redis.ConnectionError(f"no answer to a ping in {PING_EVERY:.0f} s")
                    pubsub.ping()
                    pinged, answered = time.monotonic(), False
                if time.monotonic() >= check_at:
                    quiet = 0 if heard else quiet + 1
                    # Quiet for two whole intervals (a big page may take one to be made), yet
                    # behind the place read before them: the pages up to there are lost. While
                    # pages come, their chain tells a lost one.
                    for workspace_id, covered in list(self._covered.items()):
                        if quiet >= 2 and workspace_id not in awaiting and covered < places[0]:
                            self._fill(workspace_id, places[0])
                    places.append(self.frontier())
                    heard, check_at = False, time.monotonic() + self.recheck_seconds
        finally:
            pubsub.close()
            client.close()

    def _obey(self, pubsub: Any, awaiting: set[UUID]) -> None:
        """Joins and leaves asked for since the last look."""
        while True:
            try:
                watch, workspace_id = self._commands.get_nowait()
            except queue.Empty:
                return
            with self._lock():
                wanted = self._stream_of().subscribed(workspace_id)
                if not watch and not wanted:
                    self._covered.pop(workspace_id, None)
            if watch and wanted and workspace_id not in self._covered and workspace_id not in awaiting:
                self._subscribe(pubsub, workspace_id, awaiting)
            elif not watch and not wanted:
                awaiting.discard(workspace_id)
                pubsub.unsubscribe(workspace_channel(self.namespace, workspace_id))

    def _subscribe(self, pubsub: Any, workspace_id: UUID, awaiting: set[UUID]) -> None:
        channel = workspace_channel(self.namespace, workspace_id)
        self._channels[channel.encode()] = workspace_id
        awaiting.add(workspace_id)
        pubsub.subscribe(channel)

    def _handle(self, message: dict[str, Any], progress: bytes, awaiting: set[UUID]) -> None:
        channel = message["channel"]
        if message["type"] == "subscribe":
            workspace_id = self._channels.get(channel)
            if workspace_id in awaiting:
                awaiting.discard(workspace_id)
                self._joined(workspace_id)
        elif message["type"] == "message":
            if channel == progress:
                self._progress(Progress.decode(message["data"]), awaiting)
            elif (workspace_id := self._channels.get(channel)) is not None \
                    and workspace_id not in awaiting:
                self._page(workspace_id, message["data"])

    def _joined(self, workspace_id: UUID) -> None:
        """Redis confirmed the subscription: from here every page past the pipeline's place
        comes to us."""
        place = self.frontier()
        if workspace_id in self._covered:  # subscribed again after a lost connection
            self._fill(workspace_id, place)
            return
        with self._lock():
            if self._stream_of().subscribed(workspace_id):
                self._covered[workspace_id] = place
                self._stream_of().establish(workspace_id, place)

    def _page(self, workspace_id: UUID, data: bytes) -> None:
        covered = self._covered.get(workspace_id)
        if covered is None:
            return  # no longer streamed here
        start, end, messages = decode_page(workspace_id, data)
        if start > covered:  # pages before this one did not come
            self._fill(workspace_id, start)
            covered = max(covered, self._covered.get(workspace_id, covered))
        fresh = [m for m in messages if m.position.notification > covered]
        with self._lock():
            if workspace_id in self._covered:
                self._stream_of().deliver(workspace_id, fresh)
                self._covered[workspace_id] = max(covered, end)

    def _progress(self, progress: Progress, awaiting: set[UUID]) -> None:
        for workspace_id, covered in list(self._covered.items()):
            if workspace_id in awaiting:
                continue
            if workspace_id in progress.published:
                if covered < progress.end:  # its page was published, and did not come
                    self._fill(workspace_id, progress.end)
                continue
            if covered < progress.start:
                self._fill(workspace_id, progress.start)
            with self._lock():  # nothing of it in this page
                if workspace_id in self._covered:
                    self._covered[workspace_id] = max(self._covered[workspace_id], progress.end)

    def _fill(self, workspace_id: UUID, upto: int, *, quietly: bool = False) -> None:
        """Read the workspace's messages after its frontier up to `upto` from the log (said in
        the log unless `quietly`: while Redis is away, every read is such a one)."""
        start = self._covered[workspace_id] + 1
        if start <= upto:
            log.log(logging.DEBUG if quietly else logging.INFO,
                    "live stream of %s: reading %d-%d from the log (not received through Redis)",
                    workspace_id, start, upto)
        while start <= upto:
            messages, end = self.reader.read(start, upto, workspace_id)
            with self._lock():
                if workspace_id not in self._covered:
                    return
                self._stream_of().deliver(workspace_id, messages)
                self._covered[workspace_id] = end
            start = end + 1

    def _stream_of(self) -> LiveStream:
        assert self._stream is not None
        return self._stream

    def _lock(self) -> threading.Lock:
        return self._stream_of().lock
