"""The admin API: workspaces, keys and pages behind the admin token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ADMIN, Tenant, make_tenant


def test_creating_a_workspace_returns_its_plan_limits(client: TestClient) -> None:
    response = client.post("/admin/v1/workspaces", json={"name": "Acme", "plan": "starter"},
                           headers=ADMIN)
    assert response.status_code == 201
    data = response.json()["data"]
    assert {k: data[k] for k in ("name", "plan", "monthly_event_limit", "rate_limit_per_minute")} \
        == {"name": "Acme", "plan": "starter", "monthly_event_limit": 1_000_000,
            "rate_limit_per_minute": 300}


def test_the_admin_api_needs_the_admin_token(client: TestClient, tenant: Tenant) -> None:
    assert client.post("/admin/v1/workspaces", json={"name": "x"}).status_code == 401
    assert client.post("/admin/v1/workspaces", json={"name": "x"},
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/admin/v1/workspaces", json={"name": "x"},
                       headers=tenant.headers("write")).status_code == 401


def test_patching_a_workspace_changes_plan_limits_and_allowlist(client: TestClient,
                                                                tenant: Tenant) -> None:
    url = f"/admin/v1/workspaces/{tenant.id}"
    data = client.patch(url, json={"plan": "free"}, headers=ADMIN).json()["data"]
    assert (data["plan"], data["rate_limit_per_minute"], data["monthly_event_limit"]) == \
        ("free", 60, 10_000)
    data = client.patch(url, json={"monthly_event_limit": 5, "ip_allowlist": ["10.0.0.0/8"]},
                        headers=ADMIN).json()["data"]
    assert data["monthly_event_limit"] == 5 and data["ip_allowlist"] == ["10.0.0.0/8"]
    assert client.patch(url, json={"plan": "platinum"}, headers=ADMIN).status_code == 422
    assert client.patch(url, json={"ip_allowlist": ["nonsense"]}, headers=ADMIN).status_code == 422
    assert client.patch(url, json={"rate_limit_per_minute": "many"},
                        headers=ADMIN).status_code == 422
    assert client.patch("/admin/v1/workspaces/00000000-0000-0000-0000-000000000000",
                        json={"plan": "pro"}, headers=ADMIN).status_code == 404


def test_an_ip_allowlist_refuses_other_addresses_with_403(client: TestClient,
                                                          tenant: Tenant) -> None:
    url = f"/api/v1/pages/{tenant.page_slug}/incidents"
    client.patch(f"/admin/v1/workspaces/{tenant.id}", json={"ip_allowlist": ["10.1.2.3"]},
                 headers=ADMIN)
    response = client.get(url, headers=tenant.headers("read"))  # the test client is "testclient"
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    client.patch(f"/admin/v1/workspaces/{tenant.id}", json={"ip_allowlist": []}, headers=ADMIN)
    assert client.get(url, headers=tenant.headers("read")).status_code == 200


def test_a_key_is_shown_once_and_refused_after_revocation(client: TestClient,
                                                          tenant: Tenant) -> None:
    url = f"/api/v1/pages/{tenant.page_slug}/incidents"
    assert client.get(url, headers=tenant.headers("read")).status_code == 200
    response = client.delete(f"/admin/v1/workspaces/{tenant.id}/keys/{tenant.key_ids['read']}",
                             headers=ADMIN)
    assert response.status_code == 204
    assert client.get(url, headers=tenant.headers("read")).status_code == 401
    assert client.get(url, headers=tenant.headers("write")).status_code == 200


def test_keys_and_pages_of_another_workspace_are_not_found(client: TestClient,
                                                           tenant: Tenant) -> None:
    other = make_tenant(client, name="Other", slug="other")
    response = client.delete(f"/admin/v1/workspaces/{other.id}/keys/{tenant.key_ids['read']}",
                             headers=ADMIN)
    assert response.status_code == 404
    assert client.get(f"/api/v1/pages/{tenant.page_slug}/incidents",
                      headers=tenant.headers("read")).status_code == 200


def test_key_and_page_requests_are_validated(client: TestClient, tenant: Tenant) -> None:
    keys = f"/admin/v1/workspaces/{tenant.id}/keys"
    assert client.post(keys, json={"name": "k", "scopes": ["admin"]}, headers=ADMIN).status_code \
        == 422
    assert client.post(keys, json={"name": "k", "scopes": []}, headers=ADMIN).status_code == 422
    pages = f"/admin/v1/workspaces/{tenant.id}/pages"
    assert client.post(pages, json={"slug": "Bad Slug", "name": "x"},
                       headers=ADMIN).status_code == 422
    duplicate = client.post(pages, json={"slug": tenant.page_slug, "name": "again"},
                            headers=ADMIN)
    assert duplicate.status_code == 409
