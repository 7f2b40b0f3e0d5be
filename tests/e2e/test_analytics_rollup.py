"""The hourly rollups (`rm_event_hours`, `rm_actor_hours`, `rm_session_hours`): the overview's
counts and distinct actors and sessions read from them equal what `rm_events` gives, at any range
edges, on SQLite and PostgreSQL; they count each event once through retried requests, failed and
replayed pages and rebuilds; an installation older than them fills them once."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.time import micros
from domain.tracked_event import check_event
from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.analytics_rollup import whole_hours
from infrastructure.rollup_upgrade import fill_hourly_rollups
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from projections.analytics_questions import FilterOp, Interval, Metric, PropertyFilter, event_query
from tests import analytics_reference as ref
from tests.conftest import ADMIN, Tenant, make_tenant

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
NAMES = ("visit", "signup", "purchase", "noise", "rare")
OVERVIEW = """query ($from: DateTime!, $to: DateTime!, $interval: Interval!, $event: String) {
  timeseries(from: $from, to: $to, interval: $interval, event: $event) { bucket value }
  topEvents(from: $from, to: $to, limit: 10) { value count }
  metric(from: $from, to: $to, event: $event)
  actors: metric(from: $from, to: $to, event: $event, metric: UNIQUE_ACTORS)
  sessions: metric(from: $from, to: $to, event: $event, metric: SESSIONS)
  actorsOverTime: timeseries(from: $from, to: $to, interval: $interval, event: $event,
                             metric: UNIQUE_ACTORS) { bucket value } }"""
SESSIONS = [str(uuid.uuid5(uuid.NAMESPACE_OID, f"session-{n}")) for n in range(60)]
ROLLUP_KEYS = {"rm_event_hours": "name", "rm_actor_hours": "actor_id", "rm_session_hours": "session_id"}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def generate(seed: int) -> list[dict[str, Any]]:
    """Events at any microsecond of ten days, and by hand on the edges of hours: on the hour,
    a microsecond before it, and before 1970 (hours there are floored too)."""
    rng = random.Random(seed)
    moments = [T0 + timedelta(microseconds=rng.randrange(10 * 86_400 * 10**6)) for _ in range(700)]
    moments += [at(h) for h in (0, 1, 5, 24, 49)] + [at(h) - timedelta(microseconds=1) for h in (1, 6, 49)]
    moments += [datetime(1969, 12, 31, 23, 30, 0, 500_000, tzinfo=UTC)]
    return [{"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "category": "product",
             "name": rng.choices(NAMES, weights=[8, 4, 2, 5, 1])[0] if n % 50 else "rare",
             "timestamp": stamp(moment), "actor_id": f"actor-{rng.randrange(30)}",
             "session_id": rng.choice([None, *SESSIONS]),
             "properties": {"plan": rng.choice(["free", "pro"])}}
            for n, moment in enumerate(moments)]


def ingest(client: TestClient, tenant: Tenant, events: list[dict[str, Any]]) -> str:
    position = ""
    for start in range(0, len(events), 61):
        response = client.post("/v1/events", json=events[start:start + 61], headers=tenant.headers("ingest"))
        assert response.status_code == 200, response.text
        position = response.headers["X-Beacon-Position"]
    return position


def tagged(events: list[dict[str, Any]], workspace: str) -> list[dict[str, Any]]:
    return [{**e, "workspace": workspace, "at": datetime.fromisoformat(e["timestamp"])} for e in events]


def expected_points(events: list[dict[str, Any]], workspace: str, name: str | None, start: datetime,
                    end: datetime, interval: str) -> list[tuple[datetime, float]]:
    """Counts per bucket, in plain Python."""
    counted = Counter(ref.truncate(e["at"], interval) for e in events if e["workspace"] == workspace
                      and name in (None, e["name"]) and start <= e["at"] < end)
    points, bucket = [], ref.truncate(start, interval)
    while bucket < end:
        points.append((bucket, float(counted[bucket])))
        bucket = ref.following(bucket, interval)
    return points


def expected_top(events: list[dict[str, Any]], workspace: str, start: datetime, end: datetime,
                 limit: int = 10) -> list[tuple[str, float]]:
    counted = Counter(e["name"] for e in events if e["workspace"] == workspace and start <= e["at"] < end)
    return sorted(((name, float(n)) for name, n in counted.items()), key=lambda r: (-r[1], r[0]))[:limit]


def expected_distinct(events: list[dict[str, Any]], workspace: str, name: str | None, start: datetime,
                      end: datetime, column: str) -> float:
    return float(len({e[column] for e in events if e["workspace"] == workspace and name in (None, e["name"])
                      and start <= e["at"] < end} - {None}))


def rollup_rows(beacon: Beacon) -> dict[str, list[dict[str, Any]]]:
    """Every rollup's rows, as (workspace, hour, key, events) in that order."""
    db = beacon.databases["Telemetry"]
    return {table: db.query(f"SELECT workspace_id, hour, {key} AS key, events FROM {table} "
                            "ORDER BY workspace_id, hour, key") for table, key in ROLLUP_KEYS.items()}


