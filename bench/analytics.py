"""Analytics benchmark (issue 4): load a deterministic data set through the application layer on
PostgreSQL, time the rebuild of the `events` read model beside a raw COPY of the same rows, then
p50/p95 of a 30-day hourly timeseries, a top-25 breakdown and a 3-step funnel, each beside DuckDB
(in memory) answering the same question over the same rows in the same run.

    .venv/bin/python bench/analytics.py [--events 1000000] [--runs 20] [--rounds 3]
        [--database-url URL]

Each round rebuilds the read model and then COPYs the same rows, side by side (this shared VM's
speed drifts by a quarter within minutes): the ratio reported is the median of the rounds'.

Not a test: run it on demand and record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from common import database_url_option, drop_schema, new_schema, percentile
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analytics_data import DAYS, JOURNEY, START, batches  # noqa: E402
from infrastructure.rebuilder import Rebuilder  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.bootstrap import Beacon, bootstrap  # noqa: E402
from interfaces.rest.app import tune_garbage_collection  # noqa: E402
from projections.analytics_questions import STEP_MICROS, EventQuery, FunnelQuery, Interval  # noqa: E402
from projections.model import micros  # noqa: E402

BEGIN, END = micros(START), micros(START + timedelta(days=DAYS))
WINDOW = 14 * 86_400 * 1_000_000
HOUR = STEP_MICROS[Interval.HOUR]


def checkpoint(url: str) -> None:
    """Untimed, before each timed write: the previous step's dirty pages are flushed, so neither
    the rebuild nor the COPY pays for the other's (or the load's) checkpoint."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def latencies(action: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """p50 and p95 in ms over `runs` (after two warm-up runs), and the last answer."""
    for _ in range(2):
        answer = action()
    samples = []
    for _ in range(runs):
        seconds, answer = timed(action)
        samples.append(seconds * 1000)
    return statistics.median(samples), percentile(samples, 0.95), answer


def load(beacon: Beacon, workspace: uuid.UUID, total: int) -> float:
    """Ingest through TelemetryApplication in 1000-event batches; returns seconds."""
    started = time.perf_counter()
    for batch in batches(total):
        beacon.telemetry.ingest(workspace, batch, limit=10**12)  # type: ignore[arg-type]
    return time.perf_counter() - started


def in_schema(url: str, schema: str) -> psycopg.Connection[Any]:
    """An autocommit connection whose search path is the bench's schema."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


def export(url: str, schema: str) -> bytes:
    """rm_events' rows as COPY text, for the baseline."""
    buffer = io.BytesIO()
    with in_schema(url, schema) as conn, conn.cursor() as cur, \
            cur.copy("COPY rm_events TO STDOUT") as copy:
        for data in copy:
            buffer.write(data)
    return buffer.getvalue()


def export_csv(url: str, schema: str) -> str:
    """rm_events' rows as a CSV file, for DuckDB. Written after the timed rounds: the kernel
    writing back a file of ~400 MB at 1M events slowed the rebuilds it overlapped."""
    csv = Path(tempfile.mkdtemp()) / "events.csv"
    with in_schema(url, schema) as conn, conn.cursor() as cur, cur.copy(
            "COPY rm_events TO STDOUT WITH (FORMAT csv, HEADER true)") as copy, csv.open("wb") as f:
        for data in copy:
            f.write(data)
    return str(csv)


def copy_baseline(url: str, schema: str, rows: bytes) -> tuple[float, int]:
    """COPY rm_events' rows (exported before, untimed) into a fresh plain table; seconds, rows."""
    with in_schema(url, schema) as conn:
        conn.execute("DROP TABLE IF EXISTS copy_baseline")
        conn.execute("CREATE TABLE copy_baseline (LIKE rm_events)")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY copy_baseline FROM STDIN") as copy:
            view = memoryview(rows)
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset:offset + (1 << 20)])
        seconds = time.perf_counter() - started
        count = conn.execute("SELECT COUNT(*) FROM copy_baseline").fetchone()[0]  # type: ignore[index]
    return seconds, int(count)


