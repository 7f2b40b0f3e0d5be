"""People and projects over HTTP on SQLite and PostgreSQL: sessions, CSRF, projects and their
keys, invitations, members and their history, CLI codes, and slugs in /api/query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from domain.actor import ADMIN as ADMIN_ACTOR
from interfaces.bootstrap import Beacon
from interfaces.rest.app import create_app
from interfaces.rest.deps import SecretKey
from tests.conftest import ADMIN, FakeClock, settle
from tests.e2e.people_fixtures import PASSWORD, SignedInUser, sign_in


@pytest.fixture
def app(beacon: Beacon) -> FastAPI:
    return create_app(beacon)


@pytest.fixture
def ann(beacon: Beacon, app: FastAPI) -> Iterator[SignedInUser]:
    user = sign_in(beacon, app, "ann@example.com")
    yield user
    user.client.close()


def test_me_shows_the_user_and_their_projects_with_roles(ann: SignedInUser) -> None:
    project = ann.create_project("Acme Cloud")
    me = ann.client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["data"]["user"]["email"] == "ann@example.com"
    assert me.json()["data"]["projects"] == [{"id": project["id"], "slug": "acme-cloud",
                                             "name": "Acme Cloud", "plan": "free",
                                             "role": "owner"}]


def test_cookie_writes_need_the_csrf_token_and_keys_do_not(ann: SignedInUser,
                                                           client: TestClient) -> None:
    refused = ann.client.post("/api/projects", json={"name": "No CSRF"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    wrong = ann.client.post("/api/projects", json={"name": "x"}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    project = ann.create_project("With CSRF")
    secret = project["keys"]["secret"]["key"]
    monitor = client.post("/api/v1/monitors", json={"name": "nightly backup"},
                          headers={"Authorization": f"Bearer {secret}"})
    assert monitor.status_code == 201, monitor.text


def test_a_project_comes_with_a_public_ingest_key_and_a_secret_key(ann: SignedInUser,
                                                                   client: TestClient) -> None:
    project = ann.create_project("Shop", slug="my-shop")
    public, secret = project["keys"]["public"]["key"], project["keys"]["secret"]["key"]
    assert public.startswith("pk_live_") and secret.startswith("sk_live_")
    assert project["slug"] == "my-shop"
    reads = client.post("/api/v1/monitors", json={"name": "backup"},
                        headers={"Authorization": f"Bearer {public}"})
    assert reads.status_code == 403  # ingest only
    assert ann.client.post("/api/projects", json={"name": "Again", "slug": "my-shop"},
                           headers={"X-CSRF-Token": ann.csrf}).status_code == 409


def test_logout_ends_the_session(ann: SignedInUser) -> None:
    cookie = ann.client.cookies.get("beacon_session")
    assert ann.write("POST", "/api/auth/logout").status_code == 204
    replay = ann.client.get("/api/auth/me", headers={"Cookie": f"beacon_session={cookie}"})
    assert replay.status_code == 401


def test_sessions_are_listed_and_revoked(beacon: Beacon, app: FastAPI, ann: SignedInUser) -> None:
    laptop = sign_in(beacon, app, "ann@example.com", create=False)
    sessions = ann.client.get("/api/auth/sessions").json()["data"]
    assert len(sessions) == 2
    other = next(s for s in sessions if not s["current"])
    assert ann.write("DELETE", f"/api/auth/sessions/{other['id']}").status_code == 204
    assert laptop.client.get("/api/auth/me").status_code == 401
    assert ann.client.get("/api/auth/me").status_code == 200


def test_a_password_change_signs_the_other_sessions_out(beacon: Beacon, app: FastAPI,
                                                         ann: SignedInUser) -> None:
    laptop = sign_in(beacon, app, "ann@example.com", create=False)
    changed = ann.write("POST", "/api/auth/password", json={
        "current_password": PASSWORD, "new_password": "another long password"})
    assert changed.status_code == 204
    assert laptop.client.get("/api/auth/me").status_code == 401
    assert ann.client.get("/api/auth/me").status_code == 200


def test_cli_codes_exchange_once_for_a_bearer_access_token(ann: SignedInUser,
                                                           client: TestClient) -> None:
    code = ann.write("POST", "/api/cli/tokens")
    assert code.status_code == 201
    token = code.json()["data"]["token"]
    exchanged = client.post("/api/cli/validate", json={"token": token})
    assert exchanged.status_code == 200
    access = exchanged.json()["data"]["access_token"]
    assert client.post("/api/cli/validate", json={"token": token}).status_code == 400
    bearer = {"Authorization": f"Bearer {access}"}
    created = client.post("/api/projects", json={"name": "From CLI"}, headers=bearer)
    assert created.status_code == 201  # a bearer token needs no CSRF token
    listed = ann.client.get("/api/cli/access-tokens").json()["data"]
    assert listed[0]["last_used_at"] is not None and not listed[0]["revoked"]
    assert ann.write("DELETE", f"/api/cli/access-tokens/{listed[0]['id']}").status_code == 204
    assert client.get("/api/projects", headers=bearer).status_code == 401


def test_invitations_bring_a_new_user_in_once(ann: SignedInUser, client: TestClient) -> None:
    project = ann.create_project("Acme")
    invited = ann.write("POST", f"/api/v1/workspaces/{project['slug']}/invitations",
                        json={"email": "bob@example.com", "role": "viewer"})
    assert invited.status_code == 201, invited.text
    token = invited.json()["data"]["token"]
    accepted = client.post("/api/invitations/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"]["project"]["role"] == "viewer"
    again = client.post("/api/invitations/accept", json={"token": token, "password": PASSWORD})
    assert again.status_code == 400
    login = client.post("/api/auth/login", json={"email": "bob@example.com", "password": PASSWORD})
    assert login.status_code == 200


def test_an_existing_user_accepting_an_invitation_becomes_a_member(
        beacon: Beacon, app: FastAPI, ann: SignedInUser) -> None:
    bob = sign_in(beacon, app, "bob@example.com")
    project = ann.create_project("Acme")
    token = ann.write("POST", f"/api/v1/workspaces/{project['id']}/invitations",
                      json={"email": "bob@example.com", "role": "member"}).json()["data"]["token"]
    wrong = bob.client.post("/api/invitations/accept", json={"token": token, "password": "nope"})
    assert wrong.status_code == 401
    assert bob.client.post("/api/invitations/accept",
                           json={"token": token, "password": PASSWORD}).status_code == 200
    projects = bob.client.get("/api/auth/me").json()["data"]["projects"]
    assert [(p["slug"], p["role"]) for p in projects] == [("acme", "member")]


def test_roles_limit_what_members_may_do(beacon: Beacon, app: FastAPI, ann: SignedInUser) -> None:
    bob = sign_in(beacon, app, "bob@example.com")
    project = ann.create_project("Acme")
    bob_user = beacon.workspaces.find_user("bob@example.com")
    assert bob_user is not None
    bob_id = str(bob_user.id)
    beacon.workspaces.add_member(UUID(project["id"]), bob_user, "viewer", ADMIN_ACTOR)
    members = f"/api/v1/workspaces/{project['slug']}/members"
    assert bob.client.get(members).status_code == 200
    refused = bob.write("POST", f"/api/v1/workspaces/{project['slug']}/invitations",
                        json={"email": "eve@example.com", "role": "viewer"})
    assert refused.status_code == 403
    promoted = ann.write("PATCH", f"{members}/{bob_id}", json={"role": "admin"})
    assert promoted.status_code == 200
    assert bob.write("PATCH", f"{members}/{bob_id}", json={"role": "owner"}).status_code == 403
    assert bob.write("PATCH", "/api/projects/acme", json={"plan": "pro"}).status_code == 403
    plan = ann.write("PATCH", "/api/projects/acme", json={"plan": "pro"})
    assert plan.status_code == 200 and plan.json()["data"]["rate_limit_per_minute"] == 1_000
    history = ann.client.get(f"{members}/history").json()["data"]
    assert [h["event"] for h in history] == ["MemberAdded", "MemberAdded", "RoleChanged"]
    assert history[-1]["before"] == "viewer" and history[-1]["after"] == "admin"
    assert history[-1]["actor"]["name"] == "user:ann@example.com"


def test_another_projects_id_or_slug_is_404_on_every_endpoint(
        beacon: Beacon, app: FastAPI, ann: SignedInUser) -> None:
    mallory = sign_in(beacon, app, "mallory@example.com")
    mallory.create_project("Mine")
    theirs = ann.create_project("Acme")
    bob = beacon.workspaces.create_user(email="bob@example.com", password=PASSWORD)
    beacon.workspaces.add_member(UUID(theirs["id"]), bob, "member", ADMIN_ACTOR)
    for ref in (theirs["id"], theirs["slug"]):
        base = f"/api/v1/workspaces/{ref}"
        answers = [
            mallory.client.get(f"{base}/members"),
            mallory.client.get(f"{base}/members/history"),
            mallory.write("POST", f"{base}/invitations", json={"email": "x@example.com"}),
            mallory.write("PATCH", f"{base}/members/{bob.id}", json={"role": "viewer"}),
            mallory.write("DELETE", f"{base}/members/{bob.id}"),
            mallory.write("PATCH", f"/api/projects/{ref}", json={"plan": "pro"}),
            mallory.client.post("/api/query", json=metric_question(ref)),
        ]
        assert [a.status_code for a in answers] == [404] * len(answers), [a.text for a in answers]
    ann_session = ann.client.get("/api/auth/sessions").json()["data"][0]["id"]
    ann.write("POST", "/api/cli/tokens")
    assert mallory.write("DELETE", f"/api/auth/sessions/{ann_session}").status_code == 404
    assert ann.client.get("/api/auth/me").status_code == 200


def metric_question(project: str) -> dict[str, Any]:
    return {"type": "metric", "projectId": project, "event": "signup",
            "dateRange": {"start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"}}


def test_query_answers_alike_for_a_slug_and_an_id_by_key_or_session(
        beacon: Beacon, ann: SignedInUser, client: TestClient) -> None:
    project = ann.create_project("Acme Cloud")
    ingest = {"Authorization": f"Bearer {project['keys']['public']['key']}"}
    events = [{"event_id": f"00000000-0000-4000-8000-00000000000{i}", "category": "product",
               "name": "signup", "timestamp": "2026-03-02T10:00:00Z", "actor_id": f"u{i}",
               "properties": {}} for i in range(3)]
    assert client.post("/v1/events", json=events, headers=ingest).status_code == 200
    settle(beacon)
    secret = {"Authorization": f"Bearer {project['keys']['secret']['key']}"}
    answers = [
        client.post("/api/query", json=metric_question(project["id"]), headers=secret),
        client.post("/api/query", json=metric_question("acme-cloud"), headers=secret),
        ann.client.post("/api/query", json=metric_question(project["id"])),
        ann.client.post("/api/query", json=metric_question("acme-cloud")),
    ]
    assert [(a.status_code, a.json()["data"]) for a in answers] == [(200, 3)] * 4
    anonymous = TestClient(ann.client.app, base_url="https://testserver")
    assert anonymous.post("/api/query", json=metric_question("acme-cloud")).status_code == 401


def test_admin_routes_take_a_slug_like_an_id(client: TestClient) -> None:
    created = client.post("/admin/v1/workspaces", json={"name": "Slug Me"}, headers=ADMIN)
    data = created.json()["data"]
    assert data["slug"] == "slug-me"
    assert client.get("/admin/v1/workspaces/slug-me", headers=ADMIN).json()["data"] == data


@pytest.fixture
def clocked_people(clocked_beacon: Beacon) -> Iterator[tuple[Beacon, FastAPI]]:
    yield clocked_beacon, create_app(clocked_beacon)


def test_an_invitation_link_expires_after_7_days(clocked_people: tuple[Beacon, FastAPI],
                                                 clock: FakeClock) -> None:
    beacon, app = clocked_people
    ann = sign_in(beacon, app, "ann@example.com")
    project = ann.create_project("Acme")
    token = ann.write("POST", f"/api/v1/workspaces/{project['slug']}/invitations",
                      json={"email": "bob@example.com"}).json()["data"]["token"]
    clock.advance(days=7, seconds=1)
    late = ann.client.post("/api/invitations/accept", json={"token": token, "password": PASSWORD})
    assert late.status_code == 410


def test_an_old_cli_code_is_410(clocked_people: tuple[Beacon, FastAPI], clock: FakeClock) -> None:
    beacon, app = clocked_people
    ann = sign_in(beacon, app, "ann@example.com")
    token = ann.write("POST", "/api/cli/tokens").json()["data"]["token"]
    clock.advance(minutes=11)
    assert ann.client.post("/api/cli/validate", json={"token": token}).status_code == 410


def test_a_members_session_calls_key_endpoints_as_its_role_allows(
        beacon: Beacon, app: FastAPI, ann: SignedInUser) -> None:
    project = ann.create_project("Acme")
    viewer = sign_in(beacon, app, "vic@example.com")
    vic = beacon.workspaces.find_user("vic@example.com")
    assert vic is not None
    beacon.workspaces.add_member(UUID(project["id"]), vic, "viewer", ADMIN_ACTOR)
    stranger = sign_in(beacon, app, "eve@example.com")
    monitor = {"name": "nightly backup"}
    by_slug = {"X-Beacon-Project": "acme"}

    created = ann.write("POST", "/api/v1/monitors", json=monitor, headers=by_slug)
    assert created.status_code == 201, created.text
    monitor_url = f"/api/v1/monitors/{created.json()['data']['id']}"
    assert viewer.client.get(monitor_url, headers=by_slug).status_code == 200
    assert viewer.write("POST", "/api/v1/monitors", json=monitor,
                        headers=by_slug).status_code == 403
    assert stranger.client.get(monitor_url, headers=by_slug).status_code == 404
    assert stranger.client.get(monitor_url, headers={
        "X-Beacon-Project": project["id"]}).status_code == 404
    assert ann.client.post("/api/v1/monitors", json=monitor,
                           headers=by_slug).status_code == 403  # no CSRF token
    assert ann.client.get(monitor_url).status_code == 400  # which project?


def test_a_members_session_reads_graphql_for_the_project_it_names(
        beacon: Beacon, app: FastAPI, ann: SignedInUser) -> None:
    project = ann.create_project("Acme")
    stranger = sign_in(beacon, app, "eve@example.com")
    usage = {"query": "{ usage { used } }"}
    mine = ann.client.post("/graphql", json=usage, headers={"X-Beacon-Project": "acme"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["data"]["usage"]["used"] == 0
    theirs = stranger.client.post("/graphql", json=usage,
                                  headers={"X-Beacon-Project": project["id"]})
    assert theirs.status_code == 404


def test_the_secret_key_dependency_takes_keys_with_the_deploy_scope_never_a_session(
        app: FastAPI, ann: SignedInUser) -> None:
    @app.post("/probe/secret")
    def probe(key: SecretKey) -> dict[str, str]:
        return {"workspace": str(key.workspace_id)}

    project = ann.create_project("Acme")
    keys = project["keys"]
    with_key = ann.client.post("/probe/secret", headers={
        "Authorization": f"Bearer {keys['secret']['key']}"})
    assert with_key.status_code == 200 and with_key.json()["workspace"] == project["id"]
    assert ann.client.post("/probe/secret", headers={
        "Authorization": f"Bearer {keys['public']['key']}"}).status_code == 403
    assert ann.write("POST", "/probe/secret", headers={
        "X-Beacon-Project": "acme"}).status_code == 401  # an owner's session is not a key
