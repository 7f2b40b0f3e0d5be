"""A project's API keys for its admins, on SQLite and PostgreSQL, through the app with real
sessions (and their CSRF token) and CLI access tokens: create with the secret shown once, list
from the keys read model, revoke, GraphQL's apiKeys, and no way into another project's keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.actor import ADMIN as ADMIN_ACTOR
from interfaces.bootstrap import Beacon
from tests.conftest import ADMIN, Tenant, data_of, make_tenant
from tests.deploying import access_token
from tests.e2e.people_fixtures import SignedInUser, sign_in

KEYS = "/api/v1/workspaces/{project}/keys"
API_KEYS = "{ apiKeys { id name scopes prefix createdAt createdBy revokedAt revokedBy } }"


def join(beacon: Beacon, user: SignedInUser, tenant: Tenant, role: str) -> None:
    found = beacon.workspaces.find_user(user.email)
    assert found is not None
    beacon.workspaces.add_member(UUID(tenant.id), found, role, ADMIN_ACTOR)


@pytest.fixture
def ada(beacon: Beacon, client: TestClient, tenant: Tenant) -> Iterator[SignedInUser]:
    """An admin of the tenant's project (slug `acme`)."""
    user = sign_in(beacon, client.app, "ada@example.com")
    join(beacon, user, tenant, "admin")
    yield user
    user.client.close()


def create(user: SignedInUser, project: str, name: str = "ci",
           scopes: tuple[str, ...] = ("read", "write")) -> Any:
    return user.write("POST", KEYS.format(project=project), json={"name": name,
                                                                   "scopes": list(scopes)})


def listed(user: SignedInUser, project: str, after: Any) -> list[dict[str, Any]]:
    """The list, once it includes the write `after` answered (read your writes)."""
    position = after.headers["X-Beacon-Position"]
    return list(data_of(user.client.get(KEYS.format(project=project),
                                         headers={"X-Beacon-Min-Position": position})))


def test_an_admin_creates_a_key_whose_secret_is_shown_once_and_works(
        client: TestClient, tenant: Tenant, ada: SignedInUser) -> None:
    made = create(ada, "acme", "ci deploys", ("read", "write"))
    key = data_of(made, 201)
    assert key["key"].startswith("sk_live_") and key["scopes"] == ["write", "read"]
    assert key["prefix"].endswith("…") and key["key"].startswith(key["prefix"][:-1])
    monitors = client.get("/api/v1/monitors", headers={"Authorization": f"Bearer {key['key']}"})
    assert monitors.status_code == 200, monitors.text

    listing = ada.client.get(KEYS.format(project=tenant.id),  # by id as well as by slug
                             headers={"X-Beacon-Min-Position": made.headers["X-Beacon-Position"]})
    assert key["key"] not in listing.text  # shown once: never again
    mine = next(k for k in data_of(listing) if k["id"] == key["id"])
    assert {k: mine[k] for k in ("name", "scopes", "prefix", "created_by", "revoked")} == {
        "name": "ci deploys", "scopes": ["write", "read"], "prefix": key["prefix"],
        "created_by": "user:ada@example.com", "revoked": False}
    assert {"ingest key", "write key", "read key"} <= {k["name"] for k in data_of(listing)}

    public = data_of(create(ada, "acme", "web sdk", ("ingest",)), 201)
    assert public["key"].startswith("pk_live_")


def test_a_revoked_key_is_refused_from_the_next_request_and_listed_as_revoked(
        client: TestClient, tenant: Tenant, ada: SignedInUser) -> None:
    key = data_of(create(ada, "acme"), 201)
    revoked = ada.write("DELETE", f"{KEYS.format(project='acme')}/{key['id']}")
    assert revoked.status_code == 204
    assert client.get("/api/v1/monitors",
                      headers={"Authorization": f"Bearer {key['key']}"}).status_code == 401
    mine = next(k for k in listed(ada, "acme", revoked) if k["id"] == key["id"])
    assert mine["revoked"] and mine["revoked_by"] == "user:ada@example.com"
    assert mine["revoked_at"] is not None
    again = ada.write("DELETE", f"{KEYS.format(project='acme')}/{key['id']}")
    assert again.status_code == 204  # revoking is final, and saying it twice changes nothing


