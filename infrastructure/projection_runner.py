"""Beacon's projection runner (DESIGN.md decision 6).

Reads an application's notification log from the tracked position in pages, turns each page into
row operations and commits them with the new position in one transaction. It sleeps until the
database says something was written (PostgreSQL LISTEN/NOTIFY) or a poll interval passes (SQLite),
and always re-checks after a timeout so a lost LISTEN connection costs latency, never events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from eventsourcing.application import Application

from infrastructure.database import Cursor
from infrastructure.read_models import Failure, ReadModelStore
from infrastructure.tellers import Teller
from projections.deleted_workspaces import DeletedWorkspaceEvents, DeletedWorkspaces
from projections.model import Op, Projection

log = logging.getLogger("beacon.projections")
Progress = Callable[[int, int], None]  # (position, head)
LIVE_PAGE = 100  # notifications per transaction when following the log (a batch holds ≤1000 events)
RETRY_CAP = 60.0  # seconds at most between tries of a failing projection
ERROR_CHARS = 2000  # of a failure's message kept on record


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int
    failure: Failure | None = None  # while its pages fail

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)

    @property
    def failures(self) -> int:
        """Tries in a row its next page failed (0 while it works)."""
        return self.failure.failures if self.failure else 0

    @property
    def failing_since(self) -> int | None:
        """When its pages began to fail (µs since the epoch), None while it works."""
        return self.failure.since if self.failure else None


class ProjectionRunner:
    """Keeps one projection's read model up to date with its source application's log."""

    rebuildable = True  # a runner that records events instead of rows has nothing to rebuild

    def __init__(self, projection: Projection, app: Application[Any], store: ReadModelStore,
                 page_size: int = LIVE_PAGE, deleted: DeletedWorkspaces = frozenset):
        self.projection = projection
        self.app = app
        self.store = store
        self.page_size = page_size
        self.deleted = deleted
        self._forgotten = DeletedWorkspaceEvents(deleted)  # a deleted project's events
        self._wake = threading.Event()
        self._last_error = ""  # the last failure's text, to log a repeated one in a line
        # Told when `run` has moved the read model (a reaction that waits for it: alert evaluation).
        self.advanced: Callable[[], object] | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def reaches(self, position: int, timeout: float) -> bool:
        """Whether the read model reads its log up to `position` within `timeout` seconds
        (woken meanwhile, in case it runs in this process)."""
        deadline = time.monotonic() + timeout
        while self.store.position() < position:
            if time.monotonic() >= deadline:
                return False
            self.wake()
            time.sleep(0.02)
        return True

    def reaches_head(self, timeout: float) -> bool:
        """`reaches` the head the log has now."""
        return self.reaches(self.head(), timeout)

    def status(self) -> Status:
        return Status(self.name, self.store.position(), self.head(), self.store.failure())

    def ops_between(self, position: int, head: int) -> tuple[list[Op], int]:
        """The operations of one page of the log after `position`, and where that page ends."""
        notifications = self.app.recorder.select_notifications(
            start=position + 1, limit=self.page_size, stop=head, topics=self.projection.topics,
        )
        ops: list[Op] = []
        to_event = self.app.mapper.to_domain_event
        self._forgotten.refresh()
        for notification in notifications:
            event = to_event(notification)
            if not self._forgotten.drops(event):
                ops.extend(self.projection.ops(event))
        full_page = len(notifications) == self.page_size
        return ops, notifications[-1].id if full_page else head

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every page up to the current head; returns how many pages were applied."""
        pages = 0
        position = self.store.position()
        head = self.head()
        while position < head:
            ops, new_position = self.ops_between(position, head)
            if not self.store.apply(ops, expected=position, position=new_position):
                position = self.store.position()  # someone else moved it: start from there
                continue
            position = new_position
            pages += 1
            if progress:
                progress(position, head)
        return pages

    def write_since(self, cur: Cursor, position: int) -> int:
        """Inside a caller's transaction, write everything after `position` up to the head."""
        head = self.head()
        while position < head:
            ops, position = self.ops_between(position, head)
            self.store.write(cur, ops)
        return position

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Release what the runner holds of its own (its store's database is the caller's)."""

    def run(self, stop: threading.Event, poll_interval: float = 0.25,
            listening: bool = False) -> None:
        """Follow the log until `stop` is set: woken by a LogListener when `listening`, else polling;
        either way it re-checks after a timeout, so a lost wake-up costs latency, not events."""
        timeout = 5.0 if listening else poll_interval
        failures = 0
        recorded = True  # a failure may be on record (an earlier process's): cleared once it works
        teller: Teller | None = None  # tells `advanced`, off this thread (tellers.py)
        while not stop.is_set():
            try:
                moved = self.catch_up()
            except Exception as error:  # noqa: BLE001 - retried; on record until a page goes in
                failures += 1
                recorded = True
                self._failed(error, failures)
                stop.wait(min(RETRY_CAP, 2.0 ** min(failures - 1, 10)))  # 1, 2, 4, … 60 s
                moved = 0
            else:
                if recorded:
                    recorded = not self._recovered(failures)
                failures = 0
            if moved and self.advanced is not None:
                if teller is None:
                    teller = Teller(self.name, self.advanced, stop)
                teller.ask()
            self._wake.wait(timeout)
            self._wake.clear()

    def _failed(self, error: Exception, failures: int) -> None:
        """Log a failed try (its traceback the first time and whenever the error changes) and put
        it on record for `beacon projections status`, the API and the metrics."""
        text = f"{type(error).__name__}: {error}"[:ERROR_CHARS]
        if failures == 1 or text != self._last_error:
            log.exception("projection %s failed (%d in a row); retrying", self.name, failures)
        else:
            log.error("projection %s failed again (%d in a row): %s", self.name, failures, text)
        self._last_error = text
        try:
            self.store.record_failure(text, int(time.time() * 1_000_000))
        except Exception as recording:  # noqa: BLE001 - the database itself may be what fails
            log.warning("could not record projection %s's failure: %s", self.name, recording)

    def _recovered(self, failures: int) -> bool:
        """Clear the failure on record; whether that was done."""
        if failures:
            log.info("projection %s works again after %d failed tries", self.name, failures)
        try:
            self.store.clear_failure()
        except Exception as clearing:  # noqa: BLE001 - tried again after the next page
            log.warning("could not clear projection %s's failure: %s", self.name, clearing)
            return False
        return True


class Wakeable(Protocol):
    """A reader of a log that something can tell to read now (a runner, a live stream)."""

    def wake(self) -> None: ...


class LogListener(threading.Thread):
    """One LISTEN connection per application log: each NOTIFY wakes every reader of that log.
    Reconnects when the connection is lost."""

    def __init__(self, url: str, channel: str, runners: Sequence[Wakeable],
                 stop: threading.Event):
        super().__init__(daemon=True, name=f"listen-{channel}")
        self.url, self.channel, self.runners, self.stop = url, channel, runners, stop

    def wake(self) -> None:
        for runner in self.runners:
            runner.wake()

    @staticmethod
    def interrupt(url: str, listeners: Sequence[LogListener]) -> None:
        """Have stopping listeners see their stop now rather than at their next second's check:
        one NOTIFY per channel, from one short connection (so a close takes milliseconds)."""
        channels = {listener.channel for listener in listeners}
        if not channels:
            return
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
                for channel in channels:
                    conn.execute("SELECT pg_notify(%s, '')", [channel])
        except psycopg.Error as error:
            log.warning("could not interrupt log listeners (%s): they stop within a second",
                        error)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    self.wake()  # anything written while we were not listening
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except psycopg.Error as error:
                log.warning("LISTEN %s lost (%s); reconnecting", self.channel, error)
                self.stop.wait(1.0)
