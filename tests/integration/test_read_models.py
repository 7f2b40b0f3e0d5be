"""One contract for the read-model SQL, run against SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from domain.actor import ADMIN
from domain.errors import DomainError
from infrastructure.database import Database
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from projections.incidents import INCIDENTS, UPDATES
from tests.polling import eventually


def seed(beacon: Beacon, incidents: int = 3) -> tuple[uuid.UUID, list[uuid.UUID]]:
    workspace = beacon.workspaces.create_workspace(name="Acme", plan="pro", actor=ADMIN)
    beacon.statuspages.create_page(workspace.id, slug="acme", name="Acme", actor=ADMIN)
    ids = []
    for n in range(incidents):
        incident = beacon.statuspages.open_incident(
            workspace.id, "acme", title=f"incident {n}", impact="minor", state="investigating",
            message=f"first update of {n}", actor=ADMIN)
        beacon.statuspages.change_incident(workspace.id, incident.id, actor=ADMIN,
                                           impact="major")
        ids.append(incident.id)
    return workspace.id, ids


def snapshot(beacon: Beacon) -> dict[str, list[dict]]:
    db = beacon.runner("incidents").store.db
    return {table.name: db.query(f"SELECT * FROM {table.name} ORDER BY "
                                 f"{', '.join(table.primary_key)}")
            for table in (INCIDENTS, UPDATES)}


def test_a_page_of_events_becomes_rows_and_a_position(quiet_beacon: Beacon) -> None:
    workspace_id, ids = seed(quiet_beacon)
    runner = quiet_beacon.runner("incidents")
    assert runner.status().lag > 0
    runner.catch_up()
    assert runner.status().lag == 0
    page = quiet_beacon.incidents.list_incidents(workspace_id, "acme")
    assert [i.id for i in page.items] == list(reversed(ids))
    assert {i.impact for i in page.items} == {"major"} and page.total == 3
    updates = quiet_beacon.incidents.updates_for(ids)
    assert [u["message"] for u in updates[ids[0]]] == ["first update of 0"]


def test_queries_filter_by_workspace(quiet_beacon: Beacon) -> None:
    seed(quiet_beacon)
    quiet_beacon.runner("incidents").catch_up()
    assert quiet_beacon.incidents.list_incidents(uuid.uuid4(), "acme").total == 0


def test_pages_are_exactly_once_even_with_two_runners_racing(quiet_beacon: Beacon) -> None:
    seed(quiet_beacon, incidents=20)
    runner = quiet_beacon.runner("incidents")
    runner.page_size = 3
    twin = type(runner)(runner.projection, runner.app, runner.store, page_size=3)
    threads = [threading.Thread(target=r.catch_up) for r in (runner, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert runner.status().lag == 0
    rows = snapshot(quiet_beacon)
    assert len(rows[INCIDENTS.name]) == 20 and len(rows[UPDATES.name]) == 20


def test_a_stale_runner_cannot_apply_a_page_twice(quiet_beacon: Beacon) -> None:
    seed(quiet_beacon, incidents=1)
    store = quiet_beacon.runner("incidents").store
    quiet_beacon.runner("incidents").catch_up()
    assert store.apply([], expected=0, position=1) is False


def test_rebuilt_read_models_equal_the_live_ones(quiet_beacon: Beacon) -> None:
    workspace_id, ids = seed(quiet_beacon, incidents=12)
    quiet_beacon.statuspages.change_incident(workspace_id, ids[3], actor=ADMIN, resolved=True)
    runner = quiet_beacon.runner("incidents")
    runner.catch_up()
    live = snapshot(quiet_beacon)
    seen: list[tuple[int, int]] = []
    position = quiet_beacon.rebuild("incidents", progress=lambda p, h: seen.append((p, h)))
    assert snapshot(quiet_beacon) == live
    assert position == runner.status().head and runner.status().lag == 0
    assert seen and seen[-1][0] == seen[-1][1]


def test_the_old_tables_serve_while_a_rebuild_runs_and_nothing_is_lost(
        quiet_beacon: Beacon) -> None:
    workspace_id, _ = seed(quiet_beacon, incidents=30)
    quiet_beacon.start_projections()
    stop = threading.Event()
    counts: list[int] = []

    def read_and_write() -> None:
        n = 0
        while not stop.is_set():
            counts.append(quiet_beacon.incidents.list_incidents(workspace_id, "acme").total)
            quiet_beacon.statuspages.open_incident(workspace_id, "acme", title=f"during {n}",
                                                   impact="none", state="investigating",
                                                   message=None, actor=ADMIN)
            n += 1

    worker = threading.Thread(target=read_and_write)
    worker.start()
    runner = quiet_beacon.runner("incidents")
    runner.page_size = 5
    quiet_beacon.rebuild("incidents")
    stop.set()
    worker.join()
    assert eventually(lambda: not runner.status().lag)
    total = quiet_beacon.incidents.list_incidents(workspace_id, "acme").total
    assert total == 30 + len(counts)
    assert counts == sorted(counts)  # readers never saw the read model go backwards or empty


@pytest.mark.parametrize("backend", ["postgres"])  # LISTEN/NOTIFY is PostgreSQL's
def test_the_runner_follows_the_log_after_losing_its_listen_connection(
        quiet_beacon: Beacon) -> None:
    quiet_beacon.start_projections()
    workspace_id, _ = seed(quiet_beacon, incidents=1)
    time.sleep(0.5)  # let the listener connect
    with psycopg.connect(quiet_beacon.settings.database_url, autocommit=True) as conn:
        killed = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                              ).fetchall()
    assert killed, "no LISTEN connection to kill"
    quiet_beacon.statuspages.open_incident(workspace_id, "acme", title="after the loss",
                                           impact="none", state="investigating", message=None,
                                           actor=ADMIN)
    assert eventually(lambda: quiet_beacon.incidents.list_incidents(
        workspace_id, "acme").total == 2, timeout=15), \
        "the runner did not catch up after its LISTEN connection was killed"


def test_start_up_drops_the_indexes_earlier_releases_declared(settings: Settings) -> None:
    """An index an earlier release declared (the events' session index once led with the
    workspace too) is dropped at start-up, so writes stop paying for it; an operator's own
    indexes stay, even one named as PostgreSQL names indexes by default."""
    beacon = bootstrap(settings)
    store = beacon.runner("events").store
    with store.db.transaction() as cur:
        cur.execute("CREATE INDEX rm_events_session_id_workspace_id_timestamp_idx "
                    "ON rm_events (session_id, workspace_id, timestamp)")
        cur.execute("CREATE INDEX operators_own_index ON rm_events (source_app)")
        cur.execute("CREATE INDEX rm_events_category_idx ON rm_events (category)")
    beacon.close()

    beacon = bootstrap(settings)
    try:
        indexes = set(index_names(beacon.runner("events").store.db, "rm_events"))
    finally:
        beacon.close()
    assert "rm_events_session_id_workspace_id_timestamp_idx" not in indexes
    assert {"rm_events_session_id_idx", "rm_events_workspace_id_name_timestamp_actor_id_idx",
            "operators_own_index", "rm_events_category_idx"} <= indexes


def index_names(db: Database, table: str) -> list[str]:
    if db.dialect == "postgres":
        rows = db.query("SELECT indexname AS name FROM pg_indexes "
                        "WHERE schemaname = current_schema() AND tablename = %s", [table])
    else:
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                        [table])
    return [row["name"] for row in rows]


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite keeps UUIDs as text
def test_start_up_turns_a_text_workspace_id_of_an_earlier_release_into_a_uuid(
        settings: Settings) -> None:
    beacon = bootstrap(settings)
    db = beacon.runner("events").store.db
    workspace = str(uuid.uuid4())
    with db.transaction() as cur:
        cur.execute("DROP TABLE rm_events")
        cur.execute("CREATE TABLE rm_events (properties JSONB, workspace_id TEXT NOT NULL, "
                    "event_id TEXT NOT NULL, name TEXT, category TEXT, actor_id TEXT, "
                    "session_id TEXT, source_app TEXT, source_version TEXT, timestamp BIGINT, "
                    "received_at BIGINT, PRIMARY KEY (event_id, workspace_id))")
        cur.execute("INSERT INTO rm_events (workspace_id, event_id, name, timestamp, properties) "
                    "VALUES (%s, 'e1', 'signup', 1, '{\"plan\": \"pro\"}')", [workspace])
    beacon.close()

    beacon = bootstrap(settings)
    try:
        db = beacon.runner("events").store.db
        (column,) = db.query("SELECT data_type FROM information_schema.columns WHERE "
                             "table_schema = current_schema() AND table_name = 'rm_events' "
                             "AND column_name = 'workspace_id'")
        rows = db.query("SELECT event_id, name FROM rm_events WHERE workspace_id = %s", [workspace])
    finally:
        beacon.close()
    assert column["data_type"] == "uuid"
    assert rows == [{"event_id": "e1", "name": "signup"}]


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite's ANALYZE is not asked for
def test_analyze_leaves_json_documents_out_and_keeps_the_other_columns(settings: Settings) -> None:
    beacon = bootstrap(settings)
    try:
        db = beacon.runner("events").store.db
        with db.transaction() as cur:
            cur.execute("INSERT INTO rm_events (workspace_id, event_id, name, timestamp, properties) "
                        "SELECT %s, 'e' || n, 'n' || (n %% 3), n, jsonb_build_object('n', n) "
                        "FROM generate_series(1, 500) n", [str(uuid.uuid4())])
        with db.connection() as conn:
            conn.autocommit = True
            conn.execute("ANALYZE rm_events")
        columns = {row["attname"] for row in db.query(
            "SELECT attname FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = 'rm_events'")}
    finally:
        beacon.close()
    assert "properties" not in columns and {"name", "timestamp", "event_id"} <= columns


def test_a_projector_runs_only_the_projections_it_is_given(quiet_beacon: Beacon) -> None:
    """`beacon projector --only`/`--skip`: the enrichment pipeline in a process of its own."""
    workspace_id, _ = seed(quiet_beacon, incidents=3)
    with pytest.raises(DomainError, match="no projection named nope"):
        quiet_beacon.start_projections(only=["nope"])
    assert quiet_beacon.start_projections(skip=["enrichment", "incidents"]) == [
        r.name for r in quiet_beacon.runners if r.name not in ("enrichment", "incidents")]
    pages = quiet_beacon.runner("pages")  # the same log as the incidents
    assert eventually(lambda: pages.status().lag == 0)  # what it was given, it follows
    assert quiet_beacon.runner("incidents").status().lag > 0  # what it was not, it leaves
    assert quiet_beacon.incidents.list_incidents(workspace_id, "acme").total == 0


@pytest.mark.parametrize("rows", [3, 250])  # one statement a row, and a page COPYed (PostgreSQL)
def test_text_and_json_with_a_nul_are_written_with_u_fffd_on_postgresql(
        quiet_beacon: Beacon, rows: int) -> None:
    """What an earlier release let into the log with a NUL (infrastructure/nul_text.py)."""
    from projections.model import Upsert
    from projections.telemetry import EXCEPTIONS

    store = quiet_beacon.runner("exceptions").store
    workspace = str(uuid.uuid4())
    store.apply([Upsert(EXCEPTIONS.name, {
        "workspace_id": workspace, "exception_id": f"e{n}", "fingerprint": "f",
        "exception_type": "Value\x00Error", "message": "bad\x00value", "severity": "fatal",
        "actor_id": "ann", "source_app": "Shop", "source_version": "1", "session_id": None,
        "occurred_at": n, "received_at": n, "stack_trace": "",
        "breadcrumbs": [{"message": "clicked\x00", "path": "C:\\u0000"}]}) for n in range(rows)],
        expected=store.position(), position=store.position() + 1)
    db = store.db
    found = db.query(f"SELECT exception_type, message, breadcrumbs FROM {EXCEPTIONS.name} "
                     "WHERE workspace_id = %s", [workspace])
    nul = "\x00" if db.dialect == "sqlite" else "\ufffd"
    assert len(found) == rows
    assert {(r["exception_type"], r["message"]) for r in found} == {(f"Value{nul}Error",
                                                                      f"bad{nul}value")}
    assert [db.load_json(r["breadcrumbs"]) for r in found] == \
        [[{"message": f"clicked{nul}", "path": "C:\\u0000"}]] * rows
