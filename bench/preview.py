"""Alert preview cost (issue 19): `POST /api/v1/alerts/preview` replays a day of stored history
at every instant live evaluation would have judged (the 10 s grid and the rule's arrivals, up
to 10,000), each as it was known then. Two ways in one run, the same instants, answers checked
equal: as Beacon measures them (`Meter.known_values`: a count's values measured together,
minus the events that arrived too late for each instant, found in one read), and, as the raw
baseline, each instant's value asked of SQL alone with its `received_by` (how filtered counts
and unique actors were measured before 2026-12-08, and what a plain count's one query an
instant cost). Then the whole preview through the application, as the API runs it.

    .venv/bin/python bench/preview.py [--events 100000] [--hours 20] [--flush 30]
        [--actors 2000] [--window 3600] [--database-url URL]

Ingests `--events` events of 4 names through the application layer on PostgreSQL, their times
spread over the `--hours` before now, sent as an SDK that flushes its queue every `--flush`
seconds sends them: a batch an arrival, its events up to that old (most of them later than the
settle, so a preview must leave them out of the instants before they came); catches up the read
models; then previews a count, a filtered count and a unique-actors rule over the last
`--hours` (20 h of a 30 s flush is 9,600 instants, under the preview's 10,000). Not a test:
run it on demand, record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import database_url_option, drop_schema, new_schema

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from application.alert_evaluation import TICK, on_grid  # noqa: E402
from domain.time import iso, micros  # noqa: E402
from domain.tracked_event import check_event  # noqa: E402
from infrastructure.alert_meters import SqlThresholdMeter, event_query  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.bootstrap import Beacon, bootstrap  # noqa: E402

NAMES = ("visit", "checkout", "signup", "search")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--hours", type=float, default=20)
    parser.add_argument("--flush", type=int, default=30, help="seconds between an SDK's batches")
    parser.add_argument("--actors", type=int, default=2000)
    parser.add_argument("--window", type=int, default=3600, help="the rules' window, seconds")
    database_url_option(parser)
    args = parser.parse_args()
    schema = new_schema()
    beacon = bootstrap(Settings(env="test", database_url=args.database_url, db_schema=schema,
                                data_dir=Path(tempfile.mkdtemp())))
    try:
        workspace, end = uuid.uuid4(), datetime.now(UTC)
        start = end - timedelta(hours=args.hours)
        started = time.perf_counter()
        load(beacon, workspace, start, end, args)
        for name in ("events", "event_seconds"):
            beacon.runner(name).catch_up()
        print(f"{args.events:,} events over {args.hours} h, a batch every {args.flush} s, "
              f"{args.actors:,} actors, loaded and projected in {time.perf_counter() - started:.1f} s")
        meter = SqlThresholdMeter(beacon.analytics)
        settle = beacon.alert_evaluation.settle
        print("rule | instants | known values together | each instant alone (SQL) | "
              "the whole preview")
        for label, metric, filters in (
                ("count", "count", []),
                ("count, filtered (plan = pro)", "count",
                 [{"key": "plan", "op": "eq", "value": "pro"}]),
                ("unique actors", "unique_actors", [])):
            condition = {"type": "threshold", "event": "visit", "metric": metric,
                         "window_seconds": args.window, "op": ">", "value": 10**9,
                         "filters": filters}
            instants = judged(meter, str(workspace), condition, start, end)
            began = time.perf_counter()
            together = meter.known_values(str(workspace), condition, instants, settle)
            at_once = time.perf_counter() - began
            began = time.perf_counter()
            alone = [alone_value(beacon, str(workspace), condition, at, settle)
                     for at in instants]
            each = time.perf_counter() - began
            if together != alone:
                wrong = next(n for n, (a, b) in enumerate(zip(together, alone, strict=True))
                             if a != b)
                raise SystemExit(f"{label} at {instants[wrong]}: {together[wrong]} together, "
                                 f"{alone[wrong]} alone")
            began = time.perf_counter()
            beacon.alert_evaluation.preview(workspace, condition, start, end)
            whole = time.perf_counter() - began
            print(f"{label} | {len(instants):,} | {at_once:.2f} s | {each:.2f} s | {whole:.2f} s")
    finally:
        beacon.close()
        drop_schema(args.database_url, schema)


def load(beacon: Beacon, workspace: uuid.UUID, start: datetime, end: datetime,
         args: argparse.Namespace) -> None:
    """A batch every `--flush` seconds holding the events of the seconds before it, received
    within half a second of its end."""
    rng, flush = random.Random(7), args.flush * 1_000_000
    first, span = micros(start), micros(end) - micros(start)
    moments = sorted(first + rng.randrange(span) for _ in range(args.events))
    batch: list[dict[str, Any]] = []
    due = first + flush
    for at in moments + [micros(end) + flush]:
        while at > due:
            send(beacon, workspace, batch, due + rng.randrange(500_000))
            due += flush
        batch.append({"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                      "category": "bench", "name": rng.choice(NAMES),
                      "actor_id": f"user-{rng.randrange(args.actors)}",
                      "timestamp": iso(datetime.fromtimestamp(at / 1e6, UTC)),
                      "properties": {"plan": rng.choice(["free", "pro"])}})


def send(beacon: Beacon, workspace: uuid.UUID, records: list[dict[str, Any]],
         received: int) -> None:
    if records:
        beacon.telemetry.clock = lambda: datetime.fromtimestamp(received / 1e6, UTC)
        beacon.telemetry.ingest(workspace, [check_event(r, datetime.now(UTC)) for r in records],
                                limit=10**9)
        records.clear()


def judged(meter: SqlThresholdMeter, workspace: str, condition: dict[str, Any],
           start: datetime, end: datetime) -> list[datetime]:
    """The instants a preview judges: the rule's arrivals and the 10 s grid."""
    instants = set(meter.instants(workspace, condition, start, end))
    at = on_grid(start) + (TICK if on_grid(start) < start else timedelta(0))
    while at <= end:
        instants.add(at)
        at += TICK
    return sorted(instants)


def alone_value(beacon: Beacon, workspace: str, condition: dict[str, Any], at: datetime,
                settle: timedelta) -> float:
    window = condition["window_seconds"] * 1_000_000
    query = event_query(workspace, condition, micros(at) + 1 - window, micros(at) + 1)
    return beacon.analytics.metric(replace(
        query, received_by=micros(at) + settle // timedelta(microseconds=1)))


if __name__ == "__main__":
    main()
