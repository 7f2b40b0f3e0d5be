"""Exception-group alert cost in a storm of errors (issue 19): a run judges an exception-group
rule at every report it read, so what matters is what measuring a rule at hundreds of instants
costs. Three ways in one run, the same instants, answers checked equal: measured together
(`SqlExceptionGroupMeter.values`: `new` and `over` in one statement), each instant alone, and
the latest alone (what a run did before it judged every report); and, as the raw baseline, the
latest alone without the `(workspace_id, received_at, fingerprint)` index on `rm_exceptions`
(before it, every evaluation read every report the workspace ever had).

    .venv/bin/python bench/exception_meter.py [--reports 200000] [--hours 24] [--groups 50]
        [--burst 500] [--windows 60,3600] [--rounds 5] [--database-url URL]

Writes `--reports` rows into `rm_exceptions` on PostgreSQL directly (the meter reads nothing
else; the projection's cost is not what is measured), received at random over `--hours` and of
`--groups` fingerprints, the last `--burst` of them within the half second a run reads (a storm),
plus as many of another workspace; VACUUM ANALYZE; then times each trigger and window. Prints
p50 / p95 of measuring one rule at the burst's instants. Not a test: run it on demand, record
the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from common import database_url_option, drop_schema, new_schema, percentile
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.time import from_micros, micros  # noqa: E402
from infrastructure.arrival_meters import SqlExceptionGroupMeter  # noqa: E402
from infrastructure.read_model_dialects import index_name  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.bootstrap import bootstrap  # noqa: E402
from projections.telemetry import EXCEPTIONS  # noqa: E402

INDEX = ("workspace_id", "received_at", "fingerprint")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--windows", default="60,3600")
    parser.add_argument("--rounds", type=int, default=5)
    database_url_option(parser)
    args = parser.parse_args()
    schema = new_schema()
    beacon = bootstrap(Settings(env="test", database_url=args.database_url, db_schema=schema,
                                data_dir=Path(tempfile.mkdtemp())))
    try:
        workspace, now = str(uuid.uuid4()), micros(datetime.now(UTC))
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            started = time.perf_counter()
            burst = load(conn, workspace, now, args)
            load(conn, str(uuid.uuid4()), now, args)  # another workspace's: never counted
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(EXCEPTIONS.name)))
            print(f"{2 * args.reports:,} reports of {args.groups} groups over {args.hours} h in "
                  f"two workspaces, the last {args.burst} of one within 0.5 s, loaded in "
                  f"{time.perf_counter() - started:.1f} s")
            meter = SqlExceptionGroupMeter(beacon.databases["Telemetry"])
            instants = [from_micros(at) for at in burst]
            print(f"trigger | window | a rule at {len(instants)} reports p50 / p95: together | "
                  "each alone | the latest alone (before) | the latest alone, without the index")
            rules = [{"type": "exception_group", "trigger": trigger, "window_seconds": window,
                      "quiet_seconds": 3600, "op": ">=", "value": 1}
                     for window in (int(w) for w in args.windows.split(","))
                     for trigger in ("new", "over", "regressed")]
            timed = [measure(meter, workspace, rule, instants, args.rounds) for rule in rules]
            index = sql.Identifier(index_name(EXCEPTIONS.name, INDEX))
            conn.execute(sql.SQL("DROP INDEX {}").format(index))  # the baseline, then back
            for rule, times in zip(rules, timed, strict=True):
                times["unindexed"] = [clock(lambda r=rule: meter.value(workspace, r, instants[-1]))
                                      for _ in range(args.rounds)]
            conn.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(
                index, sql.Identifier(EXCEPTIONS.name),
                sql.SQL(", ").join(map(sql.Identifier, INDEX))))
            for rule, times in zip(rules, timed, strict=True):
                print(f"{rule['trigger']} | {rule['window_seconds']} s | " + " | ".join(
                    f"{percentile(times[way], 0.5):.1f} / {percentile(times[way], 0.95):.1f} ms"
                    for way in ("together", "alone", "latest", "unindexed")))
    finally:
        beacon.close()
        drop_schema(args.database_url, schema)


def load(conn: psycopg.Connection[Any], workspace: str, now: int,
         args: argparse.Namespace) -> list[int]:
    """Reports received at random over the hours before `now`, the last `--burst` within the
    half second before it; returns the burst's moments (ascending)."""
    rng, span = random.Random(workspace), int(args.hours * 3600 * 1_000_000)
    burst = sorted({now - rng.randrange(500_000) for _ in range(args.burst)})
    moments = [now - 500_000 - rng.randrange(span) for _ in range(args.reports - len(burst))]
    groups = [f"fp-{n}" for n in range(args.groups)]
    with conn.cursor() as cur, cur.copy(sql.SQL(
            "COPY {} (workspace_id, exception_id, fingerprint, exception_type, message, "
            "occurred_at, received_at) FROM STDIN").format(sql.Identifier(EXCEPTIONS.name))) as copy:
        for n, at in enumerate(moments + burst):
            group = groups[min(int(rng.expovariate(0.2)), len(groups) - 1)]  # a few groups lead
            copy.write_row((workspace, f"e-{n}", group, "ValueError", "boom", at, at))
    return burst


def measure(meter: SqlExceptionGroupMeter, workspace: str, condition: dict[str, Any],
            instants: list[datetime], rounds: int) -> dict[str, list[float]]:
    timed: dict[str, list[float]] = {"together": [], "alone": [], "latest": []}
    for _ in range(rounds):  # alternating, the same instants each way
        started = time.perf_counter()
        together = meter.values(workspace, condition, instants)
        timed["together"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        alone = [meter.value(workspace, condition, at) for at in instants]
        timed["alone"].append((time.perf_counter() - started) * 1000)
        timed["latest"].append(clock(lambda: meter.value(workspace, condition, instants[-1])))
        if together != alone:
            raise SystemExit(f"{condition}: {together} != {alone}")
    return timed


def clock(work: Any) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
