"""A firing records what its value counted (`Alert.Fired.cause`); firings an earlier release
stored, without a cause, still read: upcast to a cause of None. So do rules made before
descriptions (`Alert.Created` v1: no description)."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from application.alerts import AlertsApplication
from domain.actor import ADMIN
from infrastructure.settings import Settings, eventsourcing_env

START = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
RULE = {"type": "exception_group", "trigger": "new", "window_seconds": 60}
CHANNELS = [{"type": "webhook", "url": "https://93.184.216.34/hook"}]


def alerts_in(tmp_path: Path) -> AlertsApplication:
    return AlertsApplication(eventsourcing_env(Settings(env="test", data_dir=tmp_path), "Alerts"),
                             clock=lambda: START)


def as_version_1(tmp_path: Path, event: str, field: str) -> None:
    """Rewrite the one stored event of this kind as the earlier release wrote it: without
    `field`, and without a class version (the library reads that as version 1)."""
    with sqlite3.connect(Settings(env="test", data_dir=tmp_path).sqlite_path("Alerts")) as db:
        [(rowid, state)] = db.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE ?", [f"%{event}"]).fetchall()
        stored = orjson.loads(state)
        del stored[field], stored["class_version"]
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                   [orjson.dumps(stored), rowid])


def test_the_cause_is_asked_only_when_the_rule_fires(tmp_path: Path) -> None:
    app = alerts_in(tmp_path)
    alert = app.create_alert(uuid.uuid4(), name="New", condition=RULE,
                             channels=CHANNELS, cooldown_seconds=0, actor=ADMIN)
    asked: list[datetime] = []

    def cause(at: datetime) -> dict[str, object]:
        asked.append(at)
        return {"groups": [{"fingerprint": "f1", "reports": 1}]}

    for seconds, value in ((10, 0.0), (20, 1.0), (30, 1.0), (90, 0.0)):
        at = START + timedelta(seconds=seconds)
        app.observe(alert.id, [(at, value, lambda at=at: cause(at))])
    assert asked == [START + timedelta(seconds=20)]  # not for ok, still firing, or resolving
    history = app.alert_history(alert.workspace_id, alert.id)
    assert [(e["state"], e["cause"]) for e in history] == [
        ("ok", None), ("firing", {"groups": [{"fingerprint": "f1", "reports": 1}]}),
        ("resolved", None)]
    app.close()


def test_a_firing_stored_before_causes_were_recorded_reads_as_without_one(
        tmp_path: Path) -> None:
    app = alerts_in(tmp_path)
    alert = app.create_alert(uuid.uuid4(), name="New", condition=RULE,
                             channels=CHANNELS, cooldown_seconds=0, actor=ADMIN)
    app.observe(alert.id, [(START + timedelta(seconds=5), 1.0, lambda: {"groups": []})])
    app.close()
    as_version_1(tmp_path, "Alert.Fired", "cause")

    again = alerts_in(tmp_path)
    read = again.get_alert(alert.workspace_id, alert.id)
    assert (read.state, read.cause) == ("firing", None)
    assert again.alert_history(alert.workspace_id, alert.id)[-1]["cause"] is None
    again.close()


def test_a_rule_made_before_descriptions_reads_as_without_one(tmp_path: Path) -> None:
    app = alerts_in(tmp_path)
    alert = app.create_alert(uuid.uuid4(), name="New", condition=RULE, channels=CHANNELS,
                             cooldown_seconds=0, actor=ADMIN, description="Look at the group.")
    app.close()
    as_version_1(tmp_path, "Alert.Created", "description")

    again = alerts_in(tmp_path)
    read = again.get_alert(alert.workspace_id, alert.id)
    assert (read.name, read.description) == ("New", None)
    again.close()
