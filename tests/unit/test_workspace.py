"""Workspaces and API keys: plans, limits, allowlists, hashing and revocation."""

from __future__ import annotations

import uuid

import pytest

from application.workspaces import new_token
from domain.actor import ADMIN
from domain.api_key import ApiKey, lookup_of
from domain.errors import ValidationError
from domain.workspace import PLANS, Workspace


def make_workspace(plan: str = "free") -> Workspace:
    return Workspace.create(workspace_id=uuid.uuid4(), name="Acme", plan=plan, actor=ADMIN)


def test_a_new_workspace_takes_its_limits_from_its_plan() -> None:
    workspace = make_workspace("starter")
    assert workspace.rate_limit_per_minute == 300
    assert workspace.monthly_event_limit == 1_000_000


def test_changing_plan_moves_limits_unless_they_are_given() -> None:
    workspace = make_workspace()
    workspace.reconfigure(actor=ADMIN, plan="pro", rate_limit_per_minute=42)
    assert workspace.monthly_event_limit == PLANS["pro"]["monthly_event_limit"]
    assert workspace.rate_limit_per_minute == 42


def test_allowlist_entries_are_normalised_and_garbage_refused() -> None:
    workspace = make_workspace()
    workspace.reconfigure(actor=ADMIN, ip_allowlist=["10.0.0.7", "192.168.1.0/24"])
    assert workspace.ip_allowlist == ["10.0.0.7/32", "192.168.1.0/24"]
    with pytest.raises(ValidationError):
        workspace.reconfigure(actor=ADMIN, ip_allowlist=["not-an-ip"])


def test_unknown_plans_are_refused() -> None:
    with pytest.raises(ValidationError):
        make_workspace("platinum")


def test_keys_store_only_a_hash_and_match_in_constant_time() -> None:
    token = new_token()
    key = ApiKey.issue(workspace_id=uuid.uuid4(), name="ci", scopes=["write"], token=token,
                       actor=ADMIN)
    assert token not in repr(key.__dict__)
    assert key.matches(token) and not key.matches(token + "x")
    assert lookup_of(token) == key.lookup


def test_tokens_carry_at_least_128_random_bits() -> None:
    token = new_token()
    assert token.startswith("bkn_live_") and len(token) - len("bkn_live_") >= 43


def test_a_revoked_key_allows_nothing() -> None:
    key = ApiKey.issue(workspace_id=uuid.uuid4(), name="ci", scopes=["read"], token=new_token(),
                       actor=ADMIN)
    assert key.allows("read") and not key.allows("write")
    key.revoke(ADMIN)
    assert not key.allows("read")


def test_scopes_must_be_known() -> None:
    with pytest.raises(ValidationError):
        ApiKey.issue(workspace_id=uuid.uuid4(), name="ci", scopes=["admin"], token=new_token(),
                     actor=ADMIN)
