"""Deleting a project, on SQLite and PostgreSQL, through the app with real sessions and keys: who
may, what stops at once, what is purged and what is kept, a purge finished at start-up, a rebuild
that brings nothing back, and a slug that is never given again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.actor import ADMIN as ADMIN_ACTOR
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.jobs import DELETION_RETRY_SECONDS, periodic_jobs
from tests.conftest import ADMIN, FakeClock, Tenant, data_of, make_tenant, settle
from tests.e2e.busy_project import beacon_allowing_webhooks, fill, rows_naming
from tests.e2e.people_fixtures import SignedInUser, sign_in
from tests.e2e.test_deploy_cli import beacon_cli

# Every table that a busy project writes rows to (busy_project.fill): all must be empty of it after.
WRITTEN = {"rm_events", "rm_sessions", "rm_session_activity", "rm_exceptions", "rm_enrichment",
           "rm_pages", "rm_components", "rm_component_status_changes", "rm_incidents",
           "rm_incident_updates", "rm_incident_components", "rm_maintenances",
           "rm_maintenance_targets", "rm_maintenance_updates", "rm_subscribers",
           "rm_subscriber_components", "rm_webhook_deliveries", "rm_webhook_incident_pages",
           "rm_monitors", "rm_monitor_settings", "rm_monitor_beats", "rm_monitor_runs",
           "rm_monitor_flips", "rm_alerts", "rm_alert_deliveries", "rm_saved_insights",
           "rm_plan_violations", "rm_api_keys", "webhook_delivery_state",
           "alert_delivery_state"}


@pytest.fixture
def beacon(settings: Settings) -> Iterator[Beacon]:
    with beacon_allowing_webhooks(settings) as beacon:
        yield beacon


def member(beacon: Beacon, client: TestClient, tenant: Tenant, email: str,
           role: str) -> SignedInUser:
    """A user with `role` in the tenant's project, signed in on a client of their own."""
    signed_in = sign_in(beacon, client.app, email)
    user = beacon.workspaces.find_user(email)
    assert user is not None
    beacon.workspaces.add_member(UUID(tenant.id), user, role, ADMIN_ACTOR)
    return signed_in


@pytest.fixture
def owner(beacon: Beacon, client: TestClient, tenant: Tenant) -> Iterator[SignedInUser]:
    signed_in = member(beacon, client, tenant, "olga@example.com", "owner")
    yield signed_in
    signed_in.client.close()


def delete(user: SignedInUser, project: str, confirm: str | None = "acme") -> Any:
    body = None if confirm is None else {"confirm": confirm}
    return user.write("DELETE", f"/api/projects/{project}", json=body)


def test_only_an_owner_who_types_the_slug_deletes_a_project(
        beacon: Beacon, client: TestClient, tenant: Tenant, owner: SignedInUser) -> None:
    stranger = sign_in(beacon, client.app, "sam@example.com")
    admin = member(beacon, client, tenant, "ada@example.com", "admin")
    writer = member(beacon, client, tenant, "max@example.com", "member")
    assert delete(stranger, "acme").status_code == 404
    assert delete(admin, "acme").json()["error"]["code"] == "forbidden"
    assert delete(writer, "acme").status_code == 403
    assert owner.client.request("DELETE", "/api/projects/acme",
                                json={"confirm": "acme"}).status_code == 403  # no CSRF token
    for confirm in (None, "acme-cloud", "ACME"):
        refused = delete(owner, "acme", confirm)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "confirmation_required"
        assert "'acme'" in refused.json()["error"]["message"]
    assert client.get("/api/v1/pages/acme-cloud/incidents",
                      headers=tenant.headers("read")).status_code == 200  # nothing happened yet

    assert delete(owner, tenant.id).status_code == 204  # by id, with the slug typed
    assert delete(owner, "acme").status_code == 404
    workspace = beacon.workspaces.repository.get(UUID(tenant.id))
    assert workspace.deleted_by == {"key_id": None, "name": "user:olga@example.com"}
    assert workspace.deleted_at is not None and workspace.purged_at is not None


