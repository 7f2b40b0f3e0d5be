"""Pipeline cost (issue 19): ingest throughput with the enrichment and alert pipeline running,
beside the same ingest without it, in one run.

    .venv/bin/python bench/pipeline_cost.py [--rounds 4] [--batches 300] [--clients 4]
        [--workers 2] [--alert-rules 20] [--on all|enrichment|alerts] [--pin]
        [--database-url URL] [--redis-url URL]

Production shape on PostgreSQL + Redis: `beacon serve --no-projections --no-worker` throughout,
and, for each timed part, the processes of one mode:
- off: `beacon projector` with BEACON_ENRICHMENT=0 (the read models only), no worker;
- on: `beacon projector` (the read models and the enrichment pipeline) and `beacon worker`
  (alert evaluation and the alerts' webhook outbox); `--on enrichment` or `--on alerts` runs
  one half only, to tell their costs apart.
The workspace has `--alert-rules` threshold rules on the load's own event names (`event_0`...),
so every batch touches every rule; their thresholds are never reached (the load's events are
dated in March), so they are evaluated and never fire. Before each timed part its processes
start and catch up untimed (every projection at the head of its log, and in the on mode alert
evaluation too), so a part pays only for what its own batches cost; after it, how long they took
to catch up again is printed (a pipeline that falls behind shows there, not in the rate). Each
round times one part of each mode, in alternating order (off first, then on first: keep the
number of rounds even, as which mode goes first moves a round's ratio by up to 0.1), with
bench/ingest.py's clients; the figure is the median of the rounds' on/off ratios (target >=
0.90). Not a test: run it on demand, record the figures in docs/performance.md.

`--pin` stands in for the production shape's separate machines on this one: while a part is
timed, the part's own processes with their PostgreSQL backends (told apart by PGAPPNAME) and
Redis run on the last CPU, and the API processes, the load generator and every other PostgreSQL
process on the others (Linux CPU affinity, re-applied every half second to new backends and
threads; everything is given every CPU again afterwards). The ratio then shows what the pipeline
costs ingestion through the database (locks, I/O, WAL), not through the CPUs they share.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
from alert_delay import create_rules, rule_condition, workspace_key
from common import database_url_option, drop_schema, new_schema
from ingest import (
    ADMIN,
    api_pids,
    beacon_process,
    checkpoint,
    cpu_seconds,
    family,
    free_port,
    ingest_key,
    make_batches,
    run_clients,
    start_server,
)
from psycopg import sql

OFF = (("projector", {"BEACON_ENRICHMENT": "0"}),)
ON = {"all": (("projector", {"BEACON_ENRICHMENT": "1"}), ("worker", {})),  # what the issue asks
      "enrichment": (("projector", {"BEACON_ENRICHMENT": "1"}),),  # to tell the two costs apart
      "alerts": (("projector", {"BEACON_ENRICHMENT": "0"}), ("worker", {}))}


def caught_up(base: str, key: str, url: str, schema: str, enriching: bool, evaluating: bool,
              processes: list[subprocess.Popen[bytes]], timeout: float = 300) -> None:
    """Wait until the running readers have reached the head of their logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit(f"a process exited: {[p.args for p in processes if p.poll() is not None]}")
        statuses = httpx.get(f"{base}/api/v1/projections",
                             headers={"Authorization": f"Bearer {key}"}).json()["data"]
        running = [s for s in statuses if enriching or s["name"] != "enrichment"]
        telemetry_head = max(s["head"] for s in statuses if s["name"] == "events")
        evaluated = evaluation_position(url, schema) if evaluating else telemetry_head
        if all(s["lag"] == 0 for s in running) and evaluated >= telemetry_head:
            return
        time.sleep(0.5)
    raise SystemExit(f"the pipeline did not catch up in {timeout:.0f}s")


PIPELINE_APP = "beacon-bench-pipeline"  # the PGAPPNAME of the timed part's own processes


def named(command: str) -> list[int]:
    """Every process whose command name is `command`."""
    pids = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == command:
                pids.append(int(entry.name))
    return pids


def parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2:].split()[1])


