"""Hostile input to alert rules: each refused with its documented code, nothing half-written, and
nothing accepted that a read model, a later read or another workspace's rules would trip over.
On SQLite and PostgreSQL (found in review, 2026-12-07)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.alert_book import alert_book_id
from infrastructure.database import SQLiteDatabase
from interfaces.bootstrap import Beacon
from tests.conftest import Tenant, make_tenant, settle
from tests.e2e.test_alerts import SECRET, threshold
from tests.receiver import Receiver

RULE = "/api/v1/alerts"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def rule_body(url: str, **fields: Any) -> dict[str, Any]:
    return {"name": "Checkouts failing", "condition": threshold(), "cooldown_seconds": 0,
            "channels": [{"type": "webhook", "url": url, "secret": SECRET}], **fields}


def created(client: TestClient, tenant: Tenant, url: str) -> dict[str, Any]:
    response = client.post(RULE, headers=tenant.headers("write"), json=rule_body(url))
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


def test_a_value_past_what_json_readers_agree_on_is_refused_and_no_rule_is_stalled(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        receiver: Receiver) -> None:
    """2^64 was accepted, then stopped the `alerts` read model on SQLite for every workspace
    (its JSON writer refuses integers past 64 bits); 10^400 was a 500."""
    write = tenant_on_clock.headers("write")
    for value in (2**64, 10**400, 10**30, -(2**64)):
        for condition in (threshold(value=value),
                          {"type": "exception_group", "trigger": "over", "value": value}):
            response = clocked_client.post(RULE, headers=write,
                                           json=rule_body(receiver.url, condition=condition))
            assert response.status_code == 422, (value, response.text)
            assert response.json()["error"]["details"][0]["field"] == "condition.value"
    assert clocked_client.post(RULE, headers=write, json=rule_body(
        receiver.url, condition=threshold(value=10**15))).status_code == 201  # the most
    other = make_tenant(clocked_client, name="Other", slug="other-co")
    created(clocked_client, other, receiver.url)
    settle(clocked_beacon)
    status = {s.name: s for s in (r.status() for r in clocked_beacon.runners)}
    assert status["alerts"].lag == 0 and status["alerts"].failures == 0
    listed = clocked_client.get(RULE, headers=other.headers("read")).json()["data"]
    assert len(listed) == 1


def test_a_sqlite_read_model_keeps_an_integer_past_64_bits_an_event_holds(tmp_path: Path) -> None:
    """Whatever the log accepted is written: a JSON column falls back to the standard writer
    where orjson refuses (PostgreSQL's columns are written by the standard one already)."""
    database = SQLiteDatabase(tmp_path / "read-models.db")
    try:
        written = database.json({"value": 2**64, "name": "Zürich"})
        assert database.load_json(written) == {"value": 2**64, "name": "Zürich"}
    finally:
        database.close()


def test_a_moment_past_the_last_one_in_utc_is_refused_not_a_500(
        clocked_client: TestClient, tenant_on_clock: Tenant, receiver: Receiver) -> None:
    """9999-12-31T23:00:00-12:00 is 10000-01-01 in UTC: muting until then was saved, and every
    later read of the rule (and of the workspace's list) was a 500."""
    rule = created(clocked_client, tenant_on_clock, receiver.url)
    write, read = tenant_on_clock.headers("write"), tenant_on_clock.headers("read")
    late = "9999-12-31T23:00:00-12:00"
    muted = clocked_client.post(f"{RULE}/{rule['id']}/mute", headers=write, json={"until": late})
    assert muted.status_code == 422, muted.text
    assert muted.json()["error"]["details"] == [{"field": "until", "message": "out of range"}]
    assert clocked_client.get(f"{RULE}/{rule['id']}", headers=read).json()["data"]["muted_until"] \
        is None
    assert clocked_client.get(RULE, headers=read).status_code == 200
    preview = clocked_client.post(f"{RULE}/preview", headers=read, json={
        "condition": threshold(), "from": "2026-04-04T00:00:00Z", "to": late})
    assert preview.status_code == 422, preview.text
    activity = clocked_client.get(f"{RULE}/activity", headers=read, params={"to": late})
    assert activity.status_code == 422, activity.text
    graphql = clocked_client.post("/graphql", headers=read, json={
        "query": f'query {{ alertActivity(to: "{late}") {{ __typename }} }}'})
    assert graphql.status_code == 200 and "out of range" in graphql.text, graphql.text


def test_the_id_of_another_kind_of_aggregate_is_not_found(
        clocked_client: TestClient, tenant_on_clock: Tenant, receiver: Receiver) -> None:
    """The workspace's book of rules lives in the same log as its rules, under an id anyone can
    compute: every alert route answered it with a 500."""
    book = alert_book_id(UUID(tenant_on_clock.id))
    write, read = tenant_on_clock.headers("write"), tenant_on_clock.headers("read")
    created(clocked_client, tenant_on_clock, receiver.url)  # the book exists
    for method, path, body in (("GET", "", None), ("PATCH", "", {"name": "x"}),
                               ("DELETE", "", None), ("POST", "/mute", {"until": None}),
                               ("POST", "/test", None), ("GET", "/history", None)):
        response = clocked_client.request(method, f"{RULE}/{book}{path}", json=body,
                                          headers=read if method == "GET" else write)
        assert response.status_code == 404, (method, path, response.text)
    answer = clocked_client.post("/graphql", headers=read, json={
        "query": f'query {{ alert(id: "{book}") {{ id }} }}'}).json()
    assert answer == {"data": {"alert": None}}, answer


def test_half_a_surrogate_pair_is_refused_at_the_door(
        clocked_client: TestClient, tenant_on_clock: Tenant, receiver: Receiver) -> None:
    """Python's JSON reader takes "\\ud800" into text no database can write: a 500 after the
    rule was checked. A whole pair (an emoji as \\ud83d\\ude00) is a character like any other."""
    headers = {**tenant_on_clock.headers("write"), "Content-Type": "application/json"}
    for name in ("\\ud800", "a\\udfffb", "\\ud83d x"):
        body = json.dumps(rule_body(receiver.url)).replace("Checkouts failing", name)
        response = clocked_client.post(RULE, headers=headers, content=body)
        assert response.status_code == 400, (name, response.text)
        assert "surrogate" in response.json()["error"]["message"]
    body = json.dumps(rule_body(receiver.url, name="Checkouts \U0001f600"))  # ASCII, escaped
    assert "\\ud83d\\ude00" in body
    response = clocked_client.post(RULE, headers=headers, content=body)
    assert response.status_code == 201 and response.json()["data"]["name"] == "Checkouts \U0001f600"


def test_unicode_digits_are_no_version_and_no_position(
        clocked_client: TestClient, tenant_on_clock: Tenant, receiver: Receiver) -> None:
    """"²" passes str.isdigit and then int() refuses it: each was a 500."""
    rule = created(clocked_client, tenant_on_clock, receiver.url)
    changed = clocked_client.patch(f"{RULE}/{rule['id']}", json={"name": "y"}, headers={
        **tenant_on_clock.headers("write"), "If-Match": '"\xb2"'.encode("latin-1")})
    assert changed.status_code == 412, changed.text
    listed = clocked_client.get(RULE, headers={
        **tenant_on_clock.headers("read"), "X-Beacon-Min-Position": b"Alerts:\xb2"})
    assert listed.status_code == 400, listed.text


def test_a_webhook_url_with_a_line_break_or_a_space_is_refused(
        clocked_client: TestClient, tenant_on_clock: Tenant) -> None:
    """urlsplit drops tabs and line breaks before looking: the URL stored was not the one
    checked."""
    for url in ("https://hooks.example.com/a\r\nX-Evil: 1", "https://hooks.example.com/a b",
                "https://hooks.example.com/\ta"):
        response = clocked_client.post(RULE, headers=tenant_on_clock.headers("write"),
                                       json=rule_body(url))
        assert response.status_code == 422, (url, response.text)