def test_a_deleted_projects_keys_members_and_pages_stop_at_once(
        client: TestClient, tenant: Tenant, owner: SignedInUser) -> None:
    assert client.get("/status/acme-cloud").status_code == 200
    assert data_of(owner.client.get("/api/auth/me"))["projects"][0]["slug"] == "acme"

    assert delete(owner, "acme").status_code == 204

    event = [{"event_id": "e-1", "category": "shop", "name": "signup", "actor_id": "ann",
              "timestamp": "2026-04-04T12:00:00Z"}]
    assert client.post("/v1/events", json=event, headers=tenant.headers("ingest")).status_code == 401
    assert client.get("/api/v1/pages/acme-cloud/incidents",
                      headers=tenant.headers("read")).status_code == 401
    assert client.post("/graphql", json={"query": "{ pages { slug } }"},
                       headers=tenant.headers("read")).status_code == 401
    assert data_of(owner.client.get("/api/auth/me"))["projects"] == []
    assert data_of(owner.client.get("/api/projects")) == []
    assert owner.client.get("/api/v1/workspaces/acme/members").status_code == 404
    assert owner.client.get("/api/v1/monitors",
                            headers={"X-Beacon-Project": "acme"}).status_code == 404
    assert owner.client.post("/graphql", json={"query": "{ pages { slug } }"},
                             headers={"X-Beacon-Project": tenant.id}).status_code == 404
    for path in ("/status/acme-cloud", "/status/acme-cloud.json", "/status/acme-cloud/feed.atom"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/admin/v1/workspaces/{tenant.id}", headers=ADMIN).status_code == 404
    assert client.post(f"/admin/v1/workspaces/{tenant.id}/keys", headers=ADMIN,
                       json={"name": "again", "scopes": ["read"]}).status_code == 404


def test_deleting_purges_every_read_model_row_and_keeps_the_history(
        beacon: Beacon, client: TestClient, tenant: Tenant, owner: SignedInUser) -> None:
    other = make_tenant(client, name="Other", slug="other-status")
    traces, others = fill(client, beacon, tenant), fill(client, beacon, other)
    before = rows_naming(beacon, traces)
    assert set(before) >= WRITTEN, sorted(WRITTEN - set(before))
    others_before = rows_naming(beacon, others)

    assert delete(owner, "acme").status_code == 204
    settle(beacon)

    assert rows_naming(beacon, traces) == {}
    assert rows_naming(beacon, others) == others_before
    history = [type(e).__name__ for e in
               beacon.workspaces.repository.event_store.get(UUID(tenant.id))]
    assert history[0] == "Created" and history[-2:] == ["Deleted", "Purged"]
    purged = list(beacon.workspaces.repository.event_store.get(UUID(tenant.id)))[-1]
    assert purged.rows["rm_events"] == before["rm_events"]
    incident = next(i for i in traces.ids if i in {str(n.originator_id) for n in
                    beacon.statuspages.recorder.select_notifications(start=1, limit=10_000)
                    if n.topic.endswith("Incident.Opened")})
    assert beacon.statuspages.repository.get(UUID(incident)).title == "Errors"  # the log stays


def test_a_purge_a_crash_interrupted_is_finished_at_the_next_start_up(
        beacon: Beacon, client: TestClient, tenant: Tenant, settings: Settings) -> None:
    traces = fill(client, beacon, tenant)
    beacon.workspaces.delete_workspace(UUID(tenant.id), actor=ADMIN_ACTOR, confirmed=True)
    assert client.get("/api/v1/pages/acme-cloud/incidents",
                      headers=tenant.headers("read")).status_code == 401  # the event holds
    assert rows_naming(beacon, traces)  # the process died before purging

    with closing(bootstrap(settings)) as restarted:
        assert restarted.deletions.finish_deletions() == 1  # what `beacon serve` does first
        assert restarted.deletions.finish_deletions() == 0
    settle(beacon)
    assert rows_naming(beacon, traces) == {}


def test_a_purge_that_failed_is_finished_by_the_worker_without_a_restart(
        beacon: Beacon, client: TestClient, tenant: Tenant, owner: SignedInUser,
        monkeypatch: pytest.MonkeyPatch) -> None:
    traces = fill(client, beacon, tenant)
    purge = beacon.deletions.read_models.purge

    def failing(workspace_id: UUID) -> dict[str, int]:
        raise RuntimeError("the database went away mid-purge")

    monkeypatch.setattr(beacon.deletions.read_models, "purge", failing)
    assert delete(owner, "acme").status_code == 204  # the deletion holds
    assert client.get("/api/v1/pages/acme-cloud/incidents",
                      headers=tenant.headers("read")).status_code == 401
    assert rows_naming(beacon, traces)  # the purge failed: the rows are still there
    monkeypatch.setattr(beacon.deletions.read_models, "purge", purge)

    scheduled = {job.name: job.every_seconds for job in periodic_jobs(beacon.actors)}
    assert scheduled["finish_deletions"] == DELETION_RETRY_SECONDS
    assert beacon.jobs.finish_deletions() == 1  # what the worker's periodic job runs
    assert beacon.jobs.finish_deletions() == 0
    settle(beacon)
    assert rows_naming(beacon, traces) == {}


def test_a_rebuild_brings_no_deleted_project_back(
        beacon: Beacon, client: TestClient, tenant: Tenant, owner: SignedInUser) -> None:
    traces = fill(client, beacon, tenant)
    assert delete(owner, "acme").status_code == 204
    for runner in beacon.runners:
        if runner.rebuildable:
            beacon.rebuild(runner.name)
    settle(beacon)
    assert rows_naming(beacon, traces) == {}


def test_a_deleted_projects_slug_is_never_given_to_another(client: TestClient,
                                                           owner: SignedInUser) -> None:
    owner.create_project("Shop", slug="shop")
    assert delete(owner, "shop", "shop").status_code == 204
    again = owner.write("POST", "/api/projects", json={"name": "Shop", "slug": "shop"})
    assert again.status_code == 409, again.text
    assert owner.create_project("Shop")["slug"] == "shop-2"
    assert client.post("/admin/v1/workspaces", headers=ADMIN,
                       json={"name": "Shop", "slug": "shop"}).status_code == 409


def test_the_admin_deletes_a_workspace_without_typing_its_slug(
        client: TestClient, tenant: Tenant, owner: SignedInUser) -> None:
    assert client.delete("/admin/v1/workspaces/acme").status_code == 401
    assert client.delete("/admin/v1/workspaces/acme", headers=ADMIN).status_code == 204
    assert client.delete(f"/admin/v1/workspaces/{tenant.id}", headers=ADMIN).status_code == 404
    assert data_of(owner.client.get("/api/projects")) == []
    assert client.get("/api/v1/monitors", headers=tenant.headers("read")).status_code == 401


def test_a_deleted_projects_monitors_record_nothing_and_never_go_down(
        clocked_beacon: Beacon, clocked_client: TestClient, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    monitor = data_of(clocked_client.post("/api/v1/monitors", headers=tenant_on_clock.headers(
        "write"), json={"name": "backup", "period_seconds": 60, "grace_seconds": 30,
                        "page_slug": tenant_on_clock.page_slug}), 201)
    assert clocked_client.get(f"/api/v1/beet/{monitor['token']}").status_code == 200
    settle(clocked_beacon)
    assert clocked_client.delete(f"/admin/v1/workspaces/{tenant_on_clock.id}",
                                 headers=ADMIN).status_code == 204
    recorded = clocked_beacon.monitoring.repository.get(UUID(monitor["id"]))

    assert clocked_client.get(f"/api/v1/beet/{monitor['token']}").status_code == 200  # a GIF…
    clock.advance(minutes=30)
    assert clocked_beacon.jobs.check_monitors() == 0
    settle(clocked_beacon)
    assert clocked_beacon.jobs.check_monitors() == 0
    now = clocked_beacon.monitoring.repository.get(UUID(monitor["id"]))
    assert (now.version, now.status) == (recorded.version, "up")  # …that recorded nothing
    incidents = clocked_beacon.statuspages.recorder.select_notifications(start=1, limit=10_000)
    assert not [n for n in incidents if n.topic.endswith("Incident.Opened")]


def test_beacon_projects_delete_asks_for_the_slug(server: str, beacon: Beacon,
                                                  tmp_path: Path) -> None:
    user = beacon.workspaces.create_user(email="dev@example.com", password="correct horse battery")
    beacon.workspaces.create_project(name="Shop", slug="shop", owner=user)
    beacon.workspaces.create_project(name="Blog", slug="blog", owner=user)
    _, code = beacon.workspaces.issue_cli_code(user.id)
    assert beacon_cli("login", "--url", server, home=tmp_path, stdin=code + "\n").returncode == 0

    typo = beacon_cli("projects", "delete", "shop", home=tmp_path, stdin="sho\n")
    assert typo.returncode == 1 and "not deleted" in typo.stderr
    asked = beacon_cli("projects", "delete", "shop", home=tmp_path, stdin="shop\n")
    assert asked.returncode == 0, asked.stderr
    assert "Type the project's slug" in asked.stdout
    given = beacon_cli("projects", "delete", "blog", "--confirm", "blog", home=tmp_path)
    assert given.returncode == 0, given.stderr
    assert beacon_cli("projects", "list", home=tmp_path).stdout == ""
    gone = beacon_cli("projects", "delete", "shop", "--confirm", "shop", home=tmp_path)
    assert gone.returncode == 1 and "404" in gone.stderr
