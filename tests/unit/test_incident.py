"""The incident aggregate's rules, as the README states them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ValidationError, VersionMismatchError
from domain.incident import Incident

WHO = {"key_id": "k1", "name": "ops key"}
T0 = datetime(2026, 4, 4, 14, 32, tzinfo=UTC)


def open_incident(state: str = "investigating", message: str | None = "looking") -> Incident:
    return Incident.open(incident_id=uuid.uuid4(), workspace_id=uuid.uuid4(),
                         page_id=uuid.uuid4(), page_slug="acme", title="Latency", impact="minor",
                         state=state, message=message, actor=WHO, at=T0)


def kinds(incident: Incident) -> list[str]:
    return [type(e).__name__ for e in incident.collect_events()]


def test_opening_with_a_message_makes_it_the_first_update() -> None:
    incident = open_incident()
    assert [u["message"] for u in incident.updates] == ["looking"]
    assert incident.updates[0]["id"].startswith("upd_") and len(incident.updates[0]["id"]) == 16
    assert kinds(incident) == ["Opened", "UpdatePosted"]


def test_opening_without_a_message_has_an_empty_timeline() -> None:
    assert open_incident(message=None).updates == []


def test_resolved_true_sets_resolved_at_and_state_resolved() -> None:
    incident = open_incident()
    later = T0 + timedelta(minutes=5)
    incident.change(actor=WHO, at=later, resolved=True)
    assert (incident.state, incident.resolved, incident.resolved_at) == ("resolved", True, later)


def test_state_resolved_implies_resolved_true() -> None:
    incident = open_incident()
    incident.change(actor=WHO, at=T0, state="resolved")
    assert incident.resolved is True and incident.resolved_at == T0


def test_moving_a_resolved_incident_to_another_state_reopens_it_and_keeps_history() -> None:
    incident = open_incident()
    incident.change(actor=WHO, at=T0, state="resolved", resolved=True)
    incident.change(actor=WHO, at=T0 + timedelta(hours=1), state="monitoring")
    assert (incident.state, incident.resolved, incident.resolved_at) == ("monitoring", False, None)
    assert kinds(incident) == ["Opened", "UpdatePosted", "Resolved", "Reopened"]


def test_resolved_false_alone_reopens_into_investigating() -> None:
    incident = open_incident(state="resolved")
    incident.change(actor=WHO, at=T0, resolved=False)
    assert (incident.state, incident.resolved) == ("investigating", False)


def test_a_change_that_changes_nothing_records_no_event() -> None:
    incident = open_incident()
    incident.collect_events()
    incident.change(actor=WHO, at=T0, title="Latency", impact="minor", state="investigating")
    assert incident.collect_events() == []


def test_resolving_again_keeps_the_first_resolved_at() -> None:
    incident = open_incident()
    incident.change(actor=WHO, at=T0, resolved=True)
    incident.collect_events()
    incident.change(actor=WHO, at=T0 + timedelta(hours=2), state="resolved", resolved=True)
    assert incident.resolved_at == T0 and incident.collect_events() == []


@pytest.mark.parametrize("fields", [{"state": "identified", "resolved": True},
                                    {"state": "resolved", "resolved": False},
                                    {"impact": "catastrophic"}, {"title": ""},
                                    {"title": "x" * 256}, {"state": "done"}])
def test_contradictory_or_invalid_changes_are_refused(fields: dict) -> None:
    incident = open_incident()
    with pytest.raises(ValidationError):
        incident.change(actor=WHO, at=T0, **fields)


def test_a_change_records_each_field_before_and_after() -> None:
    incident = open_incident()
    incident.collect_events()
    incident.change(actor=WHO, at=T0, impact="major", state="identified")
    (event,) = incident.collect_events()
    assert event.changes == {"impact": ["minor", "major"],
                             "state": ["investigating", "identified"]}
    assert event.actor == WHO


def test_a_stale_expected_version_is_refused() -> None:
    incident = open_incident()
    incident.check_version(incident.version)
    with pytest.raises(VersionMismatchError):
        incident.check_version(incident.version - 1)


def test_update_ids_are_distinct_and_stable() -> None:
    incident = open_incident()
    incident.post_update("second", actor=WHO, at=T0)
    ids = [u["id"] for u in incident.updates]
    assert len(set(ids)) == 2