def duck(csv: str) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute(f"CREATE TABLE ev AS SELECT * REPLACE (properties::JSON AS properties) "
                 f"FROM read_csv('{csv}', header = true, auto_detect = true)")
    return conn


def duck_questions(conn: duckdb.DuckDBPyConnection, workspace: str,
                   event: str) -> dict[str, Callable[[], Any]]:
    scope = f"workspace_id = '{workspace}' AND timestamp >= {BEGIN} AND timestamp < {END}"
    a, b, c = JOURNEY
    funnel = f"""
      WITH s1 AS (SELECT actor_id, timestamp AS t1 FROM ev WHERE {scope} AND name = '{a}'),
      s2 AS (SELECT s1.actor_id, s1.t1, min(e.timestamp) AS t2 FROM s1 LEFT JOIN ev e
             ON e.workspace_id = '{workspace}' AND e.actor_id = s1.actor_id AND e.name = '{b}'
             AND e.timestamp BETWEEN s1.t1 AND s1.t1 + {WINDOW} GROUP BY ALL),
      s3 AS (SELECT s2.actor_id, s2.t2, min(e.timestamp) AS t3 FROM s2 LEFT JOIN ev e
             ON e.workspace_id = '{workspace}' AND e.actor_id = s2.actor_id AND e.name = '{c}'
             AND e.timestamp BETWEEN s2.t2 AND s2.t1 + {WINDOW} GROUP BY ALL)
      SELECT count(DISTINCT actor_id), count(DISTINCT actor_id) FILTER (WHERE t2 IS NOT NULL),
             count(DISTINCT actor_id) FILTER (WHERE t3 IS NOT NULL) FROM s3"""
    return {
        "timeseries": lambda: conn.execute(
            f"SELECT (timestamp - {BEGIN}) // {HOUR} AS b, count(*) FROM ev WHERE {scope} "
            f"AND name = '{event}' GROUP BY b ORDER BY b").fetchall(),
        "breakdown": lambda: conn.execute(
            f"SELECT properties->>'$.country' AS v, count(*) AS n FROM ev WHERE {scope} "
            f"AND name = '{event}' GROUP BY v ORDER BY n DESC, v NULLS LAST LIMIT 25").fetchall(),
        "funnel": lambda: conn.execute(funnel).fetchall()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--event", default="report_exported", help="for timeseries and breakdown")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rebuild-then-COPY pairs; the ratio reported is their median")
    parser.add_argument("--reuse", metavar="SCHEMA", help="query a schema a --keep run left loaded")
    parser.add_argument("--keep", action="store_true", help="leave the schema for --reuse")
    database_url_option(parser)
    args = parser.parse_args()
    schema = args.reuse or new_schema()
    settings = Settings(env="test", database_url=args.database_url, db_schema=schema,
                        data_dir=Path(tempfile.mkdtemp()))
    beacon = bootstrap(settings)
    db = beacon.databases["Telemetry"]
    try:
        if args.reuse:
            kept = db.query("SELECT workspace_id::text AS id FROM rm_events LIMIT 1")
            workspace = uuid.UUID(kept[0]["id"])
            ingest_s = live_s = float("nan")
        else:
            workspace = uuid.uuid4()
            ingest_s = load(beacon, workspace, args.events)
            live_s, _ = timed(beacon.runner("events").catch_up)
        exported = export(args.database_url, schema)
        rounds = []  # (rebuild seconds, COPY seconds, the rebuild's phases), side by side
        for _ in range(0 if args.reuse else args.rounds):
            checkpoint(args.database_url)
            rebuilder = Rebuilder(beacon.runner("events"))
            rebuild_s, _ = timed(rebuilder.run)
            checkpoint(args.database_url)
            copy_s, rows = copy_baseline(args.database_url, schema, exported)
            rounds.append((rebuild_s, copy_s, rebuilder.spent(digits=2)))
        if not rounds:  # --reuse: the baseline alone, for the row count and its rate
            copy_s, rows = copy_baseline(args.database_url, schema, exported)
        csv = export_csv(args.database_url, schema)
        engine = beacon.analytics
        query = EventQuery(str(workspace), args.event, BEGIN, END)
        funnel = FunnelQuery(str(workspace), JOURNEY, BEGIN, END, WINDOW)
        ours = {"timeseries": lambda: engine.timeseries(query, Interval.HOUR),
                "breakdown": lambda: engine.breakdown(query, "country", 25),
                "funnel": lambda: engine.funnel(funnel)}
        load_s, conn = timed(lambda: duck(csv))
        theirs = duck_questions(conn, str(workspace), args.event)
        # The dashboard's questions are answered in an API process, which tunes its garbage
        # collector at start-up (`beacon serve`, interfaces/asgi.py): this process does the same,
        # or a funnel's ~36,000 fetched rows pay for young passes the API never makes.
        tune_garbage_collection()
        results = {name: (latencies(ours[name], args.runs), latencies(theirs[name], args.runs))
                   for name in ours}
    finally:
        gc.unfreeze()  # so that DuckDB's objects are freed before exit, as it expects
        beacon.close()
        if args.keep:  # the schema stays for --reuse; the baseline's copy of the rows does not
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}.copy_baseline").format(
                    sql.Identifier(schema)))
        else:
            drop_schema(args.database_url, schema)
    if args.keep:
        print(f"kept schema {schema}: --reuse {schema}")
    report(args, rows, ingest_s, live_s, rounds, copy_s, load_s, results)


