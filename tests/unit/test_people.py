"""People and projects in the Workspaces application: users, sessions, CLI codes, invitations,
rosters and slugs, on the in-memory event store with a clock the test moves."""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher

from application.passwords import Passwords
from application.people import PeopleCommands
from application.workspaces import WorkspacesApplication
from domain.actor import ADMIN
from domain.credential import AlreadyUsedError, ExpiredError
from domain.errors import AlreadyExistsError, ValidationError
from domain.membership import LastOwnerError
from domain.workspace import Workspace
from tests.conftest import FakeClock

PASSWORD = "correct horse battery"


@pytest.fixture
def people(clock: FakeClock) -> WorkspacesApplication:
    return WorkspacesApplication(clock=clock)


def test_emails_are_one_account_whatever_their_case(people: WorkspacesApplication) -> None:
    people.create_user(email="Ann@Example.com", password=PASSWORD)
    with pytest.raises(AlreadyExistsError):
        people.create_user(email="ann@example.COM", password=PASSWORD)
    assert people.check_login("ANN@example.com", PASSWORD) is not None


def test_short_passwords_are_refused(people: WorkspacesApplication) -> None:
    with pytest.raises(ValidationError):
        people.create_user(email="ann@example.com", password="short")


class CountingHasher(PasswordHasher):
    """A real Argon2 hasher that counts its verifications."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        CountingHasher.verified += 1
        return super().verify(hash, password)


def test_an_unknown_email_costs_one_argon2_verification_like_a_wrong_password(
        people: WorkspacesApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    people.create_user(email="ann@example.com", password=PASSWORD)
    monkeypatch.setattr(PeopleCommands, "passwords", Passwords(CountingHasher()))

    assert people.check_login("ann@example.com", "wrong password!") is None
    assert CountingHasher.verified == 1
    assert people.check_login("nobody@example.com", "wrong password!") is None
    assert CountingHasher.verified == 2


def test_sessions_end_after_14_idle_days(people: WorkspacesApplication, clock: FakeClock) -> None:
    user = people.create_user(email="ann@example.com", password=PASSWORD)
    _, token = people.start_session(user.id)
    clock.advance(days=13)
    assert people.session_for(token) is not None
    clock.advance(days=13)
    assert people.session_for(token) is not None  # used 13 days ago: still alive
    clock.advance(days=14, seconds=1)
    assert people.session_for(token) is None


def test_sessions_end_30_days_after_sign_in_however_busy(people: WorkspacesApplication,
                                                         clock: FakeClock) -> None:
    user = people.create_user(email="ann@example.com", password=PASSWORD)
    _, token = people.start_session(user.id)
    for _ in range(3):
        clock.advance(days=10)
        assert people.session_for(token) is not None
    clock.advance(seconds=1)
    assert people.session_for(token) is None


def test_changing_the_password_ends_the_other_sessions(people: WorkspacesApplication) -> None:
    user = people.create_user(email="ann@example.com", password=PASSWORD)
    kept, kept_token = people.start_session(user.id)
    _, other_token = people.start_session(user.id)

    people.change_password(user.id, current=PASSWORD, new="a new long password",
                           keep_session=kept.id)

    assert people.session_for(kept_token) is not None
    assert people.session_for(other_token) is None
    assert people.check_login("ann@example.com", "a new long password") is not None
    assert people.check_login("ann@example.com", PASSWORD) is None


def test_a_cli_code_is_exchanged_once(people: WorkspacesApplication) -> None:
    user = people.create_user(email="ann@example.com", password=PASSWORD)
    _, code = people.issue_cli_code(user.id)
    access, token = people.exchange_cli_code(code)

    assert people.access_token_for(token) is not None
    with pytest.raises(AlreadyUsedError):
        people.exchange_cli_code(code)
    people.revoke_access_token(user.id, access.id)
    assert people.access_token_for(token) is None


def test_a_cli_code_expires_after_10_minutes(people: WorkspacesApplication,
                                             clock: FakeClock) -> None:
    user = people.create_user(email="ann@example.com", password=PASSWORD)
    _, code = people.issue_cli_code(user.id)
    clock.advance(minutes=10)
    with pytest.raises(ExpiredError):
        people.exchange_cli_code(code)


def test_an_invitation_is_single_use(people: WorkspacesApplication) -> None:
    owner = people.create_user(email="ann@example.com", password=PASSWORD)
    workspace, _ = people.create_project(name="Acme", slug=None, owner=owner)
    _, token = people.invite(workspace.id, email="bob@example.com", role="viewer", actor=ADMIN)
    bob = people.create_user(email="bob@example.com", password=PASSWORD)

    people.accept_invitation(token, bob)

    assert people.role_in(workspace.id, bob.id) == "viewer"
    assert people.get_user(bob.id).workspace_ids == [workspace.id]
    with pytest.raises(AlreadyUsedError):
        people.accept_invitation(token, bob)


def test_an_invitation_expires_after_7_days(people: WorkspacesApplication,
                                            clock: FakeClock) -> None:
    owner = people.create_user(email="ann@example.com", password=PASSWORD)
    workspace, _ = people.create_project(name="Acme", slug=None, owner=owner)
    _, token = people.invite(workspace.id, email="bob@example.com", role="member", actor=ADMIN)
    bob = people.create_user(email="bob@example.com", password=PASSWORD)
    clock.advance(days=7)

    with pytest.raises(ExpiredError):
        people.accept_invitation(token, bob)
    assert people.role_in(workspace.id, bob.id) is None


def test_a_project_keeps_its_last_owner(people: WorkspacesApplication) -> None:
    owner = people.create_user(email="ann@example.com", password=PASSWORD)
    workspace, _ = people.create_project(name="Acme", slug=None, owner=owner)
    with pytest.raises(LastOwnerError):
        people.remove_member(workspace.id, owner.id, ADMIN)
    with pytest.raises(LastOwnerError):
        people.change_role(workspace.id, owner.id, "admin", ADMIN)


def test_membership_changes_are_history(people: WorkspacesApplication) -> None:
    owner = people.create_user(email="ann@example.com", password=PASSWORD)
    bob = people.create_user(email="bob@example.com", password=PASSWORD)
    workspace, _ = people.create_project(name="Acme", slug=None, owner=owner)
    people.add_member(workspace.id, bob, "viewer", ADMIN)
    people.change_role(workspace.id, bob.id, "admin", ADMIN)
    people.remove_member(workspace.id, bob.id, ADMIN)

    kinds = [type(e).__name__ for e in people.member_history(workspace.id)]
    assert kinds == ["Opened", "MemberAdded", "MemberAdded", "RoleChanged", "MemberRemoved"]
    assert people.get_user(bob.id).workspace_ids == []


def test_a_project_gets_a_public_ingest_key_and_a_secret_key(people: WorkspacesApplication) -> None:
    owner = people.create_user(email="ann@example.com", password=PASSWORD)
    workspace, keys = people.create_project(name="Acme Cloud", slug=None, owner=owner)

    public, secret = keys["public"][1], keys["secret"][1]
    assert public.startswith("pk_live_") and secret.startswith("sk_live_")
    public_key = people.authenticate(public)
    secret_key = people.authenticate(secret)
    assert public_key is not None and secret_key is not None
    assert public_key.key.scopes == ["ingest"]
    assert secret_key.key.allows("deploy") and not secret_key.key.allows("ingest")
    assert people.role_in(workspace.id, owner.id) == "owner"


def test_slugs_are_derived_unique_and_resolve_like_ids(people: WorkspacesApplication) -> None:
    first = people.create_workspace(name="Acmé Cloud!", plan="free", actor=ADMIN)
    second = people.create_workspace(name="acme cloud", plan="free", actor=ADMIN)

    assert (first.slug, second.slug) == ("acme-cloud", "acme-cloud-2")
    assert people.resolve_workspace("acme-cloud-2") == second.id
    assert people.resolve_workspace(str(first.id)) == first.id
    with pytest.raises(AlreadyExistsError):
        people.create_workspace(name="Other", plan="free", actor=ADMIN, slug="acme-cloud")


def test_workspaces_made_before_slugs_get_one_from_their_name(
        people: WorkspacesApplication) -> None:
    old = Workspace.create(workspace_id=uuid.uuid4(), name="Old Shop", plan="free", actor=ADMIN)
    people.save(old)
    people.create_workspace(name="Old Shop", plan="free", actor=ADMIN)

    assert people.assign_missing_slugs() == 1
    assert people.get_workspace(old.id).slug == "old-shop-2"
    assert people.resolve_workspace("old-shop-2") == old.id
    assert people.assign_missing_slugs() == 0
