"""The incidents API of seed 001, through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime

from fastapi.testclient import TestClient

from tests.conftest import Tenant, make_tenant

SEED_CREATE = {
    "title": "Elevated API latency in US-East",
    "impact": "minor",
    "state": "investigating",
    "message": "We are observing p99 latency above 2s for API requests routed through US-East. "
               "Investigating the root cause.",
}


def create(client: TestClient, tenant: Tenant, body: dict | None = None) -> dict:
    response = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents",
                           json=body or SEED_CREATE, headers=tenant.headers("write"))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def is_iso_utc(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value.replace("Z", "+00:00")) is not None


def test_creating_an_incident_answers_as_the_seed_documents(client: TestClient,
                                                            tenant: Tenant) -> None:
    response = client.post(f"/api/v1/pages/{tenant.page_slug}/incidents", json=SEED_CREATE,
                           headers=tenant.headers("write", Accept="application/json"))
    assert response.status_code == 201
    data = response.json()["data"]
    assert {k: data[k] for k in ("title", "impact", "state", "resolved", "resolved_at")} == {
        "title": SEED_CREATE["title"], "impact": "minor", "state": "investigating",
        "resolved": False, "resolved_at": None}
    assert is_iso_utc(data["created_at"]) and data["created_at"] == data["updated_at"]
    (update,) = data["updates"]
    assert update["message"] == SEED_CREATE["message"]
    assert update["id"].startswith("upd_") and len(update["id"]) == 16
    int(update["id"][4:], 16)
    assert response.headers["ETag"] == '"2"'
    assert response.headers["Location"] == f"/api/v1/incidents/{data['id']}"


def test_defaults_are_impact_none_and_state_investigating(client: TestClient,
                                                          tenant: Tenant) -> None:
    data = create(client, tenant, {"title": "Minimal"})
    assert (data["impact"], data["state"], data["updates"]) == ("none", "investigating", [])


def test_patch_changes_only_the_fields_sent(client: TestClient, tenant: Tenant) -> None:
    incident = create(client, tenant)
    response = client.patch(f"/api/v1/incidents/{incident['id']}",
                            json={"state": "identified", "impact": "major"},
                            headers=tenant.headers("write"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["title"], data["impact"], data["state"]) == (SEED_CREATE["title"], "major",
                                                              "identified")
    assert data["updated_at"] > data["created_at"]
    assert "updates" not in data


def test_resolving_sets_resolved_at_and_reopening_clears_it(client: TestClient,
                                                            tenant: Tenant) -> None:
    incident = create(client, tenant)
    url = f"/api/v1/incidents/{incident['id']}"
    resolved = client.patch(url, json={"state": "resolved", "resolved": True},
                            headers=tenant.headers("write")).json()["data"]
    assert resolved["resolved"] is True and resolved["state"] == "resolved"
    assert is_iso_utc(resolved["resolved_at"])
    reopened = client.patch(url, json={"state": "monitoring"},
                            headers=tenant.headers("write")).json()["data"]
    assert (reopened["resolved"], reopened["resolved_at"], reopened["state"]) == \
        (False, None, "monitoring")
    types = [e["type"] for e in client.get(f"{url}/history",
                                           headers=tenant.headers("read")).json()["data"]]
    assert types == ["Opened", "UpdatePosted", "Resolved", "Reopened"]


def test_a_patch_that_changes_nothing_records_nothing(client: TestClient, tenant: Tenant) -> None:
    incident = create(client, tenant)
    url = f"/api/v1/incidents/{incident['id']}"
    response = client.patch(url, json={"impact": "minor"}, headers=tenant.headers("write"))
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    history = client.get(f"{url}/history", headers=tenant.headers("read")).json()["data"]
    assert len(history) == 2


def test_adding_an_update_answers_with_its_id_and_incident(client: TestClient,
                                                           tenant: Tenant) -> None:
    incident = create(client, tenant)
    response = client.post(f"/api/v1/incidents/{incident['id']}/updates",
                           json={"message": "Fix deploying. ETA 10 minutes."},
                           headers=tenant.headers("write"))
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["incident_id"] == incident["id"] and data["id"].startswith("upd_")
    assert data["message"] == "Fix deploying. ETA 10 minutes." and is_iso_utc(data["created_at"])
    current = client.get(f"/api/v1/incidents/{incident['id']}",
                         headers=tenant.headers("read")).json()["data"]
    assert [u["id"] for u in current["updates"]][-1] == data["id"]


def test_validation_errors_are_422_with_details(client: TestClient, tenant: Tenant) -> None:
    url = f"/api/v1/pages/{tenant.page_slug}/incidents"
    for body in ({}, {"title": ""}, {"title": "x" * 256}, {"title": "t", "impact": "huge"},
                 {"title": "t", "state": "done"}, {"title": 42}):
        response = client.post(url, json=body, headers=tenant.headers("write"))
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["details"]
    incident = create(client, tenant)
    for body in ({"resolved": "yes"}, {"state": "identified", "resolved": True},
                 {"title": None}, {"unknown": 1}):
        response = client.patch(f"/api/v1/incidents/{incident['id']}", json=body,
                                headers=tenant.headers("write"))
        assert response.status_code == 422, body
    response = client.post(f"/api/v1/incidents/{incident['id']}/updates", json={},
                           headers=tenant.headers("write"))
    assert response.status_code == 422


def test_unknown_pages_and_incidents_are_404(client: TestClient, tenant: Tenant) -> None:
    write = tenant.headers("write")
    assert client.post("/api/v1/pages/nope/incidents", json={"title": "t"},
                       headers=write).status_code == 404
    for incident_id in ("9f1a2b3c-4d5e-6f7a-8b9c-0d1e2f3a4b5c", "not-a-uuid"):
        response = client.patch(f"/api/v1/incidents/{incident_id}", json={"title": "t"},
                                headers=write)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "incident_not_found"


def test_another_workspaces_incident_is_not_found(client: TestClient, tenant: Tenant) -> None:
    incident = create(client, tenant)
    other = make_tenant(client, name="Other", slug="other")
    url = f"/api/v1/incidents/{incident['id']}"
    assert client.get(url, headers=other.headers("read")).status_code == 404
    assert client.patch(url, json={"title": "pwned"},
                        headers=other.headers("write")).status_code == 404
    assert client.post(f"{url}/updates", json={"message": "pwned"},
                       headers=other.headers("write")).status_code == 404
    assert client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                      headers=other.headers("read")).status_code == 404
    assert client.get(url, headers=tenant.headers("read")).json()["data"]["title"] == \
        SEED_CREATE["title"]


def test_the_id_of_another_kind_of_thing_is_no_incident(client: TestClient, tenant: Tenant) -> None:
    """Components, maintenances and incidents share one log: a component's id named as an
    incident's is not found, not read as one (a 500 before)."""
    made = client.post(f"/api/v1/pages/{tenant.page_slug}/components", json={"name": "API"},
                       headers=tenant.headers("write"))
    assert made.status_code == 201, made.text
    url = f"/api/v1/incidents/{made.json()['data']['id']}"
    assert client.get(url, headers=tenant.headers("read")).status_code == 404
    assert client.patch(url, json={"title": "x"}, headers=tenant.headers("write")).status_code == 404
    incident = create(client, tenant)
    assert client.get(f"/api/v1/components/{incident['id']}",
                      headers=tenant.headers("read")).status_code == 404


