"""The enrichment pipeline's own CPU an event (issue 19), in one process, no database.

    .venv/bin/python bench/pipeline_cpu.py [--batches 20] [--size 1000] [--repeat 10]

What the pipeline does with a page in the process that runs it, timed apart on batches shaped as
the API stores them (bench/ingest.py's events, checked into TrackedEvents, the client of one
browser): `derive` (decode the batch, canonical form and SHA-256 of every event, geo and device,
the records' JSON: application/enrichment.py `Enricher.derivation`) and `messages` (every event's
live-stream message for a subscribed workspace, as published through Redis:
infrastructure/stream_relay.py `page_of`). Beside them, the raw baseline measured in the same
run: decoding each batch's JSON and encoding every event again with orjson, the least any
per-event message could cost. Best of `--repeat`, µs an event. Not a test: run it on demand,
record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ingest import make_batches  # noqa: E402

from application.enrichment import Enricher  # noqa: E402
from application.stored_batches import batch_accepted  # noqa: E402
from domain.tracked_event import check_event  # noqa: E402
from infrastructure.geo import GeoDatabase  # noqa: E402
from infrastructure.stream_relay import page_of  # noqa: E402
from infrastructure.user_agents import UserAgentParser  # noqa: E402

CLIENT = {"network": "81.2.69.0", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) "
          "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}


def best(repeat: int, events: int, work: Callable[[], Any]) -> float:
    """µs an event, the best of `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times) / events * 1e6


def stored(accepted: Any) -> Any:
    """A batch as the pipeline reads it back from the log: its events' JSON a plain str."""
    return replace(accepted, events_json=str(accepted.events_json))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    now = datetime.now(UTC)
    workspace = uuid4()
    sources = [stored(batch_accepted(workspace, [check_event(e, now) for e in batch], now, CLIENT))
               for batch in make_batches(args.batches, args.size, seed=5)]
    events = args.batches * args.size
    enricher = Enricher(None, GeoDatabase(None), UserAgentParser())  # type: ignore[arg-type]
    enricher.derivation(sources[0])  # the lookups' caches warm, as in a running pipeline
    derived = [enricher.derivation(source) for source in sources]
    page = list(zip(range(1, len(sources) + 1), sources, derived, strict=True))

    def baseline() -> None:
        for source in sources:
            for event in orjson.loads(source.events_json):
                orjson.dumps(event)

    figures = {
        "raw baseline (decode the batch, encode each event)": best(args.repeat, events, baseline),
        "derive (Enricher.derivation)": best(
            args.repeat, events, lambda: [enricher.derivation(s) for s in sources]),
        "messages (stream_relay.page_of)": best(
            args.repeat, events, lambda: page_of(0, len(sources), page)),
    }
    print(f"enrichment pipeline CPU, {args.batches} batches of {args.size} events, "
          f"best of {args.repeat}:")
    for name, micros in figures.items():
        print(f"  {name:<52} {micros:5.2f} µs an event")


if __name__ == "__main__":
    main()
