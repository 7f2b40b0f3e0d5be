"""What one sweep of the webhook outbox costs once it holds a long history.

    .venv/bin/python bench/outbox_sweep.py [--deliveries 1000000] [--days 365] [--new 100]
                                           [--repeat 20] [--backend postgres|sqlite]

The worker sweeps each outbox (page subscribers', alert channels') every 2 s for deliveries to
send. The outbox keeps every delivery ever made (the subscribers API and alert deliveries show
them), so the table grows for as long as Beacon runs. This fills one outbox as a long-running
install's would: `--deliveries` spread evenly over `--days` up to now, every one tried and
delivered, and `--new` made in the last minute and never tried; then times `SqlDeliveryStore.due`
(never-tried deliveries from the last week by the outbox's `occurred_at` index, and due retries
by the state's (status, next_attempt_at) index) beside the raw baseline measured in the same run:
the single anti-join over the whole outbox that `due` was before (`OLD_DUE`). Both must find the
same `--new` deliveries. Median of `--repeat`, ms a sweep. Not a test: record the figures in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from domain.time import micros  # noqa: E402
from infrastructure.database import Database, PostgresDatabase, SQLiteDatabase  # noqa: E402
from infrastructure.read_model_dialects import dialect_of  # noqa: E402
from infrastructure.webhook_deliveries import _JOIN, SqlDeliveryStore  # noqa: E402
from interfaces.alerting import alert_deliveries  # noqa: E402
from projections.alerts import ALERT_DELIVERIES  # noqa: E402
from tests.services import fresh_schema, require_postgres  # noqa: E402

OLD_DUE = (f"SELECT d.subscriber_id, d.incident_id, d.version FROM {ALERT_DELIVERIES.name} d "
           f"LEFT JOIN alert_delivery_state s ON {_JOIN} "
           "WHERE s.status IS NULL OR (s.status = 'pending' AND s.next_attempt_at <= %s "
           "AND (s.lease_until IS NULL OR s.lease_until <= %s)) "
           "ORDER BY d.occurred_at, d.version LIMIT %s")
DAY_US = 86_400 * 1_000_000


def fill(db: Database, deliveries: int, days: int, new: int, now: int) -> None:
    """`deliveries` delivered over `days` up to a minute ago, then `new` never tried."""
    step = max(days * DAY_US // max(deliveries, 1), 1)
    start = now - days * DAY_US
    old = [(f"ch{i % 50}", f"a{i // 50}", i, start + i * step) for i in range(deliveries)]
    fresh = [(f"ch{i % 50}", f"n{i}", i, now - 30_000_000 + i) for i in range(new)]
    outbox = ("subscriber_id, incident_id, version, workspace_id, page_slug, event_type, changes, "
              "occurred_at")
    if isinstance(db, PostgresDatabase):
        with db.connection() as conn, conn.cursor() as cur:
            with cur.copy(f"COPY {ALERT_DELIVERIES.name} ({outbox}) FROM STDIN") as copy:
                for ch, alert, version, at in old + fresh:
                    copy.write_row([ch, alert, version, "w", "", "alert.fired", "{}", at])
            with cur.copy("COPY alert_delivery_state (subscriber_id, incident_id, version, status, "
                          "attempts, updated_at) FROM STDIN") as copy:
                for ch, alert, version, at in old:
                    copy.write_row([ch, alert, version, "delivered", 1, at])
            conn.commit()
        return
    with db.transaction() as cur:
        cur.executemany(f"INSERT INTO {ALERT_DELIVERIES.name} ({outbox}) VALUES "
                        "(%s, %s, %s, 'w', '', 'alert.fired', '{}', %s)", old + fresh)
        cur.executemany("INSERT INTO alert_delivery_state (subscriber_id, incident_id, version, "
                        "status, attempts, updated_at) VALUES (%s, %s, %s, 'delivered', 1, %s)", old)
        cur.execute("ANALYZE")


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    found, times = None, []
    for _ in range(repeat):
        start = time.perf_counter()
        found = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    now = micros(datetime.now(UTC))
    with ExitStack() as stack:
        if args.backend == "postgres":
            url, schema = require_postgres(), stack.enter_context(fresh_schema())
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            db: Database = PostgresDatabase(url, schema)
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            db = SQLiteDatabase(Path(folder) / "alerts.sqlite")
        stack.callback(db.close)
        with db.transaction() as cur:
            for statement in dialect_of(db).create_statements(ALERT_DELIVERIES):
                cur.execute(statement)
        store: SqlDeliveryStore = alert_deliveries(db)
        started = time.perf_counter()
        fill(db, args.deliveries, args.days, args.new, now)
        if args.backend == "postgres":  # a year-old table has been vacuumed: its visibility map
            with psycopg.connect(url, autocommit=True,  # lets index-only probes skip the heap
                                 options=f"-c search_path={schema}") as conn:
                conn.execute("VACUUM ANALYZE")
        print(f"{args.backend}: {args.deliveries:,} delivered over {args.days} days + {args.new} "
              f"new, filled in {time.perf_counter() - started:.1f} s")
        base_ms, base = timed(lambda: db.query(OLD_DUE, [now, now, 100]), args.repeat)
        due_ms, due = timed(lambda: store.due(now, 100), args.repeat)
        assert len(due) == len(base) == min(args.new, 100), (len(due), len(base))
        print(f"one sweep, median of {args.repeat}: raw baseline (the whole outbox) "
              f"{base_ms:.1f} ms, due() {due_ms:.2f} ms ({base_ms / due_ms:.0f}x less)")


if __name__ == "__main__":
    main()
