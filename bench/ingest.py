"""Ingestion benchmark (issue 3): concurrent SDK clients posting 1000-event batches over HTTP to
`beacon serve` on PostgreSQL, beside a raw psycopg COPY of the same rows in the same run.

    .venv/bin/python bench/ingest.py [--clients 4] [--batches 60] [--workers 1] [--id-version 4|7]
        [--rounds 3] [--database-url URL] [--projector none|projections|pipeline]

Prints accepted events/s, p50/p99 request latency, the API process's peak RSS, and the COPY
baseline. Each round posts new batches (new ids, into a new workspace) and then COPYs the same
rows, so the two are measured side by side: on a shared machine whose speed drifts by a quarter
within minutes, a single pair of runs can put the ratio anywhere in a wide band; the median of
the rounds' ratios is the figure. Not a test: run it on demand and record the figures in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from common import database_url_option, drop_schema, new_schema, percentile
from psycopg import sql

ADMIN = "bench-admin-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent


def event_id(rng: random.Random, version: int, sequence: int) -> str:
    """A random UUIDv4, or a UUIDv7 (as the seed recommends SDKs send) whose time is one
    millisecond per event from 2026-03-01: SDKs' ids then arrive roughly in time order."""
    if version == 4:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    millis = 1_772_323_200_000 + sequence
    return str(uuid.UUID(int=millis << 80 | 7 << 76 | rng.getrandbits(12) << 64 | 2 << 62
                         | rng.getrandbits(62)))


