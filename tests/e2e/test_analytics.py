"""Timeseries, breakdowns, metrics and funnels over GraphQL and POST /api/query, on SQLite and
PostgreSQL, checked against plain Python over the same generated events (tests/analytics_reference)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests import analytics_reference as ref
from tests.conftest import Tenant, make_tenant

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
NAMES = ("visit", "signup", "purchase", "noise")
POINTS = """query ($event: String!, $from: DateTime!, $to: DateTime!, $interval: Interval,
  $metric: Metric, $filters: [PropertyFilter!]) {
  timeseries(event: $event, from: $from, to: $to, interval: $interval, metric: $metric,
             filters: $filters) { bucket value } }"""
ROWS = """query ($event: String!, $property: String!, $from: DateTime!, $to: DateTime!,
  $metric: Metric, $filters: [PropertyFilter!], $limit: Int) {
  breakdown(event: $event, property: $property, from: $from, to: $to, metric: $metric,
            filters: $filters, limit: $limit) { value count } }"""
METRIC = """query ($event: String!, $from: DateTime!, $to: DateTime!, $metric: Metric,
  $filters: [PropertyFilter!]) {
  metric(event: $event, from: $from, to: $to, metric: $metric, filters: $filters) }"""
FUNNEL = """query ($steps: [String!]!, $from: DateTime!, $to: DateTime!, $window: Int,
  $order: FunnelOrder, $filters: [PropertyFilter!], $breakdown: String) {
  funnel(steps: $steps, from: $from, to: $to, windowSeconds: $window, order: $order,
         filters: $filters, breakdown: $breakdown) {
    steps { name count conversionRate medianSecondsFromPrevious }
    breakdowns { value steps { name count conversionRate medianSecondsFromPrevious } } } }"""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def make_event(rng: random.Random, actor: str, name: str, moment: datetime,
               **properties: Any) -> dict[str, Any]:
    props = {"plan": rng.choice(["free", "pro", "team"]), "amount": rng.choice([5, 40, 300, 1200]),
             "trial": rng.random() < 0.4, "path": rng.choice(["/a", "/pricing", "/docs/x"])}
    if rng.random() < 0.25:
        del props["plan"]  # events without the breakdown property
    props.update(properties)
    return {"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "category": "product",
            "name": name, "timestamp": stamp(moment), "actor_id": actor,
            "session_id": rng.choice([None, str(uuid.uuid5(uuid.NAMESPACE_OID, f"{actor}{rng.random()}"))]),
            "source_app": rng.choice(["web", "ios"]), "source_version": "1.0", "properties": props}


def generate(seed: int = 4) -> list[dict[str, Any]]:
    """Random actors on a one-minute grid (so ties are common), plus the hard cases by hand."""
    rng = random.Random(seed)
    events = []
    for n in range(40):
        for _ in range(rng.randrange(2, 10)):
            name = rng.choices(NAMES, weights=[4, 3, 2, 2])[0]
            events.append(make_event(rng, f"actor-{n}", name, at(rng.randrange(0, 12 * 24 * 60, 7))))
    cases = [  # (actor, name, minute)
        ("tie", "visit", 600), ("tie", "signup", 600), ("tie", "purchase", 600),
        ("retry", "visit", 60), ("retry", "visit", 5000), ("retry", "signup", 5030),
        ("retry", "purchase", 5100),
        ("strict", "visit", 100), ("strict", "noise", 101), ("strict", "signup", 102),
        ("strict", "purchase", 102), ("any", "visit", 200), ("any", "purchase", 210),
        ("any", "signup", 220), ("slow", "visit", 300), ("slow", "signup", 300 + 3 * 24 * 60),
        ("edge", "visit", 12 * 24 * 60 - 1), ("edge", "signup", 12 * 24 * 60 + 30),
    ]
    events += [make_event(rng, actor, name, at(minute)) for actor, name, minute in cases]
    rng.shuffle(events)  # late arrivals: later requests carry earlier timestamps
    return events


@dataclass
class Dataset:
    tenant: Tenant
    events: list[dict[str, Any]]  # with "workspace" and "at", as the reference reads them
    position: str


def ingest(client: TestClient, tenant: Tenant, events: list[dict[str, Any]]) -> str:
    position = ""
    for start in range(0, len(events), 37):
        response = client.post("/v1/events", json=events[start:start + 37], headers=tenant.headers("ingest"))
        assert response.status_code == 200, response.text
        position = response.headers["X-Beacon-Position"]
    return position


@pytest.fixture
def dataset(client: TestClient, beacon: Beacon, tenant: Tenant) -> Dataset:
    other = make_tenant(client, name="Other", slug="other-co")
    mine, theirs = generate(), generate(seed=5)
    ingest(client, other, theirs)  # same names and actors, another workspace: never seen
    position = ingest(client, tenant, mine)
    source, _, where = position.partition(":")
    assert beacon.wait_for(source, int(where), timeout=20)
    tagged = [{**e, "workspace": tenant.id, "at": datetime.fromisoformat(e["timestamp"])} for e in mine]
    tagged += [{**e, "workspace": other.id, "at": datetime.fromisoformat(e["timestamp"])} for e in theirs]
    return Dataset(tenant, tagged, position)


def ask(client: TestClient, data: Dataset, query: str, **variables: Any) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=data.tenant.headers("read", **{"X-Beacon-Min-Position": data.position}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors") is None, body["errors"]
    return body["data"]


def rest(client: TestClient, data: Dataset, **question: Any) -> httpx.Response:
    return client.post("/api/query", json={"projectId": data.tenant.id, **question},
                       headers=data.tenant.headers("read"))


def lower(filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**f, "op": f["op"].lower()} for f in filters]


FILTERS: list[list[dict[str, Any]]] = [
    [], [{"key": "plan", "op": "EQ", "value": "pro"}], [{"key": "plan", "op": "NEQ", "value": "pro"}],
    [{"key": "path", "op": "CONTAINS", "value": "doc"}], [{"key": "amount", "op": "GT", "value": "40"}],
    [{"key": "amount", "op": "LT", "value": "300"}], [{"key": "path", "op": "GT", "value": "/b"}],
    [{"key": "plan", "op": "IS_SET"}], [{"key": "plan", "op": "IS_NOT_SET"}],
    [{"key": "trial", "op": "EQ", "value": "true"}, {"key": "source_app", "op": "EQ", "value": "web"}],
    [{"key": "actor_id", "op": "NEQ", "value": "tie"}, {"key": "category", "op": "IS_SET"}],
]


@pytest.mark.parametrize("interval, start, end", [
    ("MINUTE", at(593.5), at(700)), ("HOUR", at(95.25), at(3 * 24 * 60)), ("DAY", T0, at(14 * 24 * 60)),
    ("WEEK", at(3 * 24 * 60 + 1), at(20 * 24 * 60)), ("MONTH", at(-40 * 24 * 60), at(90 * 24 * 60)),
])
def test_timeseries_has_every_bucket_and_matches_plain_python(
        client: TestClient, dataset: Dataset, interval: str, start: datetime, end: datetime) -> None:
    for metric in ("COUNT", "UNIQUE_ACTORS", "SESSIONS"):
        for filters in FILTERS[:4] if metric != "COUNT" else FILTERS:
            expected = ref.timeseries(dataset.events, dataset.tenant.id, "visit", start, end,
                                      interval, metric, filters)
            got = ask(client, dataset, POINTS, event="visit", interval=interval, metric=metric,
                      filters=filters, **{"from": stamp(start), "to": stamp(end)})["timeseries"]
            assert [(datetime.fromisoformat(p["bucket"]), p["value"]) for p in got] == expected
    assert sum(value for _, value in ref.timeseries(dataset.events, dataset.tenant.id, "visit", start,
                                                     end, interval, "COUNT", [])) > 0


def test_breakdowns_put_events_without_the_property_under_null_largest_first(
        client: TestClient, dataset: Dataset) -> None:
    start, end = T0, at(15 * 24 * 60)
    for prop, metric, filters, limit in [
            ("plan", "COUNT", [], 25), ("plan", "UNIQUE_ACTORS", [], 25), ("plan", "SESSIONS", [], 2),
            ("amount", "COUNT", FILTERS[4], 25), ("trial", "COUNT", FILTERS[1], 25),
            ("source_app", "COUNT", [], 1), ("actor_id", "COUNT", [], 5), ("missing", "COUNT", [], 25)]:
        expected = ref.breakdown(dataset.events, dataset.tenant.id, "signup", prop, start, end, metric,
                                 filters, limit)
        got = ask(client, dataset, ROWS, event="signup", property=prop, metric=metric, filters=filters,
                  limit=limit, **{"from": stamp(start), "to": stamp(end)})["breakdown"]
        assert [(r["value"], r["count"]) for r in got] == expected
    assert None in [r[0] for r in ref.breakdown(dataset.events, dataset.tenant.id, "signup", "plan",
                                                start, end, "COUNT", [], 25)]


def test_metrics_match_for_every_filter_operator(client: TestClient, dataset: Dataset) -> None:
    start, end = at(30), at(11 * 24 * 60)
    for metric in ("COUNT", "UNIQUE_ACTORS", "SESSIONS"):
        for filters in FILTERS:
            expected = ref.measure(ref.chosen(dataset.events, dataset.tenant.id, "purchase", start, end,
                                              filters), metric)
            got = ask(client, dataset, METRIC, event="purchase", metric=metric, filters=filters,
                      **{"from": stamp(start), "to": stamp(end)})["metric"]
            assert got == expected, (metric, filters)


def funnel_of(found: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL funnel in the reference's shape."""
    def rows(steps: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(s["count"], s["conversionRate"], s["medianSecondsFromPrevious"]) for s in steps]
    return {"steps": rows(found["steps"]),
            "breakdowns": {b["value"]: rows(b["steps"]) for b in found["breakdowns"] or []}}