def report(args: Any, rows: int, ingest_s: float, live_s: float,
           rounds: list[tuple[float, float, str]], copy_s: float, duck_load_s: float,
           results: dict[str, Any]) -> None:
    print(f"analytics over {rows:,} events ({args.events:,} generated), 30 days, 50k actors, "
          f"PostgreSQL, {args.runs} runs each, {os.cpu_count()} cores")
    print(f"  ingest (application layer, 1000/batch) {rows / ingest_s:>10,.0f} events/s ({ingest_s:.1f}s)")
    print(f"  projection catch-up (live path)        {rows / live_s:>10,.0f} events/s ({live_s:.1f}s)")
    for n, (rebuild_s, round_copy_s, phases) in enumerate(rounds, 1):
        print(f"  round {n}: rebuild of `events`         {rows / rebuild_s:>10,.0f} events/s "
              f"({rebuild_s:.1f}s)")
        print(f"           raw COPY into a plain table {rows / round_copy_s:>10,.0f} rows/s "
              f"({round_copy_s:.1f}s)   ratio {round_copy_s / rebuild_s:.2f}")
        print(f"           rebuild phases: {phases}")
    if not rounds:
        print(f"  raw COPY into a plain table            {rows / copy_s:>10,.0f} rows/s ({copy_s:.1f}s)")
    ratios = [c / r for r, c, _ in rounds]
    if ratios:
        print(f"  rebuild / COPY = {statistics.median(ratios):.2f}, median of "
              f"{' '.join(f'{r:.2f}' for r in ratios)} (target >= 0.50)")
    print(f"  DuckDB in-memory load from CSV         {duck_load_s:.1f}s")
    print(f"  {'question':<58} {'Beacon p50':>10} {'p95':>8}   {'DuckDB p50':>10} {'p95':>8}  target")
    targets = {"timeseries": 50, "breakdown": 50, "funnel": 250}
    labels = {"timeseries": f"timeseries {args.event}, 30 d hourly",
              "breakdown": f"breakdown {args.event} by country, top 25",
              "funnel": "funnel " + " > ".join(JOURNEY)}
    for name, ((p50, p95, _), (d50, d95, _)) in results.items():
        met = "met" if p50 <= targets[name] else "NOT met"
        print(f"  {labels[name]:<58} {p50:>8.1f}ms {p95:>6.1f}ms   {d50:>8.1f}ms {d95:>6.1f}ms  "
              f"<= {targets[name]} ms: {met}")
    funnel_ours = tuple(s.count for s in results["funnel"][0][2].steps)
    print(f"  funnel counts: Beacon {funnel_ours}, DuckDB {tuple(results['funnel'][1][2])}")
    ours = [int(v) for _, v in results["timeseries"][0][2] if v]
    agree = ours == [n for _, n in results["timeseries"][1][2]]
    print(f"  timeseries answers agree with DuckDB: {agree}")


if __name__ == "__main__":
    main()