def make_batches(count: int, size: int, seed: int = 7,
                 id_version: int = 4) -> list[list[dict[str, Any]]]:
    """Deterministic batches shaped like real SDK traffic."""
    rng = random.Random(seed)
    names = [f"event_{n}" for n in range(20)]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return [[{
        "event_id": event_id(rng, id_version, seed * 10**9 + b * size + e),
        "category": rng.choice(["nav", "reports", "billing"]), "name": rng.choice(names),
        "timestamp": (start + timedelta(seconds=rng.randrange(30 * 86400))).isoformat(),
        "actor_id": f"user-{rng.randrange(50_000)}", "source_app": "BenchApp", "source_version": "1.0.0",
        "properties": {"plan": rng.choice(["free", "pro"]), "count": str(rng.randrange(100))},
    } for e in range(size)] for b in range(count)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """Peak RSS of the API: the process and, with --workers, its worker processes together."""
    total = 0
    for each in api_pids(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_seconds(names: tuple[str, ...] = (), pids: list[int] | None = None) -> float:
    """User+system CPU time of the processes with these pids, or whose command name is in `names`."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if (pids and int(entry.name) in pids) or command in names:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def api_pids(pid: int) -> list[int]:
    return [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def family(pid: int) -> list[int]:
    """A process and its children (a worker's, a projector's), or itself alone once gone."""
    try:
        return api_pids(pid)
    except OSError:
        return [pid]


def beacon_process(url: str, schema: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BEACON_DATABASE_URL": url, "BEACON_DB_SCHEMA": schema, "BEACON_ENV": "production",
           "BEACON_ADMIN_TOKEN": ADMIN, "BEACON_LOG_LEVEL": "WARNING", "BEACON_REDIS_URL": "", **extra}
    return subprocess.Popen([str(ROOT / ".venv/bin/beacon"), *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_server(url: str, schema: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    server = beacon_process(url, schema, "serve", "--port", str(port), "--no-projections",
                            "--no-worker", "--workers", str(workers))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("beacon serve did not start")


def ingest_key(base: str) -> str:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    workspace = httpx.post(f"{base}/admin/v1/workspaces", json={"name": "bench", "plan": "enterprise"},
                           headers=admin).json()["data"]["id"]
    httpx.patch(f"{base}/admin/v1/workspaces/{workspace}",
                json={"monthly_event_limit": 10**12, "rate_limit_per_minute": 1_000_000}, headers=admin)
    return str(httpx.post(f"{base}/admin/v1/workspaces/{workspace}/keys",
                          json={"name": "bench", "scopes": ["ingest"]}, headers=admin).json()["data"]["key"])


def run_clients(base: str, key: str, batches: list[list[dict[str, Any]]], clients: int) -> dict[str, Any]:
    """Post every batch from `clients` threads, each on one keep-alive connection.

    The clients use the standard library's http.client, which costs a fraction of httpx's CPU per
    request: on a 2-core machine every cycle the load generator burns is taken from the API and
    PostgreSQL, and real SDKs run on other machines.
    """
    bodies = [orjson.dumps(b) for b in batches]
    latencies: list[float] = []
    accepted = [0]
    lock = threading.Lock()
    queue = list(range(len(bodies)))
    address = httpx.URL(base)

    def client() -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        http = HTTPConnection(address.host, address.port, timeout=60)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop()
                started = time.perf_counter()
                http.request("POST", "/v1/events", body=bodies[index], headers=headers)
                response = http.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status == 200:
                        accepted[0] += orjson.loads(payload).get("accepted", 0)
        finally:
            http.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"accepted": accepted[0], "wall": wall, "rate": accepted[0] / wall,
            "p50": statistics.median(latencies) * 1000,
            "p99": percentile(latencies, 0.99) * 1000}


def checkpoint(url: str) -> None:
    """Untimed, before each timed part: the previous part's dirty pages are flushed, so neither
    the ingest nor the COPY pays for the other's checkpoint."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def copy_baseline(url: str, schema: str, batches: list[list[dict[str, Any]]]) -> dict[str, float]:
    """The same rows straight into a plain table with COPY: the floor any ingest path pays."""
    rows = [(e["event_id"], e["category"], e["name"], e["timestamp"], e["actor_id"], e["source_app"],
             e["source_version"], orjson.dumps(e["properties"]).decode()) for b in batches for e in b]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute("DROP TABLE IF EXISTS copy_baseline")
        conn.execute("CREATE TABLE copy_baseline (event_id uuid PRIMARY KEY, category text, name text, "
                     "ts timestamptz, actor_id text, source_app text, source_version text, properties jsonb)")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY copy_baseline FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        wall = time.perf_counter() - started
    return {"rows": len(rows), "wall": wall, "rate": len(rows) / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="API processes")
    parser.add_argument("--id-version", type=int, choices=(4, 7), default=4,
                        help="event ids: random v4 (the ledger's worst case) or time-ordered v7")
    parser.add_argument("--rounds", type=int, default=3,
                        help="ingest-then-COPY pairs; the ratio reported is their median")
    database_url_option(parser)
    parser.add_argument("--projector", choices=("none", "projections", "pipeline"), default="none",
                        help="run `beacon projector` beside the API while the rounds ingest: the "
                             "read models alone, or with the enrichment pipeline too")
    args = parser.parse_args()
    schema = new_schema()
    port = free_port()
    server = start_server(args.database_url, schema, port, args.workers)
    projector = None if args.projector == "none" else beacon_process(
        args.database_url, schema, "projector",
        BEACON_ENRICHMENT="1" if args.projector == "pipeline" else "0")
    rounds = []
    try:
        base = f"http://127.0.0.1:{port}"
        warm_up = make_batches(4, args.batch_size, seed=99, id_version=args.id_version)
        run_clients(base, ingest_key(base), warm_up, args.clients)
        pids = api_pids(server.pid)
        for n in range(args.rounds):
            batches = make_batches(args.batches, args.batch_size, seed=7 + n,
                                   id_version=args.id_version)
            key = ingest_key(base)
            checkpoint(args.database_url)
            before = (cpu_seconds(pids=pids), cpu_seconds(names=("postgres",)), time.process_time())
            result = run_clients(base, key, batches, args.clients)
            cpu = (cpu_seconds(pids=pids) - before[0], cpu_seconds(names=("postgres",)) - before[1],
                   time.process_time() - before[2])
            checkpoint(args.database_url)
            rounds.append((result, cpu, copy_baseline(args.database_url, schema, batches)))
        rss = peak_rss_mb(server.pid)
    finally:
        for process in (server, projector):
            if process is not None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=20)
        drop_schema(args.database_url, schema)
    report(args, rounds, rss)
    sys.exit(0)


def report(args: Any, rounds: list[tuple[dict[str, Any], tuple[float, float, float], dict[str, float]]],
           rss: float) -> None:
    print(f"ingest over HTTP: {args.clients} clients x {args.batches} batches of {args.batch_size} events, "
          f"{args.workers} API process(es), UUIDv{args.id_version} ids, {len(rounds)} round(s), "
          f"projector: {args.projector}")
    for n, (result, cpu, baseline) in enumerate(rounds, 1):
        print(f"round {n}")
        print(f"  accepted          {result['accepted']:>10,} events in {result['wall']:.2f}s")
        print(f"  rate              {result['rate']:>10,.0f} events/s")
        print(f"  request latency   p50 {result['p50']:.1f} ms   p99 {result['p99']:.1f} ms")
        print(f"  CPU seconds       API {cpu[0]:.2f}   PostgreSQL {cpu[1]:.2f}   clients {cpu[2]:.2f}"
              f"   (wall {result['wall']:.2f}s, {os.cpu_count()} cores)")
        print(f"  raw baseline: psycopg COPY of the same {baseline['rows']:,} rows into a plain table")
        print(f"  rate              {baseline['rate']:>10,.0f} rows/s ({baseline['wall']:.2f}s)")
        print(f"  ratio             {result['rate'] / baseline['rate']:.2f}")
    ratios = [result["rate"] / baseline["rate"] for result, _, baseline in rounds]
    print(f"API peak RSS        {rss:>10.1f} MB")
    print(f"ratio: ingest / COPY = {statistics.median(ratios):.2f}, median of "
          f"{' '.join(f'{r:.2f}' for r in ratios)} (target >= 0.50)")


if __name__ == "__main__":
    main()
