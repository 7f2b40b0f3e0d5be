"""Telemetry read models: every accepted event, sessions with their last activity, exception reports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from domain.batch import EventBatch
from domain.exception_report import ExceptionReport
from domain.session import Session
from projections.hourly_rollups import ROLLUPS, hour_counts
from projections.model import (
    BIGINT,
    JSON,
    TEXT,
    InsertRecords,
    KeepMax,
    Op,
    Patch,
    Projection,
    Table,
    Upsert,
    micros,
)
from projections.model import UUID as UUID_COLUMN

EVENTS = Table(
    name="rm_events",
    # `properties` first: a breakdown reads it for every row it counts, and a column behind eight
    # variable-width ones costs walking them all. `workspace_id` is a uuid on PostgreSQL: 16 fixed
    # bytes lead the analytics index, so its build finds the next columns at a known offset.
    columns={"properties": JSON, "workspace_id": UUID_COLUMN, "event_id": TEXT, "name": TEXT,
             "category": TEXT, "actor_id": TEXT, "session_id": TEXT, "source_app": TEXT,
             "source_version": TEXT, "timestamp": BIGINT, "received_at": BIGINT},
    # Keys only ever matched by equality lead with their near-unique column, not the workspace:
    # all of a workspace's rows share its id, so an index build (a rebuild) sorting them by it
    # first cannot use PostgreSQL's abbreviated keys and compares whole ids.
    primary_key=("event_id", "workspace_id"),
    # actor_id rides along so funnels and unique-actor counts can read the index alone. The
    # session index is the session id alone: a timeline reads its rows from the heap, which
    # checks the workspace (a session id another workspace also sends costs a heap visit, never
    # a row), and sorts them by (timestamp, event_id), which no index order gave it anyway. One
    # key per session deduplicates, so the index is small and quick to build; the price is that
    # a page of a very long session reads the whole session.
    indexes=(("workspace_id", "name", "timestamp", "actor_id"), ("session_id",)),
    retired_indexes=(("session_id", "workspace_id", "timestamp"), ("session_id", "timestamp")),
    # A breakdown reads `properties` from the heap for one name's rows: keep those rows together.
    clustered_by=("workspace_id", "name"),
    keys_once=True,  # the dedupe ledger admits each (workspace, event_id) once
)
SESSIONS = Table(
    name="rm_sessions",
    columns={"workspace_id": TEXT, "session_id": TEXT, "actor_id": TEXT, "source_app": TEXT,
             "source_version": TEXT, "started_at": BIGINT, "ended_at": BIGINT, "end_reason": TEXT},
    primary_key=("workspace_id", "session_id"),
    # `ended_at`: the worker's minutely look for quiet open sessions reads the few open ones (NULL)
    # instead of every session ever (1M sessions, 1,000 open: 66 ms → 5 ms on PostgreSQL).
    indexes=(("workspace_id", "started_at"), ("ended_at",)),
)
ACTIVITY = Table(
    name="rm_session_activity",
    columns={"workspace_id": TEXT, "session_id": TEXT, "last_activity_at": BIGINT},
    primary_key=("workspace_id", "session_id"),
)
EXCEPTIONS = Table(
    name="rm_exceptions",
    columns={"workspace_id": TEXT, "exception_id": TEXT, "fingerprint": TEXT, "exception_type": TEXT,
             "message": TEXT, "severity": TEXT, "actor_id": TEXT, "source_app": TEXT,
             "source_version": TEXT, "session_id": TEXT, "occurred_at": BIGINT,
             "received_at": BIGINT, "stack_trace": TEXT, "breadcrumbs": JSON},
    primary_key=("workspace_id", "exception_id"),
    # Alert rules on exception groups count reports by when they were received, in a window
    # (without it, each evaluation read every report the workspace ever had).
    indexes=(("workspace_id", "fingerprint", "occurred_at"), ("workspace_id", "occurred_at"),
             ("workspace_id", "received_at", "fingerprint")),
)


# rm_events columns taken from each stored record (a TrackedEvent's fields).
RECORD_FIELDS = {"event_id": "event_id", "name": "name", "category": "category",
                 "actor_id": "actor_id", "session_id": "session_id", "source_app": "source_app",
                 "source_version": "source_version", "timestamp": "timestamp_us",
                 "properties": "properties"}


def iso_micros(value: str) -> int:
    return micros(datetime.fromisoformat(value))


class EventsProjection(Projection):
    """One row per accepted event, and the batch's counts added to the hourly rollup in the same
    page; the ledger guarantees one acceptance per (workspace, event_id)."""

    name = "events"
    source = "Telemetry"
    tables = (EVENTS, *ROLLUPS)
    topics = (get_topic(EventBatch.Accepted),)

    def ops(self, event: Any) -> Iterable[Op]:
        if not isinstance(event, EventBatch.Accepted):
            return
        workspace = str(event.workspace_id)
        yield InsertRecords(EVENTS.name, event.events_json, fields=RECORD_FIELDS, constants={
            "workspace_id": workspace, "received_at": micros(event.received_at)})
        yield from hour_counts(workspace, event.events_json)


class _Active(msgspec.Struct, gc=False):
    """The fields of a stored TrackedEvent the sessions projection reads (the others are skipped:
    decoding every event whole cost it three times as much, docs/performance.md)."""

    timestamp_us: int
    session_id: str | None = None


_active = msgspec.json.Decoder(list[_Active])


class SessionsProjection(Projection):
    """Sessions as started and ended, and the latest event seen in each (for timeouts)."""

    name = "sessions"
    source = "Telemetry"
    tables = (SESSIONS, ACTIVITY)
    topics = tuple(get_topic(c) for c in (Session.Started, Session.Ended, EventBatch.Accepted))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, Session.Started):
            workspace = str(event.workspace_id)
            yield Upsert(SESSIONS.name, {
                "workspace_id": workspace, "session_id": event.session_id,
                "actor_id": event.actor_id, "source_app": event.source_app,
                "source_version": event.source_version, "started_at": micros(event.started_at),
                "ended_at": None, "end_reason": None})
            yield KeepMax(ACTIVITY.name, {"workspace_id": workspace, "session_id": event.session_id,
                                          "last_activity_at": micros(event.started_at)},
                          "last_activity_at")
        elif isinstance(event, Session.Ended):
            yield Patch(SESSIONS.name,
                        {"workspace_id": str(event.workspace_id), "session_id": event.session_id},
                        {"ended_at": micros(event.ended_at), "end_reason": event.end_reason})
        elif isinstance(event, EventBatch.Accepted):
            latest: dict[str, int] = {}
            for record in _active.decode(str(event.events_json)):  # msgspec takes no subclass
                if record.session_id:
                    stamp = record.timestamp_us
                    latest[record.session_id] = max(stamp, latest.get(record.session_id, stamp))
            for session_id, stamp in latest.items():
                yield KeepMax(ACTIVITY.name, {"workspace_id": str(event.workspace_id),
                                              "session_id": session_id, "last_activity_at": stamp},
                              "last_activity_at")


class ExceptionsProjection(Projection):
    """One row per exception report."""

    name = "exceptions"
    source = "Telemetry"
    tables = (EXCEPTIONS,)
    topics = (get_topic(ExceptionReport.Reported),)

    def ops(self, event: Any) -> Iterable[Op]:
        if not isinstance(event, ExceptionReport.Reported):
            return
        report = event.report
        yield Upsert(EXCEPTIONS.name, {
            "workspace_id": str(event.workspace_id), "exception_id": event.exception_id,
            "fingerprint": event.fingerprint, "exception_type": report["exception_type"],
            "message": report.get("message"), "severity": report["severity"],
            "actor_id": report["actor_id"], "source_app": report["source_app"],
            "source_version": report["source_version"], "session_id": report.get("session_id"),
            "occurred_at": iso_micros(report["occurred_at"]), "received_at": micros(event.timestamp),
            "stack_trace": report.get("stack_trace"), "breadcrumbs": report.get("breadcrumbs"),
        })



class TelemetryQueries(ABC):
    """What the telemetry read models answer (besides the analytics engine)."""

    @abstractmethod
    def quiet_sessions(self, before_us: int, limit: int = 500) -> list[dict[str, Any]]:
        """Open sessions whose latest activity is older than `before_us`, oldest first."""

    @abstractmethod
    def count_events(self, workspace_id: str) -> int:
        """How many events a workspace's read model holds."""

    @abstractmethod
    def session(self, workspace_id: UUID, session_id: str) -> dict[str, Any] | None:
        """One session with its last activity."""

    @abstractmethod
    def sessions(self, workspace_id: UUID, *, actor_id: str | None, from_us: int | None,
                 to_us: int | None, after: tuple[int, str] | None,
                 limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Sessions newest first, after a (started_at µs, session_id) cursor."""

    @abstractmethod
    def session_events(self, workspace_id: UUID, session_ids: list[str], *, first: int,
                       after: tuple[int, str] | None) -> dict[str, tuple[list[dict[str, Any]], bool]]:
        """Timeline pages of many sessions at once (for DataLoaders)."""

    @abstractmethod
    def exception_groups(self, workspace_id: UUID, *, from_us: int, to_us: int,
                         source_app: str | None, after: tuple[int, str] | None,
                         limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Exception reports grouped by fingerprint, most frequent first."""

    @abstractmethod
    def exception_days(self, workspace_id: UUID, fingerprints: list[str], *, from_us: int,
                       to_us: int) -> dict[str, list[int]]:
        """Reports per day of the range (days counted from `from_us`), for each fingerprint."""