def counted_from_events(beacon: Beacon) -> dict[str, list[dict[str, Any]]]:
    """What the rollups must hold: rm_events counted per workspace, hour and name (actor, session)."""
    rows = beacon.databases["Telemetry"].query(
        "SELECT workspace_id, timestamp, name, actor_id, session_id FROM rm_events")
    expected = {}
    for table, key in ROLLUP_KEYS.items():
        counted = Counter((r["workspace_id"], r["timestamp"] // 3_600_000_000 * 3_600_000_000, r[key])
                          for r in rows if r[key] is not None)
        expected[table] = [{"workspace_id": w, "hour": h, "key": k, "events": n}
                           for (w, h, k), n in sorted(counted.items())]
    return expected


def total_events(beacon: Beacon) -> int:
    return sum(row["events"] for row in rollup_rows(beacon)["rm_event_hours"])


# Ranges on whole hours, with partial hours at one or both edges, inside one hour, across one
# hour boundary in less than an hour, and reaching back before 1970.
RANGES = [
    (at(0), at(48)), (at(0.25), at(47.5)), (at(1), at(30.999)), (at(-0.5), at(200.01)),
    (at(5.1), at(5.9)), (at(5.75), at(6.25)), (at(0), at(0.5)),
    (T0 - timedelta(days=1, minutes=7), T0 + timedelta(days=9, seconds=13)),
    (datetime(1969, 12, 31, 22, 10, tzinfo=UTC), datetime(1970, 1, 1, 1, 5, tzinfo=UTC)),
]


def test_overview_counts_equal_rm_events_answers_at_aligned_and_unaligned_edges(
        client: TestClient, beacon: Beacon, tenant: Tenant) -> None:
    other = make_tenant(client, name="Other", slug="other-co")
    mine, theirs = generate(seed=1), generate(seed=2)
    ingest(client, other, theirs)  # the same names and hours in another workspace: never counted
    position = ingest(client, tenant, mine)
    source, _, where = position.partition(":")
    assert beacon.wait_for(source, int(where), timeout=20)
    events = tagged(mine, tenant.id) + tagged(theirs, other.id)
    raw = SqlAnalyticsQueries(beacon.databases["Telemetry"])
    for start, end in RANGES:
        for interval in ("HOUR", "DAY", "WEEK", "MONTH"):
            if interval == "HOUR" and end - start > timedelta(days=12):
                continue
            for name in (None, "visit", "rare", "never-sent"):
                response = client.post("/graphql", json={"query": OVERVIEW, "variables": {
                    "from": stamp(start), "to": stamp(end), "interval": interval, "event": name}},
                    headers=tenant.headers("read", **{"X-Beacon-Min-Position": position}))
                answer = response.json()["data"]
                query = event_query(tenant.id, name, start, end, Metric.COUNT, None)
                points = expected_points(events, tenant.id, name, start, end, interval)
                assert [(datetime.fromisoformat(p["bucket"]), p["value"]) for p in answer["timeseries"]] \
                    == points, (start, end, interval, name)
                assert [(p[0], p[1]) for p in raw.timeseries(query, Interval(interval.lower()))] \
                    == [(micros(b), v) for b, v in points]
                assert answer["metric"] == sum(v for _, v in points) == raw.metric(query)
                for metric, column in ((Metric.UNIQUE_ACTORS, "actor_id"), (Metric.SESSIONS, "session_id")):
                    distinct = event_query(tenant.id, name, start, end, metric, None)
                    assert answer["actors" if column == "actor_id" else "sessions"] \
                        == expected_distinct(events, tenant.id, name, start, end, column) \
                        == raw.metric(distinct), (start, end, name, metric)
                actors = event_query(tenant.id, name, start, end, Metric.UNIQUE_ACTORS, None)
                assert [(micros(datetime.fromisoformat(p["bucket"])), p["value"])
                        for p in answer["actorsOverTime"]] \
                    == raw.timeseries(actors, Interval(interval.lower())), (start, end, interval, name)
            top = expected_top(events, tenant.id, start, end)
            assert [(r["value"], r["count"]) for r in answer["topEvents"]] == top
            assert raw.top_events(event_query(tenant.id, None, start, end, Metric.COUNT, None), 10) == top
    assert rollup_rows(beacon) == counted_from_events(beacon)


def test_filtered_and_minute_questions_are_answered_from_rm_events_alike(
        client: TestClient, beacon: Beacon, tenant: Tenant) -> None:
    mine = generate(seed=3)
    position = ingest(client, tenant, mine)
    source, _, where = position.partition(":")
    assert beacon.wait_for(source, int(where), timeout=20)
    events = tagged(mine, tenant.id)
    start, end = at(0.2), at(30.7)
    pro = [PropertyFilter("plan", FilterOp.EQ, "pro")]
    filtered = event_query(tenant.id, "visit", start, end, Metric.COUNT, pro)
    assert beacon.analytics.metric(filtered) == float(len(ref.chosen(
        events, tenant.id, "visit", start, end, [{"key": "plan", "op": "EQ", "value": "pro"}])))
    assert beacon.analytics.metric(filtered) < beacon.analytics.metric(
        event_query(tenant.id, "visit", start, end, Metric.COUNT, None))
    actors = event_query(tenant.id, "visit", start, end, Metric.UNIQUE_ACTORS, pro)
    assert beacon.analytics.metric(actors) == float(len({e["actor_id"] for e in ref.chosen(
        events, tenant.id, "visit", start, end, [{"key": "plan", "op": "EQ", "value": "pro"}])}))
    minutes = event_query(tenant.id, None, at(4.9), at(6.1), Metric.COUNT, None)
    points = beacon.analytics.timeseries(minutes, Interval.MINUTE)
    assert [v for _, v in points] == [v for _, v in expected_points(
        events, tenant.id, None, at(4.9), at(6.1), "MINUTE")]


def test_questions_without_filters_come_from_the_rollups_and_the_rest_from_rm_events(
        quiet_beacon: Beacon) -> None:
    """Which table answers shows when they disagree, as they never do but here, by hand."""
    rng, workspace = random.Random(6), uuid.uuid4()
    quiet_beacon.telemetry.ingest(workspace, batch(rng), limit=10**6)
    quiet_beacon.runner("events").catch_up()
    start, end = T0 + timedelta(minutes=20), T0 + timedelta(days=2, minutes=10)
    questions = {
        "events": event_query(str(workspace), None, start, end, Metric.COUNT, None),
        "actors": event_query(str(workspace), None, start, end, Metric.UNIQUE_ACTORS, None),
        "sessions": event_query(str(workspace), None, start, end, Metric.SESSIONS, None),
        "filtered": event_query(str(workspace), None, start, end, Metric.COUNT,
                                [PropertyFilter("category", FilterOp.EQ, "c")]),
        "one name's actors": event_query(str(workspace), "visit", start, end, Metric.UNIQUE_ACTORS, None),
    }
    before = {label: quiet_beacon.analytics.metric(q) for label, q in questions.items()}
    assert before["events"] == before["filtered"] > 0 and before["actors"] >= before["one name's actors"] > 0
    hour = micros(T0 + timedelta(days=1))
    with quiet_beacon.databases["Telemetry"].transaction() as cur:
        cur.execute("UPDATE rm_event_hours SET events = events + 1000 WHERE hour = %s", [hour])
        for table, key in (("rm_actor_hours", "actor_id"), ("rm_session_hours", "session_id")):
            cur.execute(f"INSERT INTO {table} (workspace_id, hour, {key}, events) "
                        "VALUES (%s, %s, 'only in the rollup', 1)", [str(workspace), hour])
    names = len(quiet_beacon.databases["Telemetry"].query(
        "SELECT name FROM rm_event_hours WHERE hour = %s", [hour]))
    after = {label: quiet_beacon.analytics.metric(q) for label, q in questions.items()}
    assert after == {**before, "events": before["events"] + 1000 * names,
                     "actors": before["actors"] + 1, "sessions": before["sessions"] + 1}


def test_deleting_a_project_takes_its_rows_out_of_the_rollups_and_leaves_the_others(
        client: TestClient, beacon: Beacon, tenant: Tenant) -> None:
    other = make_tenant(client, name="Other", slug="other-co")
    ingest(client, other, generate(seed=4))
    position = ingest(client, tenant, generate(seed=5))
    source, _, where = position.partition(":")
    assert beacon.wait_for(source, int(where), timeout=20)
    week = event_query(tenant.id, None, at(0.5), at(24 * 7 + 0.5), Metric.COUNT, None)
    raw = SqlAnalyticsQueries(beacon.databases["Telemetry"])
    kept = (beacon.analytics.metric(week), beacon.analytics.timeseries(week, Interval.DAY))
    assert client.delete(f"/admin/v1/workspaces/{other.id}", headers=ADMIN).status_code == 204
    assert all(str(row["workspace_id"]) == tenant.id
               for rows in rollup_rows(beacon).values() for row in rows)
    assert rollup_rows(beacon) == counted_from_events(beacon)
    assert (beacon.analytics.metric(week), beacon.analytics.timeseries(week, Interval.DAY)) == kept
    assert kept == (raw.metric(week), raw.timeseries(week, Interval.DAY))
    beacon.rebuild("events")  # the deleted project's events stay in the log, and out of the rollups
    assert rollup_rows(beacon) == counted_from_events(beacon)


def test_whole_hours_are_the_hours_inside_a_range() -> None:
    hour = 3_600_000_000
    assert whole_hours(0, 2 * hour) == (0, 2 * hour)
    assert whole_hours(1, 2 * hour - 1) is None
    assert whole_hours(hour // 2, 3 * hour + 5) == (hour, 3 * hour)
    assert whole_hours(-hour - 1, 0) == (-hour, 0)


def batch(rng: random.Random, size: int = 250) -> list[Any]:
    now = datetime.now(UTC)
    return [check_event({"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                         "category": "c", "name": rng.choice(NAMES),
                         "timestamp": stamp(T0 + timedelta(seconds=rng.randrange(3 * 86_400))),
                         "actor_id": f"a{rng.randrange(20)}",
                         "session_id": rng.choice([None, *SESSIONS[:3]])}, now) for _ in range(size)]


def test_retried_batches_failed_pages_and_replayed_pages_count_once(
        quiet_beacon: Beacon, backend: str) -> None:
    rng, workspace = random.Random(7), uuid.uuid4()
    batches = [batch(rng) for _ in range(4)]
    for each in batches:
        quiet_beacon.telemetry.ingest(workspace, each, limit=10**6)
    quiet_beacon.telemetry.ingest(workspace, batches[1], limit=10**6)  # a retried request
    runner = quiet_beacon.runner("events")
    db = quiet_beacon.databases["Telemetry"]
    with db.transaction() as cur:  # the page's tracking write fails after its rows were written
        if backend == "postgres":
            cur.execute("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                        "RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql")
            cur.execute("CREATE TRIGGER refuse BEFORE UPDATE ON rm_tracking FOR EACH ROW "
                        "WHEN (NEW.name = 'events') EXECUTE FUNCTION refuse()")
        else:
            cur.execute("CREATE TRIGGER refuse BEFORE UPDATE ON rm_tracking "
                        "WHEN NEW.name = 'events' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    with pytest.raises(Exception, match="disk on fire"):
        runner.catch_up()
    assert all(rows == [] for rows in rollup_rows(quiet_beacon).values())
    with db.transaction() as cur:
        cur.execute("DROP TRIGGER refuse ON rm_tracking" if backend == "postgres" else "DROP TRIGGER refuse")
    runner.catch_up()  # the page again, whole
    ops, end = runner.ops_between(0, runner.head())
    assert not runner.store.apply(ops, expected=0, position=end)  # a replay of it is refused
    assert total_events(quiet_beacon) == 1000
    assert rollup_rows(quiet_beacon) == counted_from_events(quiet_beacon)


def test_a_rebuild_rebuilds_the_rollup_and_later_pages_add_to_it(quiet_beacon: Beacon) -> None:
    rng, workspace = random.Random(8), uuid.uuid4()
    for _ in range(5):
        quiet_beacon.telemetry.ingest(workspace, batch(rng), limit=10**6)
    quiet_beacon.runner("events").catch_up()
    live = rollup_rows(quiet_beacon)
    quiet_beacon.rebuild("events")
    assert rollup_rows(quiet_beacon) == live
    quiet_beacon.rebuild("events")  # and again: a rebuild replaces, never adds
    assert rollup_rows(quiet_beacon) == live
    quiet_beacon.telemetry.ingest(workspace, batch(rng), limit=10**6)
    quiet_beacon.runner("events").catch_up()
    assert total_events(quiet_beacon) == 1500
    assert rollup_rows(quiet_beacon) == counted_from_events(quiet_beacon)


def test_an_installation_older_than_the_rollup_fills_it_once_at_start_up(settings: Settings) -> None:
    rng, workspace = random.Random(9), uuid.uuid4()
    with closing(bootstrap(settings)) as beacon:
        for _ in range(3):
            beacon.telemetry.ingest(workspace, batch(rng), limit=10**6)
        before_1970 = check_event({"event_id": str(uuid.uuid4()), "category": "c", "name": "old",
                                   "timestamp": "1969-12-31T23:30:00.5Z", "actor_id": "a"},
                                  datetime.now(UTC))
        beacon.telemetry.ingest(workspace, [before_1970], limit=10**6)
        beacon.runner("events").catch_up()
        expected = rollup_rows(beacon)
        with beacon.databases["Telemetry"].transaction() as cur:  # as an earlier release left it
            for table in (*ROLLUP_KEYS, "rm_upgrades"):
                cur.execute(f"DROP TABLE {table}")
    with closing(bootstrap(settings)) as upgraded:
        assert rollup_rows(upgraded) == expected and total_events(upgraded) == 751
        assert min(r["hour"] for r in expected["rm_event_hours"]) == -3_600_000_000  # before 1970
        query = event_query(str(workspace), None, T0, T0 + timedelta(days=3), Metric.COUNT, None)
        assert upgraded.analytics.metric(query) == 750.0
        assert not fill_hourly_rollups(upgraded.databases["Telemetry"])  # done once
        upgraded.telemetry.ingest(workspace, batch(rng), limit=10**6)
        upgraded.runner("events").catch_up()
    with closing(bootstrap(settings)) as restarted:  # a later start-up counts nothing again
        assert total_events(restarted) == 1001
        assert rollup_rows(restarted) == counted_from_events(restarted)