def set_affinity(pids: list[int], cpus: set[int]) -> None:
    """Put every thread of these processes on these CPUs (gone processes are skipped)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task.name), cpus)


@contextlib.contextmanager
def pinned(url: str, pipeline: list[int], api: list[int]) -> Iterator[None]:
    """The pipeline's processes, their backends and Redis on the last CPU, the rest on the others."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--pin needs two CPUs or more")
    theirs, ours = {cpus[-1]}, set(cpus[:-1])
    stop = threading.Event()

    def apply() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            backends = {int(pid): name for pid, name in conn.execute(
                "SELECT pid, application_name FROM pg_stat_activity").fetchall()}
        postgres = named("postgres")
        postmaster = [p for p in postgres if parent(p) not in postgres]  # new backends: its CPUs
        side = [pid for pid, name in backends.items() if name == PIPELINE_APP]
        set_affinity([p for root in pipeline for p in family(root)] + side + named("redis-server"),
                     theirs)
        set_affinity(api + [os.getpid()]
                     + [p for p in postgres if p not in side and p not in postmaster], ours)

    def keep() -> None:
        while not stop.wait(0.5):
            apply()

    apply()
    keeper = threading.Thread(target=keep, daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()
        everything = set(cpus)
        set_affinity(named("postgres") + named("redis-server") + [os.getpid()]
                     + api + [p for root in pipeline for p in family(root)], everything)


def wal(url: str) -> tuple[int, int]:
    """PostgreSQL's WAL so far: bytes and full-page images (pg_stat_wal, PostgreSQL 14+)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT wal_bytes, wal_fpi FROM pg_stat_wal").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def evaluation_position(url: str, schema: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            row = conn.execute(sql.SQL("SELECT position FROM {}.alert_evaluation_positions "
                                       "WHERE name = 'telemetry'").format(sql.Identifier(schema))
                               ).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


def timed_part(mode: str, shape: tuple[str, str, str], base: str, keys: tuple[str, str],
               batches: list[list[dict[str, Any]]], clients: int, api: list[int],
               on: str, pin: bool) -> dict[str, Any]:
    """Start the mode's processes, let them catch up, time the batches' ingest, stop them."""
    url, schema, redis_url = shape
    commands = OFF if mode == "off" else ON[on]
    processes = [beacon_process(url, schema, command, BEACON_REDIS_URL=redis_url,
                                PGAPPNAME=PIPELINE_APP, **env)
                 for command, env in commands]
    enriching = any(env.get("BEACON_ENRICHMENT") == "1" for _, env in commands)
    evaluating = any(command == "worker" for command, _ in commands)
    try:
        caught_up(base, keys[1], url, schema, enriching, evaluating, processes)
        checkpoint(url)
        pids = [p.pid for p in processes]
        wal_before = wal(url)
        before = cpu_seconds(pids=api), cpu_seconds(pids=pids), cpu_seconds(names=("postgres",))
        with pinned(url, pids, api) if pin else contextlib.nullcontext():
            result = run_clients(base, keys[0], batches, clients)
            spent = (cpu_seconds(pids=api) - before[0], cpu_seconds(pids=pids) - before[1],
                     cpu_seconds(names=("postgres",)) - before[2])
        wal_timed = wal(url)
        ended = time.monotonic()
        caught_up(base, keys[1], url, schema, enriching, evaluating, processes)
        drain = time.monotonic() - ended
        wal_after = wal(url)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    events = max(result["accepted"], 1)
    return {**result, "api_us": spent[0] / events * 1e6, "pipeline_us": spent[1] / events * 1e6,
            "pg_us": spent[2] / events * 1e6, "drain": drain,
            # while timed, and until caught up: what the part's batches cost the WAL in the end
            "wal_timed": (wal_timed[0] - wal_before[0]) / events,
            "wal_all": (wal_after[0] - wal_before[0]) / events,
            "fpi_all": (wal_after[1] - wal_before[1]) / events * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4,
                        help="an even number, so as many rounds time off first as on first")
    parser.add_argument("--batches", type=int, default=300, help="of 1000 events, per timed part")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--alert-rules", type=int, default=20)
    parser.add_argument("--on", choices=sorted(ON), default="all",
                        help="what runs in the on parts: the whole pipeline, or one half of it")
    parser.add_argument("--pin", action="store_true",
                        help="the part's processes, their backends and Redis on a CPU of their own")
    database_url_option(parser)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="a database of its own: the tests' workers use 0")
    args = parser.parse_args()
    schema = new_schema()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(args.database_url, schema, port, args.workers)
    shape = (args.database_url, schema, args.redis_url)
    pairs: list[dict[str, dict[str, Any]]] = []
    try:
        ingest = ingest_key(base)
        rules_key = workspace_key(base, ADMIN, "bench")
        create_rules(base, rules_key, [rule_condition(f"event_{n % 20}", ">", 10**9)
                                       for n in range(args.alert_rules)],
                     "https://93.184.216.34/never-told")  # a public address: no DNS here
        run_clients(base, ingest, make_batches(4, 1000, seed=99), args.clients)  # warm-up
        api = api_pids(server.pid)
        for n in range(args.rounds):
            order = ("off", "on") if n % 2 == 0 else ("on", "off")
            pair = {}
            for part, mode in enumerate(order):
                batches = make_batches(args.batches, 1000, seed=7 + 2 * n + part)
                pair[mode] = timed_part(mode, shape, base, (ingest, rules_key), batches,
                                        args.clients, api, args.on, args.pin)
            pairs.append(pair)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        drop_schema(args.database_url, schema)
    report(args, pairs)
    sys.exit(0)


def report(args: Any, pairs: list[dict[str, dict[str, Any]]]) -> None:
    print(f"pipeline cost: {args.workers} API processes, PostgreSQL + Redis, {args.clients} clients "
          f"x {args.batches} batches of 1000 events a part, {args.alert_rules} alert rules, "
          f"on: {args.on}, "
          f"{os.cpu_count()} cores"
          + (", the pipeline's side pinned to the last CPU, the API's to the others" if args.pin
             else ""))
    for n, pair in enumerate(pairs, 1):
        off, on = pair["off"], pair["on"]
        print(f"round {n}: off {off['rate']:,.0f} events/s, on {on['rate']:,.0f} "
              f"(ratio {on['rate'] / off['rate']:.2f}); CPU µs an event off / on: API "
              f"{off['api_us']:.1f} / {on['api_us']:.1f}, projector(+worker) "
              f"{off['pipeline_us']:.1f} / {on['pipeline_us']:.1f}, PostgreSQL {off['pg_us']:.1f} / "
              f"{on['pg_us']:.1f}; caught up {off['drain']:.1f} / {on['drain']:.1f} s after; "
              f"WAL bytes an event while timed {off['wal_timed']:,.0f} / {on['wal_timed']:,.0f}, "
              f"until caught up {off['wal_all']:,.0f} / {on['wal_all']:,.0f} "
              f"({off['fpi_all']:.0f} / {on['fpi_all']:.0f} full-page images a 1000 events)")
    ratios = [pair["on"]["rate"] / pair["off"]["rate"] for pair in pairs]
    print(f"ingest with the pipeline on / off = {statistics.median(ratios):.2f}, median of "
          f"{' '.join(f'{r:.2f}' for r in ratios)} (target >= 0.90)")


if __name__ == "__main__":
    main()