@pytest.mark.parametrize("order", ["SEQUENTIAL", "STRICT", "ANY"])
def test_funnels_count_each_actors_best_path_like_brute_force(client: TestClient, dataset: Dataset,
                                                             order: str) -> None:
    for steps, days, window, filters, by in [
            (["visit", "signup", "purchase"], 12, 14 * 86_400, [], None),
            (["visit", "signup", "purchase"], 12, 3600, [], "plan"),
            (["visit", "signup"], 5, 2 * 86_400, FILTERS[9], "source_app"),
            (["visit", "signup", "visit", "purchase"], 12, 5 * 86_400, [], None),
            (["signup", "purchase"], 12, 86_400, FILTERS[1], "amount")]:
        start, end = T0, at(days * 24 * 60)
        expected = ref.funnel(dataset.events, dataset.tenant.id, steps, start, end,
                              timedelta(seconds=window), order, filters, by)
        if by is None:
            expected["breakdowns"] = {}
        got = ask(client, dataset, FUNNEL, steps=steps, window=window, order=order, filters=filters,
                  breakdown=by, **{"from": stamp(start), "to": stamp(end)})["funnel"]
        assert funnel_of(got) == expected, (steps, window, filters, by)
        assert [s["name"] for s in got["steps"]] == steps


def test_the_hand_made_cases_count_as_documented(client: TestClient, dataset: Dataset) -> None:
    def through(order: str, window: int, actor: str) -> int:
        rule = [{"key": "actor_id", "op": "EQ", "value": actor}]
        found = ask(client, dataset, FUNNEL, steps=["visit", "signup", "purchase"], window=window,
                    order=order, filters=rule, **{"from": stamp(T0), "to": stamp(at(12 * 24 * 60))})
        return sum(1 for s in found["funnel"]["steps"] if s["count"])

    assert through("SEQUENTIAL", 60, "tie") == 3  # equal timestamps count as in order
    assert through("SEQUENTIAL", 3 * 3600, "retry") == 3  # a later attempt converts
    assert (through("SEQUENTIAL", 3600, "strict"), through("STRICT", 3600, "strict")) == (3, 1)
    assert (through("SEQUENTIAL", 3600, "any"), through("ANY", 3600, "any")) == (2, 3)
    assert (through("SEQUENTIAL", 86_400, "slow"), through("SEQUENTIAL", 3 * 86_400, "slow")) == (1, 2)
    assert through("SEQUENTIAL", 86_400, "edge") == 2  # step 2 may fall after `to`


