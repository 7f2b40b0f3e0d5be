"""Two API processes on one database: a revocation or a limit change in one holds in the other at
once, though each keeps the keys and workspaces it has seen in its cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.workspaces import WorkspacesApplication
from infrastructure.settings import Settings
from tests.conftest import two_processes_of

ADMIN = {"admin": "test"}


@pytest.fixture
def two_processes(settings: Settings) -> Iterator[tuple[WorkspacesApplication, WorkspacesApplication]]:
    with two_processes_of(WorkspacesApplication, settings) as both:
        yield both


def test_a_key_revoked_by_another_process_is_refused_on_the_next_request(
        two_processes: tuple[WorkspacesApplication, WorkspacesApplication]) -> None:
    serving, admin = two_processes
    workspace = admin.create_workspace(name="Acme", plan="pro", actor=ADMIN)
    key, token = admin.issue_key(workspace.id, name="sdk", scopes=["ingest"], actor=ADMIN)
    assert serving.authenticate(token) is not None  # now in the serving process's cache
    admin.revoke_key(workspace.id, key.id, actor=ADMIN)
    assert serving.authenticate(token) is None


def test_a_limit_or_plan_change_in_another_process_holds_on_the_next_request(
        two_processes: tuple[WorkspacesApplication, WorkspacesApplication]) -> None:
    serving, admin = two_processes
    workspace = admin.create_workspace(name="Acme", plan="pro", actor=ADMIN)
    _, token = admin.issue_key(workspace.id, name="sdk", scopes=["ingest"], actor=ADMIN)
    before = serving.authenticate(token)
    assert before is not None and before.workspace.monthly_event_limit == 10_000_000
    admin.reconfigure_workspace(workspace.id, actor=ADMIN, monthly_event_limit=5)
    after = serving.authenticate(token)
    assert after is not None and after.workspace.monthly_event_limit == 5
    admin.reconfigure_workspace(workspace.id, actor=ADMIN, plan="free")
    after = serving.authenticate(token)
    assert after is not None and after.workspace.plan == "free"
    assert (after.workspace.monthly_event_limit, after.workspace.rate_limit_per_minute) == (10_000, 60)


def test_a_wrong_secret_behind_a_known_lookup_is_refused(
        two_processes: tuple[WorkspacesApplication, WorkspacesApplication]) -> None:
    serving, admin = two_processes
    workspace = admin.create_workspace(name="Acme", plan="pro", actor=ADMIN)
    _, token = admin.issue_key(workspace.id, name="sdk", scopes=["ingest"], actor=ADMIN)
    assert serving.authenticate(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")) is None
