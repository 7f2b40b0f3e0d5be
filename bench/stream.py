"""Live stream benchmark (issue 19): stream latency with 20 subscribers, and what they cost ingestion.

    .venv/bin/python bench/stream.py [--rate 50000] [--seconds 20] [--subscribers 20]
        [--batches 300] [--rounds 2] [--clients 4] [--workers 2] [--alert-rules 20]
        [--split-pipeline] [--live] [--busy-rules 0] [--busy-window 86400]
        [--database-url URL] [--redis-url URL]

Production shape on PostgreSQL + Redis: `beacon serve --no-projections --no-worker --workers N`,
`beacon projector` and `beacon worker` as subprocesses. Each round posts the same number of
1000-event batches as fast as the clients can, first with no stream open, then with the
subscribers connected (bench/ingest.py's clients), so the ratio of the two rates is what the
subscribers cost. Then it ingests at a steady `--rate` for `--seconds` and prints stream latency:
from the moment the API received an event's request (its `received_at`) to the moment a
subscriber parsed it. Subscriber i filters `event=event_i` (the batches use 20 names), so the 20
together receive every event once; they run in a process of their own, so parsing them does not
take the clients' interpreter. Enrichment is on (BEACON_ENRICHMENT's default), so a message is
sent once the projector's pipeline has recorded its enrichment, and reaches the API processes
through Redis (docs/decisions/live-stream.md): the latency includes the pipeline's, and the bench
counts the messages that carry their content hash. With `--alert-rules N` (20 by default) the
workspace also has N threshold rules, crossed one by one during the steady phase, and it prints
their alert delay (bench/alert_delay.py). With `--split-pipeline` the enrichment pipeline runs in a
`beacon projector --only enrichment` of its own beside a `beacon projector --skip enrichment`
(one interpreter each, instead of one for all fourteen). The steady phase's events are timed over
30 days of March, as bench/ingest.py's are; with `--live` each carries the moment its batch is
sent, as SDKs sending "now" do, so the per-second and per-minute counts that threshold rules sum
are written at the head, as in production. `--busy-rules N` adds N rules that count the steady
traffic's names (rule i `event_{i % 20}`) over `--busy-window` seconds and never fire: each is
evaluated whenever a batch carrying its name is read, the cost of watching busy names, and the
probe's alert delay is measured behind it. For the steady phase it also prints the CPU each part
of the shape spent an event (the API processes, the projector(s), the worker, the subscribers'
process, this process's load generator, PostgreSQL, Redis), counted from the phase's start until
the pipeline has caught up, and the cores that adds up to at the asked rate. Not a test: run it
on demand, record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import orjson
from alert_delay import AlertProbe, allow_local_receiver, create_rules, workspace_key
from common import database_url_option, drop_schema, new_schema, percentile
from ingest import (
    ADMIN,
    api_pids,
    checkpoint,
    cpu_seconds,
    family,
    free_port,
    make_batches,
    run_clients,
)

ROOT = Path(__file__).resolve().parent.parent
RECEIVED = b'"received_at":"'
ENRICHED = b'"content_hash":"'


def beacon(url: str, schema: str, redis_url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BEACON_DATABASE_URL": url, "BEACON_DB_SCHEMA": schema,
           "BEACON_ENV": "production", "BEACON_ADMIN_TOKEN": ADMIN, "BEACON_LOG_LEVEL": "WARNING",
           "BEACON_REDIS_URL": redis_url}
    return subprocess.Popen([str(ROOT / ".venv/bin/beacon"), *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_serving(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("beacon serve did not start")


def workspace_keys(base: str) -> tuple[str, str]:
    """A workspace with room for the whole run: its ingest key and its read key."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    workspace = httpx.post(f"{base}/admin/v1/workspaces", json={"name": "bench", "plan": "enterprise"},
                           headers=admin).json()["data"]["id"]
    httpx.patch(f"{base}/admin/v1/workspaces/{workspace}",
                json={"monthly_event_limit": 10**12, "rate_limit_per_minute": 1_000_000}, headers=admin)
    keys = [httpx.post(f"{base}/admin/v1/workspaces/{workspace}/keys",
                       json={"name": scope, "scopes": [scope]}, headers=admin).json()["data"]["key"]
            for scope in ("ingest", "read")]
    return keys[0], keys[1]