def test_rest_query_answers_exactly_what_graphql_answers(client: TestClient, dataset: Dataset) -> None:
    window = {"from": stamp(T0), "to": stamp(at(12 * 24 * 60))}
    dates = {"dateRange": {"start": window["from"], "end": window["to"]}}
    rule = FILTERS[9]
    graph = ask(client, dataset, POINTS, event="visit", interval="DAY", metric="UNIQUE_ACTORS",
                filters=rule, **window)["timeseries"]
    seed = rest(client, dataset, type="timeseries", event="visit", metric="unique_actors",
                interval="day", filter=lower(rule)[0], filters=lower(rule)[1:], **dates)
    assert seed.status_code == 200, seed.text
    assert seed.json()["data"] == graph
    graph = ask(client, dataset, ROWS, event="signup", property="plan", limit=2, **window)["breakdown"]
    assert rest(client, dataset, type="breakdown", event="signup", property="plan", limit=2,
                **dates).json()["data"] == graph
    graph = ask(client, dataset, METRIC, event="purchase", metric="SESSIONS", **window)["metric"]
    assert rest(client, dataset, type="metric", event="purchase", metric="sessions",
                **dates).json()["data"] == graph
    graph = ask(client, dataset, FUNNEL, steps=["visit", "signup", "purchase"], order="STRICT",
                breakdown="plan", window=86_400, **window)["funnel"]
    assert rest(client, dataset, type="funnel", steps=["visit", "signup", "purchase"], order="strict",
                breakdown="plan", windowSeconds=86_400, **dates).json()["data"] == graph