def test_viewers_and_members_manage_no_keys_and_strangers_find_no_project(
        beacon: Beacon, client: TestClient, tenant: Tenant, ada: SignedInUser) -> None:
    for role in ("viewer", "member"):
        user = sign_in(beacon, client.app, f"{role}@example.com")
        join(beacon, user, tenant, role)
        assert user.client.get(KEYS.format(project="acme")).status_code == 403
        assert create(user, "acme").json()["error"]["code"] == "forbidden"
    stranger = sign_in(beacon, client.app, "sam@example.com")
    assert stranger.client.get(KEYS.format(project="acme")).status_code == 404
    assert create(stranger, tenant.id).status_code == 404
    no_csrf = ada.client.post(KEYS.format(project="acme"), json={"name": "x", "scopes": ["read"]})
    assert no_csrf.status_code == 403
    assert client.get(KEYS.format(project="acme"), headers=tenant.headers("read")).status_code == 401
    bad = create(ada, "acme", "x", ("everything",))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"].startswith("scopes")


def test_another_projects_key_is_not_found_even_by_its_admin(
        beacon: Beacon, client: TestClient, tenant: Tenant, ada: SignedInUser) -> None:
    other = make_tenant(client, name="Other", slug="other-status")
    join(beacon, ada, other, "admin")
    theirs = other.key_ids["read"]
    refused = ada.write("DELETE", f"{KEYS.format(project='acme')}/{theirs}")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "api_key_not_found"
    assert ada.write("DELETE", f"{KEYS.format(project='acme')}/not-a-uuid").status_code == 404
    assert client.get("/api/v1/monitors", headers=other.headers("read")).status_code == 200
    made = create(ada, "other")
    assert theirs in {k["id"] for k in listed(ada, "other", made)}
    assert theirs not in {k["id"] for k in listed(ada, "acme", made)}


def test_a_cli_access_token_manages_keys_without_a_csrf_token(client: TestClient,
                                                              tenant: Tenant) -> None:
    bearer = {"Authorization": f"Bearer {access_token(client, tenant, 'owner')}"}
    made = client.post(KEYS.format(project="acme"), headers=bearer,
                       json={"name": "from the cli", "scopes": ["deploy"]})
    key = data_of(made, 201)
    listing = client.get(KEYS.format(project="acme"),
                         headers={**bearer, "X-Beacon-Min-Position": made.headers["X-Beacon-Position"]})
    assert key["id"] in {k["id"] for k in data_of(listing)}
    assert client.delete(f"{KEYS.format(project='acme')}/{key['id']}",
                         headers=bearer).status_code == 204


def test_graphql_lists_api_keys_for_admins_and_refuses_viewers(
        beacon: Beacon, client: TestClient, tenant: Tenant, ada: SignedInUser) -> None:
    made = create(ada, "acme", "graphql")
    key = data_of(made, 201)
    wait = {"X-Beacon-Project": "acme", "X-Beacon-Min-Position": made.headers["X-Beacon-Position"]}
    answer = ada.client.post("/graphql", json={"query": API_KEYS}, headers=wait).json()
    mine = next(k for k in answer["data"]["apiKeys"] if k["id"] == key["id"])
    assert (mine["name"], mine["prefix"], mine["createdBy"], mine["revokedAt"]) == (
        "graphql", key["prefix"], "user:ada@example.com", None)

    viewer = sign_in(beacon, client.app, "vic@example.com")
    join(beacon, viewer, tenant, "viewer")
    refused = viewer.client.post("/graphql", json={"query": API_KEYS},
                                 headers={"X-Beacon-Project": "acme"}).json()
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"
    with_read_key = client.post("/graphql", json={"query": API_KEYS},
                                headers=tenant.headers("read")).json()
    assert with_read_key["errors"][0]["extensions"]["code"] == "forbidden"
    manage = data_of(client.post(f"/admin/v1/workspaces/{tenant.id}/keys", headers=ADMIN,
                                 json={"name": "ops", "scopes": ["read", "manage"]}), 201)
    by_key = client.post("/graphql", json={"query": API_KEYS},
                         headers={"Authorization": f"Bearer {manage['key']}"}).json()
    assert key["id"] in {k["id"] for k in by_key["data"]["apiKeys"]}