def subscribe(port: int, key: str, name: str, opened: Any, measuring: Any, stop: Any,
              latencies: list[float], counts: list[int]) -> None:
    """One SSE subscriber on a raw socket: latency of each message while `measuring` is set."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"GET /api/v1/events/stream?event={name} HTTP/1.1\r\nHost: bench\r\n"
                 f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n".encode())
    sock.settimeout(0.5)
    buffer, first = b"", True
    while not stop.is_set():
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            continue
        if not chunk:
            raise SystemExit(f"the stream for {name} closed")
        now = time.time()
        buffer += chunk
        *frames, buffer = buffer.split(b"\n\n")
        if first and frames:
            first = False
            opened.release()
        for frame in frames:
            at = frame.find(RECEIVED)
            if at < 0:
                if b"event: overflow" in frame:
                    raise SystemExit(f"the stream for {name} overflowed")
                continue
            counts[0] += 1
            counts[1] += ENRICHED in frame
            if measuring.is_set():
                start = at + len(RECEIVED)
                received = datetime.fromisoformat(frame[start:start + 27].decode()).timestamp()
                latencies.append(now - received)
    sock.close()


def subscribers_main(port: int, key: str, count: int, opened: Any, measuring: Any, stop: Any,
                     results: Any) -> None:
    latencies: list[float] = []
    counts = [0, 0]  # messages, of which enriched
    threads = [threading.Thread(target=subscribe, daemon=True,
                                args=(port, key, f"event_{n}", opened, measuring, stop, latencies,
                                      counts)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((counts[0], counts[1], orjson.dumps(latencies)))


class Subscribers:
    """The subscribers, in a process of their own, connected while a phase runs."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.ctx = mp.get_context("fork")
        self.stop = self.ctx.Event()
        self.process: Any = None

    def open(self, key: str, measuring: bool = False) -> None:
        """Connect them all; returns once every one has been sent its first frame."""
        opened, self.stop, self.results = self.ctx.Semaphore(0), self.ctx.Event(), self.ctx.Queue()
        self.measuring = self.ctx.Event()
        if measuring:
            self.measuring.set()
        self.process = self.ctx.Process(target=subscribers_main, args=(
            self.port, key, self.count, opened, self.measuring, self.stop, self.results))
        self.process.start()
        for _ in range(self.count):
            if not opened.acquire(timeout=30):
                raise SystemExit("the subscribers did not connect")

    def close(self, settle: float = 3.0) -> tuple[int, int, list[float]]:
        """After `settle` seconds for the last messages: how many arrived, how many of them
        enriched, and their latencies."""
        time.sleep(settle)
        self.stop.set()
        received, enriched, raw = self.results.get(timeout=60)
        self.process.join(timeout=10)
        return received, enriched, sorted(orjson.loads(raw))


def steady(base: str, key: str, rate: int, seconds: float, clients: int, size: int,
           live: bool = False) -> dict[str, Any]:
    """Post 1000-event batches on a schedule of `rate` events/s (late ones at once); `live`: each
    event timed as its batch is sent."""
    batches = make_batches(int(rate * seconds / size), size, seed=1234)
    bodies = [orjson.dumps(b) for b in batches]
    interval = size / rate
    lock = threading.Lock()
    queue = list(range(len(bodies)))
    accepted = [0]
    address = httpx.URL(base)
    started = time.monotonic()

    def client() -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        http = HTTPConnection(address.host, address.port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                index = len(bodies) - len(queue)
                queue.pop()
            delay = started + index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = bodies[index]
            if live:
                now = datetime.now(UTC).isoformat()
                body = orjson.dumps([{**event, "timestamp": now} for event in batches[index]])
            http.request("POST", "/v1/events", body=body, headers=headers)
            response = http.getresponse()
            payload = response.read()
            if response.status == 200:
                with lock:
                    accepted[0] += orjson.loads(payload).get("accepted", 0)
        http.close()

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: client(), range(clients)))  # re-raises a client's failure
    wall = time.monotonic() - started
    return {"accepted": accepted[0], "wall": wall, "rate": accepted[0] / wall}