def test_no_query_sees_another_workspaces_events(client: TestClient, dataset: Dataset) -> None:
    other_id = next(e["workspace"] for e in dataset.events if e["workspace"] != dataset.tenant.id)
    window = {"from": stamp(T0), "to": stamp(at(30 * 24 * 60))}
    mine = len([e for e in dataset.events if e["workspace"] == dataset.tenant.id and e["name"] == "visit"])
    assert ask(client, dataset, METRIC, event="visit", **window)["metric"] == mine
    found = rest(client, dataset, type="metric", event="visit", **{"dateRange": {
        "start": window["from"], "end": window["to"]}, "projectId": other_id})
    assert found.status_code == 404


@pytest.mark.parametrize("query, variables, message", [
    (METRIC, {"from": "2026-03-05T00:00:00Z", "to": "2026-03-05T00:00:00Z"}, "before to"),
    (POINTS, {"interval": "MINUTE", "to": "2026-05-01T00:00:00Z"}, "at most 50,000"),
    (ROWS, {"property": "plan", "limit": 0}, "between 1 and 1000"),
    (ROWS, {"property": "plan", "limit": 1001}, "between 1 and 1000"),
    (FUNNEL, {"steps": ["visit"] * 11}, "2-10 event names"),
    (FUNNEL, {"steps": ["visit"]}, "2-10 event names"),
    (FUNNEL, {"steps": ["visit", "signup"], "window": 0}, "positive"),
    (METRIC, {"filters": [{"key": "plan", "op": "EQ"}]}, "value is required"),
    (POINTS, {"interval": "FORTNIGHT"}, "FORTNIGHT"),
])
def test_bad_arguments_are_clear_graphql_errors(client: TestClient, tenant: Tenant, query: str,
                                                variables: dict[str, Any], message: str) -> None:
    variables = {"event": "visit", "from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z",
                 **variables}
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=tenant.headers("read"))
    errors = response.json()["errors"]
    assert message in errors[0]["message"], errors


def test_bad_rest_questions_are_422_in_the_platform_shape(client: TestClient, tenant: Tenant) -> None:
    base = {"projectId": tenant.id, "dateRange": {"start": "2026-03-01T00:00:00Z",
                                                  "end": "2026-03-02T00:00:00Z"}}
    for question in [{"type": "timeseries"}, {"type": "breakdown", "event": "visit"},
                     {"type": "funnel", "steps": ["visit"]}, {"type": "pie", "event": "visit"},
                     {"type": "metric", "event": "visit", "metric": "COUNT"},
                     {"type": "metric", "event": "visit", "filter": {"key": "x", "op": "like"}},
                     {"type": "metric", "event": "visit",
                      "dateRange": {"start": "yesterday", "end": "2026-03-02T00:00:00Z"}}]:
        response = client.post("/api/query", json={**base, **question}, headers=tenant.headers("read"))
        assert response.status_code == 422, (question, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    assert client.post("/api/query", json={**base, "type": "metric", "event": "v"}).status_code == 401


def test_answers_are_the_same_after_the_events_read_model_is_rebuilt(
        client: TestClient, beacon: Beacon, dataset: Dataset) -> None:
    window = {"from": stamp(T0), "to": stamp(at(12 * 24 * 60))}

    def answers() -> list[Any]:
        return [ask(client, dataset, POINTS, event="visit", interval="HOUR", metric="UNIQUE_ACTORS",
                    **window),
                ask(client, dataset, ROWS, event="signup", property="plan", **window),
                ask(client, dataset, FUNNEL, steps=["visit", "signup", "purchase"], order="STRICT",
                    breakdown="plan", window=86_400, **window)]

    before = answers()
    beacon.rebuild("events")
    assert answers() == before