def test_keys_are_checked_for_presence_validity_and_scope(client: TestClient,
                                                          tenant: Tenant) -> None:
    url = f"/api/v1/pages/{tenant.page_slug}/incidents"
    assert client.post(url, json={"title": "t"}).status_code == 401
    assert client.post(url, json={"title": "t"},
                       headers={"Authorization": "Bearer bkn_live_forged"}).status_code == 401
    forged = tenant.keys["write"][:-4] + "AAAA"
    assert client.post(url, json={"title": "t"},
                       headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    response = client.post(url, json={"title": "t"}, headers=tenant.headers("read"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert client.post(url, json={"title": "t"},
                       headers=tenant.headers("ingest")).status_code == 403


def test_every_response_carries_rate_limit_headers(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                          headers=tenant.headers("read"))
    assert response.headers["X-RateLimit-Limit"] == "1000"
    assert int(response.headers["X-RateLimit-Remaining"]) < 1000
    assert int(response.headers["X-RateLimit-Reset"]) > 1_700_000_000


def test_too_many_requests_are_refused_with_retry_after(client: TestClient,
                                                        tenant: Tenant) -> None:
    from tests.conftest import ADMIN
    client.patch(f"/admin/v1/workspaces/{tenant.id}", json={"rate_limit_per_minute": 3},
                 headers=ADMIN)
    statuses = [client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                           headers=tenant.headers("read")) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert int(statuses[-1].headers["Retry-After"]) >= 1
    assert statuses[-1].json()["error"]["code"] == "rate_limited"


def test_listing_is_newest_first_with_cursor_pagination(client: TestClient,
                                                        tenant: Tenant) -> None:
    ids = [create(client, tenant, {"title": f"incident {n}"})["id"] for n in range(5)]
    position = client.patch(f"/api/v1/incidents/{ids[0]}", json={"state": "resolved"},
                            headers=tenant.headers("write")).headers["X-Beacon-Position"]
    seen, cursor, totals = [], None, set()
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents", params=params,
                          headers=tenant.headers("read", **{"X-Beacon-Min-Position": position})
                          ).json()
        seen += [item["id"] for item in body["data"]]
        totals.add(body["total"])
        if not body["has_more"]:
            assert "next_cursor" not in body
            break
        cursor = body["next_cursor"]
        assert "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert seen == list(reversed(ids)) and totals == {5}
    resolved = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                          params={"state": "resolved"},
                          headers=tenant.headers("read", **{"X-Beacon-Min-Position": position})
                          ).json()
    assert [i["id"] for i in resolved["data"]] == [ids[0]] and resolved["total"] == 1
    bad = client.get(f"/api/v1/pages/{tenant.page_slug}/incidents", params={"cursor": "%%%"},
                     headers=tenant.headers("read"))
    assert bad.status_code == 400


def test_history_names_the_actor_and_each_field_before_and_after(client: TestClient,
                                                                tenant: Tenant) -> None:
    incident = create(client, tenant)
    client.patch(f"/api/v1/incidents/{incident['id']}", json={"impact": "critical"},
                 headers=tenant.headers("write"))
    history = client.get(f"/api/v1/incidents/{incident['id']}/history",
                         headers=tenant.headers("read")).json()["data"]
    assert [h["version"] for h in history] == [1, 2, 3]
    change = history[-1]
    assert change["type"] == "Changed" and is_iso_utc(change["occurred_at"])
    assert change["actor"] == {"key_id": tenant.key_ids["write"], "name": "write key"}
    assert change["changes"] == [{"field": "impact", "before": "minor", "after": "critical"}]


def test_as_of_returns_the_incident_as_it_was_then(client: TestClient, tenant: Tenant) -> None:
    incident = create(client, tenant)
    url = f"/api/v1/incidents/{incident['id']}"
    before_patch = client.patch(url, json={"title": "Renamed"},
                                headers=tenant.headers("write")).json()["data"]["created_at"]
    then = client.get(url, params={"as_of": before_patch}, headers=tenant.headers("read"))
    assert then.json()["data"]["title"] == SEED_CREATE["title"]
    assert client.get(url, headers=tenant.headers("read")).json()["data"]["title"] == "Renamed"
    too_early = client.get(url, params={"as_of": "2000-01-01T00:00:00Z"},
                           headers=tenant.headers("read"))
    assert too_early.status_code == 404


def test_if_match_with_a_stale_version_is_412(client: TestClient, tenant: Tenant) -> None:
    incident = create(client, tenant)
    url = f"/api/v1/incidents/{incident['id']}"
    ok = client.patch(url, json={"impact": "major"},
                      headers=tenant.headers("write", **{"If-Match": '"2"'}))
    assert ok.status_code == 200 and ok.headers["ETag"] == '"3"'
    stale = client.patch(url, json={"impact": "critical"},
                         headers=tenant.headers("write", **{"If-Match": '"2"'}))
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"


def test_two_concurrent_patches_with_the_same_if_match_one_wins(client: TestClient,
                                                                tenant: Tenant) -> None:
    incident = create(client, tenant)
    url = f"/api/v1/incidents/{incident['id']}"
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def patch(impact: str) -> None:
        barrier.wait()
        statuses.append(client.patch(url, json={"impact": impact},
                                     headers=tenant.headers("write", **{"If-Match": '"2"'})
                                     ).status_code)

    threads = [threading.Thread(target=patch, args=(i,)) for i in ("major", "critical")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    history = client.get(f"{url}/history", headers=tenant.headers("read")).json()["data"]
    assert len(history) == 3


def test_malformed_json_wrong_media_type_and_oversized_bodies(client: TestClient,
                                                              tenant: Tenant) -> None:
    url = f"/api/v1/pages/{tenant.page_slug}/incidents"
    json_headers = tenant.headers("write", **{"Content-Type": "application/json"})
    malformed = client.post(url, content=b'{"title": ', headers=json_headers)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"
    deep = client.post(url, content=b"[" * 200_000 + b"]" * 200_000, headers=json_headers)
    assert deep.status_code in (400, 413) and "error" in deep.json()
    text = client.post(url, content=b"title=x",
                       headers=tenant.headers("write", **{"Content-Type": "text/plain"}))
    assert text.status_code == 415
    huge = client.post(url, content=b'{"title": "' + b"x" * 1_100_000 + b'"}',
                       headers=json_headers)
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit is counted while streaming
        for _ in range(20):
            yield b"x" * 100_000

    streamed = client.post(url, content=chunks(), headers=json_headers)
    assert streamed.status_code == 413