def measured(api: list[int], base: str, key: str, batches: list[list[dict[str, Any]]],
             clients: int) -> dict[str, Any]:
    """bench/ingest.py's clients posting `batches` as fast as they can, with the CPU the API
    processes and PostgreSQL spent per accepted event."""
    before = cpu_seconds(pids=api), cpu_seconds(names=("postgres",))
    result = run_clients(base, key, batches, clients)
    api_s, pg_s = cpu_seconds(pids=api) - before[0], cpu_seconds(names=("postgres",)) - before[1]
    events = max(result["accepted"], 1)
    return {**result, "api_us": api_s / events * 1e6, "pg_us": pg_s / events * 1e6}


def pipeline_caught_up(base: str, key: str, processes: list[subprocess.Popen[bytes]],
                       timeout: float = 900.0) -> float:
    """Seconds until the enrichment pipeline has reached the head of the log (a message is sent
    once enriched: subscribers closed before that would miss what it has not reached yet)."""
    started = time.monotonic()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"},
                      timeout=30) as http:  # one client: each new one costs an SSL context
        while time.monotonic() - started < timeout:
            for process in processes:
                if process.poll() is not None:
                    raise SystemExit(f"{' '.join(map(str, process.args))} exited "
                                     f"({process.returncode})")
            rows = http.get("/api/v1/projections").json()["data"]
            if all(row["lag"] == 0 for row in rows if row["name"] == "enrichment"):
                return time.monotonic() - started
            time.sleep(0.2)
    raise SystemExit("the enrichment pipeline did not catch up")


