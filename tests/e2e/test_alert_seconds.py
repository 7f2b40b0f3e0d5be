"""Threshold rules counting one name with no filter sum `rm_event_minutes` and `rm_event_seconds`:
the answer equals the count of `rm_events` rows (and a plain count in Python) for any window,
whatever its edges, and whether some of its events arrived late (counted per hour in
`rm_late_event_hours`, not per second) or not, on SQLite and PostgreSQL; whole minutes are read
from the minutes, the rest of whole seconds from the seconds; the tables are rebuilt as they were
written, and an installation older than the minutes gets them filled once; and a rule with a
filter still counts rows."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.time import iso, micros
from domain.tracked_event import check_event
from infrastructure import alert_meters
from infrastructure.alert_meters import TIERS, SqlThresholdMeter, counted_by_seconds, event_query
from infrastructure.analytics_queries import SqlAnalyticsQueries
from infrastructure.rollup_upgrade import MINUTES_FILLED, UPGRADES, fill_event_minutes
from interfaces.bootstrap import Beacon
from projections.event_seconds import LATE, MINUTE, SECOND
from projections.hourly_rollups import HOUR

T0 = datetime(2026, 4, 4, 12, tzinfo=UTC)
NAMES = ("checkout", "visit", "rare")


def moments(rng: random.Random) -> list[datetime]:
    """Any microsecond of ten minutes, and by hand on the edges of seconds: on the second, a
    microsecond either side of it, many in one second, and before 1970."""
    found = [T0 + timedelta(microseconds=rng.randrange(600 * SECOND)) for _ in range(600)]
    for second in (0, 1, 59, 60, 61, 300):
        edge = T0 + timedelta(seconds=second)
        found += [edge, edge - timedelta(microseconds=1), edge + timedelta(microseconds=1)]
    found += [T0 + timedelta(seconds=120, microseconds=rng.randrange(SECOND)) for _ in range(50)]
    found += [datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)]
    return found


def load(beacon: Beacon, workspace: uuid.UUID, seed: int,
         received: datetime = T0 + timedelta(minutes=11)) -> list[tuple[str, datetime]]:
    """Ingest events at `moments` in batches received at `received` (the events before 1970
    arrive late, the others on time by default); returns each event's (name, moment)."""
    rng, now = random.Random(seed), datetime.now(UTC)
    beacon.telemetry.clock = lambda: received
    sent = [(rng.choice(NAMES), moment) for moment in moments(rng)]
    records = [check_event({"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            "category": "c", "name": name, "actor_id": f"a{rng.randrange(9)}",
                            "timestamp": moment.isoformat().replace("+00:00", "Z"),
                            "properties": {"plan": rng.choice(["free", "pro"])}}, now)
               for name, moment in sent]
    for start in range(0, len(records), 97):
        beacon.telemetry.ingest(workspace, records[start:start + 97], limit=10**6)
    return sent


def catch_up(beacon: Beacon) -> None:
    for name in ("events", "event_seconds"):
        beacon.runner(name).catch_up()


def rule(name: str, window: int, **extra: Any) -> dict[str, Any]:
    return {"type": "threshold", "event": name, "metric": "count", "window_seconds": window,
            "op": ">", "value": 1, "filters": [], **extra}


def seconds_rows(beacon: Beacon) -> list[tuple[str, str, int, int]]:
    rows = beacon.databases["Telemetry"].query(
        "SELECT workspace_id, name, second, events FROM rm_event_seconds")
    return sorted((str(r["workspace_id"]), r["name"], r["second"], r["events"]) for r in rows)


def minutes_rows(beacon: Beacon) -> list[tuple[str, str, int, int]]:
    rows = beacon.databases["Telemetry"].query(
        "SELECT workspace_id, name, minute, events FROM rm_event_minutes")
    return sorted((str(r["workspace_id"]), r["name"], r["minute"], r["events"]) for r in rows)


def counts(beacon: Beacon) -> tuple[list[tuple[str, str, int, int]], ...]:
    return seconds_rows(beacon), minutes_rows(beacon), late_rows(beacon)


def late_rows(beacon: Beacon) -> list[tuple[str, str, int, int]]:
    rows = beacon.databases["Telemetry"].query(
        "SELECT workspace_id, name, hour, events FROM rm_late_event_hours")
    return sorted((str(r["workspace_id"]), r["name"], r["hour"], r["events"]) for r in rows)


