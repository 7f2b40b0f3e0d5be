"""The maintenance and component aggregates' rules, and events stored before components existed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.application import Application

from domain.component import Component
from domain.errors import ConflictError, ValidationError
from domain.incident import Incident
from domain.maintenance import Maintenance
from domain.subscriber import Subscriber

WHO = {"key_id": "k1", "name": "ops key"}
T0 = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def window(auto_start: bool = True, auto_complete: bool = True, at: datetime = T0) -> Maintenance:
    return Maintenance.schedule(
        maintenance_id=uuid.uuid4(), workspace_id=uuid.uuid4(), page_id=uuid.uuid4(),
        page_slug="acme", title="Upgrade", scheduled_for=T0 + HOUR,
        scheduled_until=T0 + 2 * HOUR, components=["b", "a", "a"], monitors=[],
        auto_start=auto_start, auto_complete=auto_complete, message=None, actor=WHO, at=at)


def moves(maintenance: Maintenance) -> list[tuple[str, datetime]]:
    return [(e.after, e.effective_at) for e in maintenance.collect_events()
            if isinstance(e, Maintenance.StateChanged)]


def test_nothing_happens_before_the_scheduled_start() -> None:
    maintenance = window()
    assert maintenance.components == ["a", "b"]
    assert not maintenance.advance(at=T0 + HOUR - timedelta(seconds=1))
    assert maintenance.state == "scheduled"


def test_a_late_scheduler_starts_and_completes_at_the_scheduled_times() -> None:
    maintenance = window()
    assert maintenance.advance(at=T0 + 5 * HOUR)
    assert moves(maintenance) == [("in_progress", T0 + HOUR), ("completed", T0 + 2 * HOUR)]
    assert (maintenance.started_at, maintenance.ended_at) == (T0 + HOUR, T0 + 2 * HOUR)


def test_without_automation_the_clock_moves_nothing() -> None:
    maintenance = window(auto_start=False, auto_complete=False)
    assert not maintenance.advance(at=T0 + 5 * HOUR)
    maintenance.move_to("in_progress", actor=WHO, at=T0 + 3 * HOUR)
    assert not maintenance.advance(at=T0 + 5 * HOUR)
    assert maintenance.state == "in_progress" and maintenance.started_at == T0 + 3 * HOUR


def test_a_window_started_by_hand_after_its_end_completes_when_started() -> None:
    maintenance = window(auto_start=False)
    maintenance.move_to("in_progress", actor=WHO, at=T0 + 3 * HOUR)
    maintenance.advance(at=T0 + 3 * HOUR)
    assert maintenance.ended_at == T0 + 3 * HOUR  # never before it started


@pytest.mark.parametrize(("path", "refused"), [
    ((), "verifying"), ((), "completed"), (("in_progress", "completed"), "in_progress"),
    (("cancelled",), "in_progress")])
def test_transitions_outside_the_lifecycle_are_refused(path: tuple[str, ...],
                                                       refused: str) -> None:
    maintenance = window(auto_start=False, auto_complete=False)
    for state in path:
        maintenance.move_to(state, actor=WHO, at=T0)
    with pytest.raises(ConflictError):
        maintenance.move_to(refused, actor=WHO, at=T0)


def test_an_empty_or_backwards_window_is_refused() -> None:
    maintenance = window()
    with pytest.raises(ValidationError):
        maintenance.change(actor=WHO, at=T0, scheduled_until=T0)
    with pytest.raises(ValidationError):
        maintenance.change(actor=WHO, at=T0, state="on_hold")


def test_a_component_records_a_status_only_when_it_changes() -> None:
    component = Component.create(
        component_id=uuid.uuid4(), workspace_id=uuid.uuid4(), page_id=uuid.uuid4(),
        page_slug="acme", name="API", group=None, description=None, position=0,
        monitor_id=None, actor=WHO, at=T0)
    assert not component.set_status("operational", cause="manual", actor=WHO, at=T0)
    assert component.set_status("major_outage", cause="monitor", actor=WHO, at=T0 + HOUR,
                                effective_at=T0)
    changed = component.collect_events()[-1]
    assert isinstance(changed, Component.StatusChanged) and changed.effective_at == T0
    with pytest.raises(ValidationError):
        component.set_status("on_fire", cause="manual", actor=WHO, at=T0)
    with pytest.raises(ValidationError):
        component.change(actor=WHO, at=T0, name="")


def _as_first_version(app: Application, event: object) -> object:
    """The event as a release before components stored it: none of the fields added since."""
    stored = app.mapper.to_stored_event(event)  # type: ignore[arg-type]
    state = app.mapper.transcoder.decode(stored.state)
    for added in ("components", "started_at", "class_version"):
        state.pop(added, None)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic,
                       app.mapper.transcoder.encode(state))
    return app.mapper.to_domain_event(old)


def test_incidents_and_subscribers_stored_before_components_read_back_with_none() -> None:
    app = Application()
    incident = Incident.open(incident_id=uuid.uuid4(), workspace_id=uuid.uuid4(),
                             page_id=uuid.uuid4(), page_slug="acme", title="Latency",
                             impact="minor", state="investigating", message=None, actor=WHO,
                             at=T0, components={"c": "major_outage"})
    opened = _as_first_version(app, incident.collect_events()[0])
    assert opened.components == {}  # type: ignore[attr-defined]
    reopened = opened.mutate(None)  # type: ignore[attr-defined]
    assert reopened.components == {} and reopened.started_at == T0
    subscriber = Subscriber.subscribe(
        subscriber_id=uuid.uuid4(), workspace_id=uuid.uuid4(), page_id=uuid.uuid4(),
        page_slug="acme", url="https://example.com/hook", secret="s" * 20, actor=WHO, at=T0,
        components=["c"])
    subscribed = _as_first_version(app, subscriber.collect_events()[0])
    assert subscribed.mutate(None).components is None  # type: ignore[attr-defined]