def cpu_by_part(parts: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each part of the shape, PostgreSQL's and Redis's included."""
    spent = {part: cpu_seconds(pids=pids) for part, pids in parts.items()}
    spent["PostgreSQL"] = cpu_seconds(names=("postgres",))
    spent["Redis"] = cpu_seconds(names=("redis-server",))
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=50_000, help="steady events/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="of steady ingestion")
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--batches", type=int, default=300, help="per unpaced round")
    parser.add_argument("--rounds", type=int, default=2,
                        help="off/on pairs; the median ratio (0: the steady phase alone)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--alert-rules", type=int, default=20, help="crossed while steady (0: none)")
    parser.add_argument("--split-pipeline", action="store_true",
                        help="the enrichment pipeline in a projector of its own "
                             "(`beacon projector --only enrichment` beside `--skip enrichment`)")
    parser.add_argument("--live", action="store_true",
                        help="time the steady phase's events as they are sent (not in March)")
    parser.add_argument("--busy-rules", type=int, default=0,
                        help="rules on the steady traffic's names that never fire")
    parser.add_argument("--busy-window", type=int, default=86_400, help="their window, seconds")
    database_url_option(parser)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13",
                        help="a Redis database of its own: the tests flush database 0")
    args = parser.parse_args()
    schema = new_schema()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    shape = (args.database_url, schema, args.redis_url)
    allow_local_receiver()
    processes = [beacon(*shape, "serve", "--port", str(port), "--no-projections", "--no-worker",
                        "--workers", str(args.workers))]
    wait_until_serving(base)
    projectors = [["projector", "--skip", "enrichment"], ["projector", "--only", "enrichment"]] \
        if args.split_pipeline else [["projector"]]
    for command in projectors:
        processes.append(beacon(*shape, *command))
        time.sleep(3)  # two first starts at once can fail ("tuple concurrently updated": the library
    processes.append(beacon(*shape, "worker"))  # replaces its functions as each process starts)
    subscribers = Subscribers(port, args.subscribers)
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    delivered = expected = enriched = 0
    behind: list[float] = []  # seconds the pipeline needed, after each phase, to catch up
    try:
        ingest_key, read_key = workspace_keys(base)
        probe = AlertProbe(base, args.alert_rules, ADMIN) if args.alert_rules else None
        if args.busy_rules:
            create_rules(base, workspace_key(base, ADMIN, "bench"), [
                {"type": "threshold", "event": f"event_{n % 20}", "metric": "count",
                 "window_seconds": args.busy_window, "op": ">", "value": 10**12}
                for n in range(args.busy_rules)], "http://127.0.0.1:9/never")
        run_clients(base, ingest_key, make_batches(4, 1000, seed=99), args.clients)  # warm-up
        api = api_pids(processes[0].pid)
        for n in range(args.rounds):
            checkpoint(args.database_url)
            batches = make_batches(args.batches, 1000, seed=7 + n)
            off = measured(api, base, ingest_key, batches, args.clients)
            subscribers.open(read_key)
            checkpoint(args.database_url)
            batches = make_batches(args.batches, 1000, seed=70 + n)
            on = measured(api, base, ingest_key, batches, args.clients)
            pairs.append((off, on))
            behind.append(pipeline_caught_up(base, read_key, processes))
            received, with_enrichment, _ = subscribers.close()
            delivered, enriched = delivered + received, enriched + with_enrichment
            expected += on["accepted"]
        subscribers.open(read_key, measuring=True)
        checkpoint(args.database_url)
        parts = {"API": api, "projector": [pid for p in processes[1:-1] for pid in family(p.pid)],
                 "worker": family(processes[-1].pid), "subscribers": [subscribers.process.pid],
                 "load generator": [os.getpid()]}
        before = cpu_by_part(parts)
        with probe.crossings(args.seconds) if probe else nullcontext():
            paced = steady(base, ingest_key, args.rate, args.seconds, args.clients, 1000,
                           live=args.live)
        behind.append(pipeline_caught_up(base, read_key, processes))
        spent = {part: seconds - before[part] for part, seconds in cpu_by_part(parts).items()}
        received, with_enrichment, latencies = subscribers.close()
        delivered, expected = delivered + received, expected + paced["accepted"]
        enriched += with_enrichment
    finally:
        subscribers.stop.set()
        for process in reversed(processes):
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_schema(args.database_url, schema)
    ratios = [with_them["rate"] / without["rate"] for without, with_them in pairs]
    projecting = "projector + enrichment projector" if args.split_pipeline else "projector"
    print(f"live stream: {args.subscribers} subscribers, {args.workers} API processes + "
          f"{projecting} + worker, PostgreSQL + Redis, {args.clients} clients, {os.cpu_count()} cores")
    for n, (without, with_them) in enumerate(pairs, 1):
        print(f"round {n}: ingest {without['rate']:,.0f} events/s without subscribers, "
              f"{with_them['rate']:,.0f} with (ratio {with_them['rate'] / without['rate']:.2f}); "
              f"CPU µs an event, API {without['api_us']:.1f} -> {with_them['api_us']:.1f}, "
              f"PostgreSQL {without['pg_us']:.1f} -> {with_them['pg_us']:.1f}")
    if ratios:
        print(f"ingest with / without subscribers = {statistics.median(ratios):.2f} (median; "
              "target >= 0.90)")
    print(f"steady: {paced['accepted']:,} events in {paced['wall']:.1f}s = {paced['rate']:,.0f} events/s "
          f"(asked {args.rate:,}), timed {'as sent' if args.live else 'over 30 days of March'}"
          + (f", {args.busy_rules} rules of a {args.busy_window} s window counting its names"
             if args.busy_rules else ""))
    print(f"stream latency, enrichment on (received_at -> parsed by a subscriber) "
          f"over {len(latencies):,} messages: "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms   "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
          f"   max {latencies[-1] * 1000:.0f} ms (target p99 <= 1000 ms)")
    if probe:
        print(probe.summary())
    per_event = {part: seconds / max(paced["accepted"], 1) * 1e6 for part, seconds in spent.items()}
    total = sum(per_event.values())
    print("CPU an event, steady phase until the pipeline caught up: "
          + ", ".join(f"{part} {us:.1f}" for part, us in per_event.items())
          + f" = {total:.1f} µs: {total * args.rate / 1e6:.2f} cores at {args.rate:,} events/s "
          f"(this machine has {os.cpu_count()})")
    print("the enrichment pipeline caught up " + ", ".join(f"{s:.1f}" for s in behind)
          + " s after each phase's last request")
    print(f"delivered: {delivered:,} messages of {expected:,} events accepted while subscribed, "
          f"{enriched:,} of them enriched")
    sys.exit(0)


if __name__ == "__main__":
    main()