def counted_from_events(beacon: Beacon) -> tuple[list[tuple[str, str, int, int]], ...]:
    """What `rm_event_seconds`, `rm_event_minutes` and `rm_late_event_hours` must hold, from
    `rm_events`."""
    rows = beacon.databases["Telemetry"].query(
        "SELECT workspace_id, name, timestamp, received_at FROM rm_events")
    late = [r["received_at"] - r["timestamp"] > LATE for r in rows]
    seconds = Counter((str(r["workspace_id"]), r["name"], r["timestamp"] // SECOND * SECOND)
                      for r, is_late in zip(rows, late, strict=True) if not is_late)
    minutes = Counter((str(r["workspace_id"]), r["name"], r["timestamp"] // MINUTE * MINUTE)
                      for r, is_late in zip(rows, late, strict=True) if not is_late)
    hours = Counter((str(r["workspace_id"]), r["name"], r["timestamp"] // HOUR * HOUR)
                    for r, is_late in zip(rows, late, strict=True) if is_late)
    return tuple(sorted((*key, n) for key, n in counted.items())
                 for counted in (seconds, minutes, hours))


def test_a_count_by_seconds_equals_the_rows_count_at_any_window_edges(quiet_beacon: Beacon) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    sent = load(quiet_beacon, mine, seed=1)
    load(quiet_beacon, theirs, seed=2)  # the same names and seconds elsewhere: never counted
    catch_up(quiet_beacon)
    assert_counts_equal(quiet_beacon, mine, sent, rng=random.Random(3))
    # A backfill of the same ten minutes arrives two days later: late, counted per hour.
    backfill = load(quiet_beacon, mine, seed=8, received=T0 + timedelta(days=2))
    catch_up(quiet_beacon)
    late = quiet_beacon.databases["Telemetry"].query(
        "SELECT SUM(events) AS n FROM rm_late_event_hours WHERE hour >= %s", [micros(T0)])
    assert late[0]["n"] == sum(1 for _, moment in backfill if moment >= T0)
    sent += backfill
    assert_counts_equal(quiet_beacon, mine, sent, rng=random.Random(4))


def assert_counts_equal(quiet_beacon: Beacon, mine: uuid.UUID, sent: list[tuple[str, datetime]],
                        rng: random.Random) -> None:
    meter = SqlThresholdMeter(quiet_beacon.analytics)
    raw = SqlAnalyticsQueries(quiet_beacon.databases["Telemetry"])
    instants = [T0 + timedelta(seconds=s) for s in (0, 1, 60, 61, 120, 300, 600)]
    instants += [T0 + timedelta(seconds=s, microseconds=d) for s in (60, 121, 301) for d in (-1, 1)]
    instants += [T0 + timedelta(microseconds=rng.randrange(700 * SECOND)) for _ in range(25)]
    instants += [T0 + timedelta(seconds=s, microseconds=d) for s in (180, 421) for d in (0, 1)]
    instants += [datetime(1970, 1, 1, 0, 0, 30, tzinfo=UTC)]
    seconds_only = SqlThresholdMeter(quiet_beacon.analytics, TIERS[-1:])
    for at in instants:
        for window in (60, 61, 119, 120, 121, 300, 3_600, 86_400):
            for name in (*NAMES, "never-sent"):
                condition = rule(name, window)
                expected = sum(1 for n, moment in sent
                               if n == name and at - timedelta(seconds=window) < moment <= at)
                query = event_query(str(mine), condition, micros(at) + 1 - window * SECOND,
                                    micros(at) + 1)
                assert meter.value(str(mine), condition, at) == expected == raw.metric(query), \
                    (at, window, name)
                assert seconds_only.value(str(mine), condition, at) == expected, (at, window, name)


def test_ranges_inside_one_second_or_across_one_boundary_are_counted_from_rows_and_seconds(
        quiet_beacon: Beacon) -> None:
    workspace = uuid.uuid4()
    sent = load(quiet_beacon, workspace, seed=4)
    sent += load(quiet_beacon, workspace, seed=9, received=T0 + timedelta(days=3))
    catch_up(quiet_beacon)
    edge = micros(T0 + timedelta(seconds=120))
    for start, end in ((edge, edge + 1), (edge + 5, edge + SECOND), (edge - 3, edge + 3),
                       (edge - SECOND, edge + SECOND), (edge + 1, edge + 2 * SECOND - 1),
                       # across a minute's edge, and a minute less a microsecond either side
                       (edge - 1, edge + 1), (edge - SECOND - 1, edge + SECOND + 1),
                       (edge + 1, edge + MINUTE), (edge, edge + MINUTE - 1),
                       (edge - 1, edge + MINUTE + 1)):
        for name in NAMES:
            query = event_query(str(workspace), rule(name, 60), start, end)
            (found,), = quiet_beacon.analytics.rows(counted_by_seconds(query))
            assert found == sum(1 for n, m in sent if n == name and start <= micros(m) < end), \
                (start, end, name)


def test_an_unfiltered_count_reads_the_seconds_and_a_filtered_one_the_rows(quiet_beacon: Beacon) -> None:
    """Which table answers shows when they disagree, as they never do but here, by hand: a
    five-minute window to 12:03:20 reads minutes 11:59 to 12:02 whole, and the seconds of 11:58
    and 12:03 from 11:58:21 and up to 12:03:20."""
    workspace = uuid.uuid4()
    load(quiet_beacon, workspace, seed=5)
    catch_up(quiet_beacon)
    meter, at = SqlThresholdMeter(quiet_beacon.analytics), T0 + timedelta(seconds=200)
    filtered = rule("visit", 300, filters=[{"key": "plan", "op": "neq", "value": "none"}])
    plain, unique = rule("visit", 300), rule("visit", 300, metric="unique_actors")
    before = {label: meter.value(str(workspace), c, at)
              for label, c in (("plain", plain), ("filtered", filtered), ("unique", unique))}
    assert before["plain"] == before["filtered"] > before["unique"] > 0

    def add(table: str, column: str, seconds: int, n: int) -> dict[str, float]:
        with quiet_beacon.databases["Telemetry"].transaction() as cur:
            key = [str(workspace), micros(T0 + timedelta(seconds=seconds))]
            cur.execute(f"INSERT INTO {table} (workspace_id, name, {column}, events) "
                        f"VALUES (%s, 'visit', %s, %s) ON CONFLICT (workspace_id, name, {column}) "
                        f"DO UPDATE SET events = {table}.events + excluded.events", [*key, n])
        return {label: meter.value(str(workspace), c, at)
                for label, c in (("plain", plain), ("filtered", filtered), ("unique", unique))}

    assert add("rm_event_minutes", "minute", 120, 1000) == {**before, "plain": before["plain"] + 1000}
    assert add("rm_event_seconds", "second", 121, 10) == {**before, "plain": before["plain"] + 1000}
    assert add("rm_event_seconds", "second", 190, 100) == {**before, "plain": before["plain"] + 1100}
    assert add("rm_event_minutes", "minute", 180, 10_000) == {**before, "plain": before["plain"] + 1100}
    assert add("rm_event_seconds", "second", -80, 1) == {**before, "plain": before["plain"] + 1101}
    assert add("rm_event_seconds", "second", -100, 10) == {**before, "plain": before["plain"] + 1101}
    assert add("rm_event_seconds", "second", 200, 10) == {**before, "plain": before["plain"] + 1101}


def test_the_seconds_are_rebuilt_as_they_were_written_and_later_batches_add_to_them(
        quiet_beacon: Beacon) -> None:
    workspace = uuid.uuid4()
    load(quiet_beacon, workspace, seed=6)
    load(quiet_beacon, workspace, seed=10, received=T0 + timedelta(days=5))
    catch_up(quiet_beacon)
    live = counts(quiet_beacon)
    assert live == counted_from_events(quiet_beacon)
    assert len(live[0]) > 100 and len(live[1]) > 10 and len(live[2]) > 3
    quiet_beacon.rebuild("event_seconds")
    assert counts(quiet_beacon) == live
    load(quiet_beacon, workspace, seed=7)
    catch_up(quiet_beacon)
    assert counts(quiet_beacon) == counted_from_events(quiet_beacon)
    assert sum(n for *_, n in minutes_rows(quiet_beacon)) > sum(n for *_, n in live[1])


def test_an_installation_older_than_the_minutes_gets_them_filled_once(quiet_beacon: Beacon) -> None:
    """As a start-up finds it after an upgrade: seconds counted, no minutes, the fill not recorded
    as done. The fill sums the seconds into minutes, once; later batches add to both."""
    workspace, db = uuid.uuid4(), quiet_beacon.databases["Telemetry"]
    load(quiet_beacon, workspace, seed=12)
    load(quiet_beacon, workspace, seed=13, received=T0 + timedelta(days=4))
    catch_up(quiet_beacon)
    live = counts(quiet_beacon)
    with db.transaction() as cur:
        cur.execute("DELETE FROM rm_event_minutes")
        cur.execute(f"DELETE FROM {UPGRADES} WHERE name = %s", [MINUTES_FILLED])
    assert minutes_rows(quiet_beacon) == []
    assert fill_event_minutes(db)
    assert counts(quiet_beacon) == live == counted_from_events(quiet_beacon)
    assert not fill_event_minutes(db)  # recorded: a second start-up leaves them as they are
    load(quiet_beacon, workspace, seed=14)
    catch_up(quiet_beacon)
    assert counts(quiet_beacon) == counted_from_events(quiet_beacon)
    meter, at = SqlThresholdMeter(quiet_beacon.analytics), T0 + timedelta(seconds=599)
    query = event_query(str(workspace), rule("visit", 600), micros(at) + 1 - 600 * SECOND,
                        micros(at) + 1)
    assert meter.value(str(workspace), rule("visit", 600), at) == quiet_beacon.analytics.metric(query)


def test_values_at_many_instants_equal_each_instants_own_count(quiet_beacon: Beacon,
                                                               monkeypatch: Any) -> None:
    """Evaluation judges a rule at every arrival and grid instant of a run, measured together:
    the first instant's count, then what entered and left the window between one instant and
    the next. Each equals the count at that instant alone, for a count with a filter or none
    and for unique actors, instants a microsecond apart or further than the window, late events
    included, across the statements a long run is split into."""
    monkeypatch.setattr(alert_meters, "VALUES_AT_ONCE", 7)
    workspace = uuid.uuid4()
    sent = load(quiet_beacon, workspace, seed=11)
    sent += load(quiet_beacon, workspace, seed=12, received=T0 + timedelta(days=2))
    load(quiet_beacon, uuid.uuid4(), seed=13)  # another workspace's: never counted
    catch_up(quiet_beacon)
    meter, rng = SqlThresholdMeter(quiet_beacon.analytics), random.Random(14)
    instants = {T0 + timedelta(microseconds=rng.randrange(-60 * SECOND, 700 * SECOND))
                for _ in range(40)}
    instants |= {T0 + timedelta(seconds=s, microseconds=d) for s in (60, 61, 300) for d in (-1, 0, 1)}
    instants |= {datetime(1970, 1, 1, 0, 0, 30, tzinfo=UTC), T0 + timedelta(days=1)}
    # a run's arrivals, many within one second: counted alike but for their partial seconds
    instants |= {T0 + timedelta(seconds=s, microseconds=rng.randrange(SECOND))
                 for s in (120, 121, 180) for _ in range(15)}
    ordered = sorted(instants)
    pro = [{"key": "plan", "op": "eq", "value": "pro"}]
    for condition in (rule("visit", 60), rule("checkout", 61), rule("visit", 300, filters=pro),
                      rule("rare", 86_400), rule("never-sent", 60),
                      rule("checkout", 120, metric="unique_actors"),
                      rule("visit", 60, metric="unique_actors"),
                      rule("visit", 300, metric="unique_actors", filters=pro),
                      rule("rare", 86_400, metric="unique_actors")):
        values = meter.values(str(workspace), condition, ordered)
        assert values == [meter.value(str(workspace), condition, at) for at in ordered], condition
    plain = rule("visit", 120)
    assert meter.values(str(workspace), plain, ordered) == [
        sum(1 for n, moment in sent
            if n == "visit" and at - timedelta(seconds=120) < moment <= at) for at in ordered]
    assert meter.values(str(workspace), plain, []) == []
    assert meter.values(str(workspace), plain, ordered[3:4]) == [
        meter.value(str(workspace), plain, ordered[3])]


def test_unique_actors_at_many_instants_equal_each_instants_own_count(
        quiet_beacon: Beacon) -> None:
    """Unique actors at a run's instants are counted in one pass over the windows' shared
    middle, the edges' rows sliding in and out: each equals the count at that instant alone,
    with actors seen only at an edge, at an edge and in the middle, or not at all (events with
    no actor), for runs of instants closer together than the window and further apart."""
    workspace, rng = uuid.uuid4(), random.Random(21)
    quiet_beacon.telemetry.clock = lambda: T0 + timedelta(minutes=11)
    records = [check_event({
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "category": "c",
        "name": "visit", "timestamp": iso(T0 + timedelta(microseconds=rng.randrange(
            -30 * SECOND, 300 * SECOND))),
        "properties": {"plan": rng.choice(["free", "pro"])},
        **({"actor_id": f"u{rng.randrange(400)}"} if rng.random() < 0.9 else {})},
        datetime.now(UTC), anonymous=True) for _ in range(3000)]
    quiet_beacon.telemetry.ingest(workspace, records, limit=10**6)
    catch_up(quiet_beacon)
    meter = SqlThresholdMeter(quiet_beacon.analytics)
    instants = sorted({T0 + timedelta(microseconds=rng.randrange(0, 290 * SECOND))
                       for _ in range(30)}
                      | {T0 + timedelta(seconds=100, microseconds=rng.randrange(2 * SECOND))
                         for _ in range(20)}
                      # on the edges: an event just in, at, and just out of a window's ends
                      | {record.timestamp + timedelta(seconds=window, microseconds=shift)
                         for record in rng.sample(records, 6) for window in (0, 5, 60, 120)
                         for shift in (-1, 0)})
    pro = [{"key": "plan", "op": "eq", "value": "pro"}]
    for condition in (rule("visit", 60, metric="unique_actors"),
                      rule("visit", 5, metric="unique_actors"),
                      rule("visit", 120, metric="unique_actors", filters=pro)):
        values = meter.values(str(workspace), condition, instants)
        assert values == [meter.value(str(workspace), condition, at) for at in instants], condition
        assert len(set(values)) > 10  # counts that move: not a saturated few actors
    assert meter.values(str(workspace), rule("visit", 60, metric="unique_actors"),
                        instants[:1]) == [
        meter.value(str(workspace), rule("visit", 60, metric="unique_actors"), instants[0])]


def test_unique_actors_at_a_runs_instants_on_the_edges_of_their_windows(
        quiet_beacon: Beacon) -> None:
    """The shared middle's own ends, and an actor seen twice at one edge: it stays as long as
    its latest moment in the older edge is inside, and enters at its first in the newer."""
    ts = T0 + timedelta(seconds=100)

    def actor_at(*moments: timedelta) -> uuid.UUID:
        workspace = uuid.uuid4()
        quiet_beacon.telemetry.clock = lambda: T0 + timedelta(minutes=11)
        quiet_beacon.telemetry.ingest(workspace, [check_event({
            "event_id": str(uuid.uuid4()), "category": "c", "name": "visit", "actor_id": "ann",
            "timestamp": iso(ts + moment)}, datetime.now(UTC)) for moment in moments],
            limit=10**6)
        catch_up(quiet_beacon)
        return workspace

    meter = SqlThresholdMeter(quiet_beacon.analytics)
    once, twice_early, twice_late = (actor_at(timedelta(0)),
                                     actor_at(timedelta(seconds=6), timedelta(seconds=10)),
                                     actor_at(timedelta(seconds=1), timedelta(seconds=3)))
    unique = rule("visit", 60, metric="unique_actors")
    for workspace, offsets, expected in (
            (once, [(59, 0), (60, -1)], [1, 1]),  # the middle starts at the last's start
            (once, [(0, 0), (1, 0)], [1, 1]),  # and ends at the first instant
            (once, [(0, -1), (60, -2)], [0, 1]),  # the newer edge starts after it
            (twice_early, [(65, 0), (68, 0), (71, 0)], [1, 1, 0]),  # kept by its latest
            (twice_late, [(0, 0), (2, 0), (4, 0)], [0, 1, 1])):  # entered at its first
        instants = [ts + timedelta(seconds=s, microseconds=m) for s, m in offsets]  # µs
        assert meter.values(str(workspace), unique, instants) == expected
        assert [meter.value(str(workspace), unique, at) for at in instants] == expected


@pytest.mark.parametrize("rows_to_count", [2_000_000, 0], ids=["from rows", "from the counts"])
def test_known_values_leave_out_what_arrived_after_each_instant_and_its_settle(
        quiet_beacon: Beacon, monkeypatch: pytest.MonkeyPatch, rows_to_count: int) -> None:
    """A preview's values: each instant as it was known `settle` after it, measured together
    (a count's values less the late events not yet there), equal to asking SQL at each instant
    for the events received by then, with a filter or none, for batches received on time, a
    minute late and two days late; a plain count from its rows or, past `ROWS_TO_COUNT`, from
    the per-second and per-minute counts."""
    monkeypatch.setattr(alert_meters, "ROWS_TO_COUNT", rows_to_count)
    workspace = uuid.uuid4()
    load(quiet_beacon, workspace, seed=31, received=T0 + timedelta(seconds=30))
    load(quiet_beacon, workspace, seed=32, received=T0 + timedelta(seconds=150))
    load(quiet_beacon, workspace, seed=33, received=T0 + timedelta(days=2))
    catch_up(quiet_beacon)
    meter, rng = SqlThresholdMeter(quiet_beacon.analytics), random.Random(34)
    instants = sorted({T0 + timedelta(microseconds=rng.randrange(-60 * SECOND, 700 * SECOND))
                       for _ in range(60)} | {T0 + timedelta(seconds=s) for s in (29, 30, 149)})
    settle = timedelta(seconds=1)
    pro = [{"key": "plan", "op": "eq", "value": "pro"}]
    for condition in (rule("visit", 60), rule("visit", 300, filters=pro),
                      rule("checkout", 120, metric="unique_actors")):
        known = meter.known_values(str(workspace), condition, instants, settle)
        window = condition["window_seconds"] * SECOND
        assert known == [quiet_beacon.analytics.metric(replace(event_query(
            str(workspace), condition, micros(at) + 1 - window, micros(at) + 1),
            received_by=micros(at) + SECOND)) for at in instants], condition
        assert known != meter.values(str(workspace), condition, instants)  # some came late


def test_known_unique_actors_at_many_instants_equal_sql_at_each(quiet_beacon: Beacon) -> None:
    """A preview's unique actors, measured together per run of instants closer than the window:
    each equals asking SQL at that instant alone for the rows received by it and its settle,
    with batches 0 to 90 s late (an SDK's queue), actors seen at the edges, in the middle only
    from some instant on, or twice at an edge with one row late."""
    workspace, rng = uuid.uuid4(), random.Random(41)
    for _ in range(120):
        received = T0 + timedelta(seconds=rng.randrange(400), microseconds=rng.randrange(SECOND))
        quiet_beacon.telemetry.clock = lambda received=received: received
        quiet_beacon.telemetry.ingest(workspace, [check_event({
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "category": "c",
            "name": "visit", "actor_id": f"u{rng.randrange(60)}",
            "timestamp": iso(received - timedelta(microseconds=rng.choice(
                [0, rng.randrange(SECOND), rng.randrange(90 * SECOND)]))),
            "properties": {"plan": rng.choice(["free", "pro"])}}, datetime.now(UTC))
            for _ in range(rng.randrange(1, 12))], limit=10**6)
    catch_up(quiet_beacon)
    meter = SqlThresholdMeter(quiet_beacon.analytics)
    instants = sorted({T0 + timedelta(microseconds=rng.randrange(0, 420 * SECOND))
                       for _ in range(80)}
                      | {T0 + timedelta(seconds=200, microseconds=rng.randrange(3 * SECOND))
                         for _ in range(20)})
    settle = timedelta(seconds=1)
    pro = [{"key": "plan", "op": "eq", "value": "pro"}]
    for condition in (rule("visit", 60, metric="unique_actors"),
                      rule("visit", 10, metric="unique_actors"),
                      rule("visit", 120, metric="unique_actors", filters=pro)):
        window = condition["window_seconds"] * SECOND
        known = meter.known_values(str(workspace), condition, instants, settle)
        assert known == [quiet_beacon.analytics.metric(replace(event_query(
            str(workspace), condition, micros(at) + 1 - window, micros(at) + 1),
            received_by=micros(at) + SECOND)) for at in instants], condition
        assert known != meter.values(str(workspace), condition, instants)  # some came late
    late = uuid.uuid4()  # one event 30 s late: known from its arrival less the settle, exactly
    quiet_beacon.telemetry.clock = lambda: T0 + timedelta(seconds=130)
    quiet_beacon.telemetry.ingest(late, [check_event({
        "event_id": str(uuid.uuid4()), "category": "c", "name": "visit", "actor_id": "ann",
        "timestamp": iso(T0 + timedelta(seconds=100))}, datetime.now(UTC))], limit=10**6)
    catch_up(quiet_beacon)
    known_from = T0 + timedelta(seconds=129)
    assert meter.known_values(str(late), rule("visit", 60, metric="unique_actors"), [
        known_from - timedelta(microseconds=1), known_from, known_from + timedelta(seconds=11)],
        settle) == [0, 1, 1]
    twice = uuid.uuid4()  # two rows of one late batch at the older edge: the later one stays
    quiet_beacon.telemetry.clock = lambda: T0 + timedelta(seconds=150)
    quiet_beacon.telemetry.ingest(twice, [check_event({
        "event_id": str(uuid.uuid4()), "category": "c", "name": "visit", "actor_id": "ann",
        "timestamp": iso(T0 + timedelta(seconds=offset))}, datetime.now(UTC))
        for offset in (100, 130)], limit=10**6)
    catch_up(quiet_beacon)
    assert meter.known_values(str(twice), rule("visit", 120, metric="unique_actors"), [
        T0 + timedelta(seconds=s) for s in (149, 225, 240, 255)], settle) == [1, 1, 1, 0]
    early, then = uuid.uuid4(), datetime(1969, 7, 20, 20, 17, tzinfo=UTC)  # before 1970 too
    for actor, offset in (("neil", 0), ("buzz", 4.5)):  # each received half a second later
        quiet_beacon.telemetry.clock = lambda offset=offset: then + timedelta(seconds=offset + .5)
        quiet_beacon.telemetry.ingest(early, [check_event({
            "event_id": str(uuid.uuid4()), "category": "c", "name": "visit", "actor_id": actor,
            "timestamp": iso(then + timedelta(seconds=offset))}, datetime.now(UTC))],
            limit=10**6)
    catch_up(quiet_beacon)
    assert meter.known_values(str(early), rule("visit", 60, metric="unique_actors"), [
        then + timedelta(seconds=5), then + timedelta(seconds=60)], settle) == [2, 1]


def test_values_at_many_instants_hold_while_one_count_projection_is_ahead(
        quiet_beacon: Beacon) -> None:
    """A back-dated batch applied by `events` and not yet by `event_seconds` (two projections,
    each at its own position): measured together, the values are what each instant alone gives
    (a count from the seconds with deltas from the rows went to -1 here)."""
    workspace = uuid.uuid4()
    received = T0 + timedelta(seconds=85)
    quiet_beacon.telemetry.clock = lambda: received
    quiet_beacon.telemetry.ingest(workspace, [check_event({
        "event_id": str(uuid.uuid4()), "category": "c", "name": "visit", "actor_id": "a",
        "timestamp": "2026-04-04T12:00:05Z"}, datetime.now(UTC))], limit=10**6)
    quiet_beacon.runner("events").catch_up()  # event_seconds has not read it yet
    meter = SqlThresholdMeter(quiet_beacon.analytics)
    instants = [T0 + timedelta(seconds=s) for s in (60, 64, 64.5, 64.9, 65, 65.3, 66, 70, 80)]
    for condition in (rule("visit", 60), rule("visit", 60, filters=[
            {"key": "plan", "op": "is_not_set", "value": None}])):
        values = meter.values(str(workspace), condition, instants)
        assert values == [meter.value(str(workspace), condition, at) for at in instants]
        assert min(values) >= 0
    catch_up(quiet_beacon)
    assert meter.values(str(workspace), rule("visit", 60), instants) == [1, 1, 1, 1, 0, 0, 0, 0, 0]
