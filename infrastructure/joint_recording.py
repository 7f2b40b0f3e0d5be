"""One transaction for the events of several applications: what a deploy puts in force.

A deploy changes the configuration and the pages, monitors and alert rules it owns, which live
in other applications' event stores. Each store is the library's: the same tables, statements
and notification logs; only the transaction is shared (docs/decisions/config-as-code.md).

- PostgreSQL: every application's events table is in one database and schema, so one connection
  runs each recorder's own lock, NOTIFY and insert in one transaction. Tables are locked in one
  order (by application name), and every other writer locks one table only: no deadlock.
- SQLite: each application has its own file. One connection opens the first application's file
  and ATTACHes the others, and one transaction inserts into each with the library's statements
  (its recorder over `<alias>.stored_events`). A failure anywhere rolls back every file. In WAL
  mode, SQLite keeps a multi-file commit atomic except if the host crashes during the COMMIT
  itself, when some files may have it and others not (https://sqlite.org/lang_attach.html).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnection

from application.base import LAST_POSITION, BeaconApplication

Saves = Sequence[tuple[BeaconApplication, Sequence[Any]]]


def stored_events(app: BeaconApplication, aggregates: Sequence[Any]) -> list[StoredEvent]:
    """The aggregates' pending events, as `app` would store them."""
    processing: ProcessingEvent[Any] = ProcessingEvent()
    processing.collect_events(*aggregates)
    return [app.mapper.to_stored_event(event) for event in processing.events]


def _in_order(saves: Saves) -> list[tuple[BeaconApplication, list[StoredEvent]]]:
    merged: dict[str, tuple[BeaconApplication, list[StoredEvent]]] = {}
    for app, aggregates in saves:
        events = stored_events(app, aggregates)
        if events:
            merged.setdefault(app.name, (app, []))[1].extend(events)
    return [merged[name] for name in sorted(merged)]


def _mark(positions: list[tuple[str, int]]) -> None:
    """Read-your-writes: the response carries the configuration's position, if it was saved."""
    if positions:
        LAST_POSITION.set(next((p for p in positions if p[0] == "Configuration"), positions[0]))


class PostgresJointRecorder:
    """Several applications' events in one PostgreSQL transaction."""

    def save(self, saves: Saves) -> None:
        batches = _in_order(saves)
        if not batches:
            return
        datastore = batches[0][0].recorder.datastore  # type: ignore[attr-defined]
        positions: list[tuple[str, int]] = []
        with datastore.transaction(commit=True) as curs:
            for app, events in batches:
                recorder = app.recorder
                assert isinstance(recorder, PostgresApplicationRecorder)
                recorder._insert_stored_events(curs, events)  # lock, NOTIFY, insert
                ids = recorder._fetch_ids_after_insert_events(curs, events)
                if ids:
                    positions.append((app.name, max(ids)))
        _mark(positions)

    def close(self) -> None:
        """Nothing of its own: it borrows the applications' pool."""


class SQLiteJointRecorder:
    """Several applications' events in one SQLite transaction over ATTACHed files."""

    def __init__(self, apps: Sequence[BeaconApplication]):
        self.files = {app.name: app.recorder.datastore.pool.db_name  # type: ignore[attr-defined]
                      for app in apps}
        self.main = sorted(self.files)[0]
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.recorders = {
            app.name: SQLiteApplicationRecorder(
                app.recorder.datastore,  # type: ignore[attr-defined]
                events_table_name="stored_events" if app.name == self.main
                else f"{self.alias(app.name)}.stored_events")
            for app in apps}

    @staticmethod
    def alias(name: str) -> str:
        return f"joint_{name.lower()}"

    def _connection(self) -> SQLiteConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            conn = sqlite3.connect(self.files[self.main], isolation_level=None, timeout=30,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            for name, path in self.files.items():
                if name != self.main:
                    conn.execute("ATTACH DATABASE ? AS " + self.alias(name), (path,))
            connection = self._local.connection = SQLiteConnection(conn, max_age=None)
            with self._lock:
                self._opened.append(conn)
        return connection

    def close(self) -> None:
        """Close the connection each thread opened."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def save(self, saves: Saves) -> None:
        batches = _in_order(saves)
        if not batches:
            return
        positions: list[tuple[str, int]] = []
        with self._connection().transaction(commit=True) as curs:
            for app, events in batches:
                ids = self.recorders[app.name]._insert_events(curs, events)
                if ids:
                    positions.append((app.name, max(ids)))
        _mark(positions)


def joint_recorder(apps: Sequence[BeaconApplication],
                   postgres: bool) -> PostgresJointRecorder | SQLiteJointRecorder:
    """The joint recorder of these applications' stores (built by the composition root)."""
    return PostgresJointRecorder() if postgres else SQLiteJointRecorder(apps)
