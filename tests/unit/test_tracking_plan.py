"""The tracking plan's verdicts and the configuration's diffs and versions, in the domain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.configuration import ProjectConfiguration, config_alert_id, diff_of
from domain.errors import DeployNotFoundError, OwnedByConfigError
from domain.tracking_plan import TrackingPlan

AT = datetime(2026, 12, 4, tzinfo=UTC)
AUTHOR = {"key_id": None, "name": "user:dev@example.com"}
PLAN = {"on_violation": "flag", "events": {"checkout": {"properties": {
    "total": {"type": "number", "required": True},
    "currency": {"type": "string", "allowed": ["EUR", "USD"]},
    "items": {"type": "integer"}, "gift": {"type": "boolean"}}}}}


def violations(name: str, **properties: object) -> list[str]:
    plan = TrackingPlan.from_document(PLAN, version=1)
    assert plan is not None
    return [f"{v['field']}: {v['message']}" for v in plan.violations(name, properties)]


def test_a_conforming_event_and_an_unplanned_one_have_no_violations() -> None:
    assert violations("checkout", total=9.5, currency="EUR", items=2, gift=False) == []
    assert violations("visit", anything="goes") == []


def test_each_broken_rule_is_named() -> None:
    assert violations("checkout") == ["properties.total: is required"]
    assert violations("checkout", total="9", currency="GBP") == [
        "properties.total: must be of type number", "properties.currency: must be one of EUR, USD"]


def test_booleans_are_not_numbers_and_floats_are_not_integers() -> None:
    assert violations("checkout", total=True, items=2.5, gift=1) == [
        "properties.total: must be of type number", "properties.items: must be of type integer",
        "properties.gift: must be of type boolean"]


def test_a_diff_names_what_was_added_removed_and_changed_per_section() -> None:
    before = {"tracking_plan": PLAN, "monitors": {"a": {}, "b": {"period_seconds": 60}}}
    after = {"tracking_plan": {**PLAN, "on_violation": "reject"},
             "monitors": {"b": {"period_seconds": 120}, "c": {}}}
    assert diff_of(before, after) == {
        "monitors": {"added": ["c"], "removed": ["a"], "changed": ["b"]},
        "tracking_plan": {"events": {}, "settings": {"on_violation": ["flag", "reject"]}}}
    assert diff_of(after, after) == {}


def test_versions_count_deploys_and_a_rollback_is_a_new_version() -> None:
    configuration = ProjectConfiguration.start(uuid.uuid4(), AT)
    assert configuration.deploy({"pages": {"a": {"name": "A"}}}, author=AUTHOR, at=AT)
    assert configuration.deploy({"pages": {"a": {"name": "A"}}}, author=AUTHOR, at=AT) == {}
    configuration.deploy({}, author=AUTHOR, at=AT)
    assert configuration.rollback(1, author=AUTHOR, at=AT) == {"pages": {"added": ["a"]}}
    assert [d["version"] for d in configuration.deploys] == [1, 2, 3]
    assert configuration.deploys[-1]["rolled_back_from"] == 1
    with pytest.raises(DeployNotFoundError):
        configuration.rollback(7, author=AUTHOR, at=AT)


def test_an_owned_object_is_refused_naming_the_config_until_released() -> None:
    configuration = ProjectConfiguration.start(uuid.uuid4(), AT)
    configuration.deploy({"pages": {"api": {"name": "API"}}}, author=AUTHOR, at=AT)
    with pytest.raises(OwnedByConfigError) as refused:
        configuration.check_not_owned("pages", "api", "page 'api'")
    assert refused.value.extra["config"] == {"file": "beacon.yml", "version": 1,
                                             "section": "pages", "name": "api"}
    configuration.deploy({}, author=AUTHOR, at=AT)
    configuration.check_not_owned("pages", "api", "page 'api'")


def test_an_alert_rule_keeps_its_id_while_the_config_names_it_and_comes_back_as_a_new_one() -> None:
    workspace = uuid.uuid4()
    configuration = ProjectConfiguration.start(workspace, AT)
    rule = {"condition": {}, "channels": [], "cooldown_seconds": 0}
    configuration.deploy({"alerts": {"quiet": rule}}, author=AUTHOR, at=AT)
    configuration.deploy({"alerts": {"quiet": {**rule, "cooldown_seconds": 60}}}, author=AUTHOR, at=AT)
    assert configuration.alert_ids == {"quiet": config_alert_id(workspace, "quiet", 1)}
    configuration.deploy({}, author=AUTHOR, at=AT)
    assert configuration.alert_ids == {}
    configuration.rollback(1, author=AUTHOR, at=AT)
    assert configuration.alert_ids == {"quiet": config_alert_id(workspace, "quiet", 4)}
