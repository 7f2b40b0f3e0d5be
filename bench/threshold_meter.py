"""Threshold alert cost at live traffic (issue 19): what one evaluation of a threshold rule costs
when the events are timed as they are sent, three ways in one run: as Beacon sums it (whole
minutes from `rm_event_minutes`, the edges' seconds from `rm_event_seconds`), summed from the
per-second counts alone (as it was before `rm_event_minutes`), and counted by the analytics engine
from `rm_events` rows (the way every rule was measured before `rm_event_seconds`; it reads the
hourly rollups only for a window holding a whole UTC hour).

    .venv/bin/python bench/threshold_meter.py [--rate 50000] [--seconds 30] [--names 20]
        [--windows 60,3600] [--instants 10] [--other-rules] [--arrivals K] [--no-vacuum]
        [--spread-days D] [--database-url URL]

Loads `--rate` × `--seconds` events through the application layer on PostgreSQL, their
timestamps spread evenly over `--seconds` (as a stream of `--rate` events/s of `--names` names
would be), catches up the `events` and `event_seconds` projections (timed: what the new
projection costs the projector), VACUUMs (so that the rows path gets index-only scans, its best
case; `--no-vacuum` leaves the rows as the projector wrote them, as they are while traffic
flows), then evaluates one count rule per name and window at `--instants` moments inside the
loaded span, the three ways, alternating, and checks that they give the same answers. A day's
window at live traffic: `--rate 20 --seconds 86400 --windows 60,3600,86400` (each name once a
second, as many rows per name in the counts as a busy stream makes). `--other-rules` also times
a filtered count and a unique-actors rule per name and window, which Beacon counts from rows.
Prints p50/p95 of one evaluation and of a round of every name's rule. `--arrivals K` also
times what a run does with a rule whose event arrived K times in the half second it read:
every arrival's value measured together (`values`), beside each measured alone and the latest
alone (what a run did before it judged every arrival), checking they agree. Not a test: run it
on demand, record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from common import database_url_option, drop_schema, new_schema, percentile
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.time import micros  # noqa: E402
from domain.tracked_event import check_event  # noqa: E402
from infrastructure.alert_meters import TIERS, SqlThresholdMeter, event_query  # noqa: E402
from infrastructure.analytics_queries import SqlAnalyticsQueries  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.bootstrap import bootstrap  # noqa: E402


def rule(name: str, window: int, metric: str = "count",
         filters: tuple[dict[str, str], ...] = ()) -> dict[str, Any]:
    return {"type": "threshold", "event": name, "metric": metric, "window_seconds": window,
            "op": ">", "value": 10**9, "filters": list(filters)}


# The rules the per-second and per-minute counts do not answer: Beacon counts their rows.
OTHER_RULES = {"count, filtered (plan = pro)": ("count", ({"key": "plan", "op": "eq",
                                                           "value": "pro"},)),
               "unique actors": ("unique_actors", ())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--names", type=int, default=20)
    parser.add_argument("--windows", default="60,3600")
    parser.add_argument("--instants", type=int, default=10)
    parser.add_argument("--arrivals", type=int, default=0,
                        help="also time a run's judging of a rule at this many arrivals")
    parser.add_argument("--other-rules", action="store_true", help="also time rules with a "
                        "property filter and of unique actors (what Beacon counts rows for)")
    parser.add_argument("--no-vacuum", action="store_true",
                        help="leave the rows as a projector just wrote them (no index-only scans)")
    parser.add_argument("--spread-days", type=float, default=0, help="time the events at random "
                        "over this many days instead (a backfill): what event_seconds then costs")
    database_url_option(parser)
    args = parser.parse_args()
    schema = new_schema()
    beacon = bootstrap(Settings(env="test", database_url=args.database_url, db_schema=schema,
                                data_dir=Path(tempfile.mkdtemp())))
    workspace, rng, total = uuid.uuid4(), random.Random(11), args.rate * args.seconds
    step, received = 1_000_000 / args.rate, datetime.now(UTC)
    # The events end as they are received: on time (a fixed start drifted, days later, past
    # the day after which an event counts as late, and the counts held none of them).
    start = received - timedelta(seconds=args.seconds)
    names = [f"event_{n}" for n in range(args.names)]

    def spread(n: int) -> int:
        if args.spread_days:
            return -rng.randrange(int(args.spread_days * 86_400 * 1_000_000))
        return int(n * step)

    try:
        started = time.perf_counter()
        for first in range(0, total, 1000):
            batch = [check_event({
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "category": "c",
                "name": names[n % len(names)], "actor_id": f"user-{rng.randrange(50_000)}",
                "properties": {"plan": rng.choice(("free", "pro"))},
                "timestamp": (start + timedelta(microseconds=spread(n))).isoformat()},
                received) for n in range(first, min(first + 1000, total))]
            beacon.telemetry.ingest(workspace, batch, limit=10**12)
        load_s = time.perf_counter() - started
        caught_up = {}
        for name in ("events", "event_seconds"):
            started = time.perf_counter()
            beacon.runner(name).catch_up()
            caught_up[name] = time.perf_counter() - started
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            for table in () if args.no_vacuum else ("rm_events", "rm_event_seconds",
                                                    "rm_event_minutes"):
                conn.execute(sql.SQL("VACUUM ANALYZE {}.{}").format(sql.Identifier(schema),
                                                                    sql.Identifier(table)))
            found = conn.execute(sql.SQL("SELECT count(*) FROM {}.rm_event_seconds").format(
                sql.Identifier(schema))).fetchone()
        seconds_rows = found[0] if found else 0
        before = beacon.analytics  # what the meter asked before: the analytics engine
        assert isinstance(before, SqlAnalyticsQueries)
        meter = SqlThresholdMeter(before)
        seconds_only = SqlThresholdMeter(before, TIERS[-1:])  # as it was before rm_event_minutes
        span = args.seconds * 1_000_000
        instants = [start + timedelta(microseconds=rng.randrange(span // 2, span))
                    for _ in range(args.instants)]
        print(f"{total:,} events over {args.seconds} s ({args.rate:,} events/s, {args.names} names),"
              f" loaded in {load_s:.1f} s; catch-up: events {caught_up['events']:.1f} s, "
              f"event_seconds {caught_up['event_seconds']:.1f} s ({seconds_rows:,} rows)")
        ways = ("rows", "seconds", "minutes")  # the analytics engine, seconds only, as Beacon does

        def measured(way: str, condition: dict[str, Any], at: datetime) -> float:
            if way == "rows":
                end = micros(at) + 1
                return before.metric(event_query(str(workspace), condition,
                                                 end - condition["window_seconds"] * 1_000_000, end))
            return (meter if way == "minutes" else seconds_only).value(str(workspace), condition, at)

        print("window | rows in it a rule | one evaluation p50 / p95: rows | seconds | minutes "
              "and seconds | a round of every name's rule p50: rows | seconds | minutes and seconds")
        for window in (int(w) for w in args.windows.split(",")):
            timings: dict[str, list[float]] = {way: [] for way in ways}
            rounds: dict[str, list[float]] = {way: [] for way in ways}
            counted: dict[str, float] = {}
            for at in instants:
                for way in ways:  # alternating, the same instant each way
                    round_started = time.perf_counter()
                    for name in names:
                        started = time.perf_counter()
                        value = measured(way, rule(name, window), at)
                        timings[way].append((time.perf_counter() - started) * 1000)
                        if way == "rows":
                            counted[name] = value
                        elif value != counted[name]:
                            raise SystemExit(f"{name} at {at}: {value} by {way}, "
                                             f"{counted[name]} by rows")
                    rounds[way].append((time.perf_counter() - round_started) * 1000)
            print(f"{window} s | {statistics.median(counted.values()):,.0f} | "
                  + " | ".join(f"{percentile(timings[way], 0.5):.2f} / "
                               f"{percentile(timings[way], 0.95):.2f} ms" for way in ways) + " | "
                  + " | ".join(f"{statistics.median(rounds[way]):.1f} ms" for way in ways))
        if args.other_rules:
            print("rule | window | one evaluation p50 / p95 | a round of every name's rule p50")
            for label, (metric, filters) in OTHER_RULES.items():
                for window in (int(w) for w in args.windows.split(",")):
                    each: list[float] = []
                    whole: list[float] = []
                    for at in instants:
                        round_started = time.perf_counter()
                        for name in names:
                            started = time.perf_counter()
                            meter.value(str(workspace), rule(name, window, metric, filters), at)
                            each.append((time.perf_counter() - started) * 1000)
                        whole.append((time.perf_counter() - round_started) * 1000)
                    print(f"{label} | {window} s | {percentile(each, 0.5):.2f} / "
                          f"{percentile(each, 0.95):.2f} ms | {statistics.median(whole):.1f} ms")
        if args.arrivals:
            judged_per_run(meter, str(workspace), names, instants, args)
    finally:
        beacon.close()
        drop_schema(args.database_url, schema)


def judged_per_run(meter: SqlThresholdMeter, workspace: str, names: list[str],
                   instants: list[datetime], args: argparse.Namespace) -> None:
    """A run judges each rule at every arrival of its event it read (`--arrivals` of them in
    the half second before each instant) and measures them together (`values`); beside it,
    what a run cost when it judged only the latest (one `value`), and each arrival measured
    on its own. Checks that `values` gives each one's answer."""
    print(f"rule | window | a rule judged at {args.arrivals} arrivals in 0.5 s p50 / p95: "
          "values together | each alone | the latest alone (before)")
    pro = OTHER_RULES["count, filtered (plan = pro)"][1]
    for label, metric, filters in (("count", "count", ()),
                                   ("count, filtered (plan = pro)", "count", pro),
                                   ("unique actors", "unique_actors", ())):
        for window in (int(w) for w in args.windows.split(",")):
            ways: dict[str, list[float]] = {"together": [], "alone": [], "latest": []}
            for at in instants:
                arrivals = sorted({at - timedelta(microseconds=500_000 * k // args.arrivals)
                                   for k in range(args.arrivals)})
                for name in names:
                    condition = rule(name, window, metric, filters)
                    started = time.perf_counter()
                    together = meter.values(workspace, condition, arrivals)
                    ways["together"].append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    alone = [meter.value(workspace, condition, moment) for moment in arrivals]
                    ways["alone"].append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    meter.value(workspace, condition, arrivals[-1])
                    ways["latest"].append((time.perf_counter() - started) * 1000)
                    if together != alone:
                        raise SystemExit(f"{name} {window} s at {at}: {together} != {alone}")
            print(f"{label} | {window} s | " + " | ".join(
                f"{percentile(ways[way], 0.5):.2f} / {percentile(ways[way], 0.95):.2f} ms"
                for way in ("together", "alone", "latest")))


if __name__ == "__main__":
    main()
