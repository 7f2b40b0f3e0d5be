"""Schedule previews: what another schedule would have made of a monitor's stored signals.

The replay feeds the stored signals, in order, to a fresh monitor with the other settings; that
monitor decides with the same methods live evaluation uses (each signal first applies the
deadlines passed before it), so a preview of the monitor's own settings answers the flips it
really went through.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain import runs
from domain.actor import Actor
from domain.monitor import Monitor, send_signal
from domain.monitor_config import merged_config
from domain.monitor_lifecycle import reason_of

PREVIEWER: Actor = {"key_id": None, "name": "preview"}
STAND_IN_TOKEN = "beet_" + "0" * 32  # the replay never checks a token


def replay(monitor: Monitor, events: Iterable[Any], settings: dict[str, Any],
           until: datetime) -> Monitor:
    """A new monitor with `settings` over the original's (as a change would apply them), that
    went through its signals (and pauses) up to `until`, not saved anywhere."""
    probe = Monitor.create(monitor_id=monitor.id, workspace_id=monitor.workspace_id,
                           token=STAND_IN_TOKEN, actor=PREVIEWER, at=monitor.created_on,
                           **merged_config(monitor.config, settings))
    for event in events:
        if event.timestamp > until:
            break
        _replay_one(probe, event)
    probe.evaluate(at=until)
    return probe


def _replay_one(probe: Monitor, event: Any) -> None:
    at = event.timestamp
    if isinstance(event, Monitor.BeatRecorded):
        send_signal(probe, "success", at=at, value=event.value, rid=event.rid, body=event.body,
                    exit_status=event.exit_status)
    elif isinstance(event, Monitor.FailureRecorded) and event.reason == runs.RUN_TOO_SHORT:
        send_signal(probe, "success", at=at, rid=event.rid, body=event.body,
                    exit_status=event.exit_status)  # a success the runtime rule turned down
    elif isinstance(event, Monitor.FailureRecorded):
        send_signal(probe, "fail", at=at, rid=event.rid, body=event.body,
                    exit_status=event.exit_status)
    elif isinstance(event, Monitor.RunStarted):
        send_signal(probe, "start", at=at, rid=event.rid, body=event.body)
    elif isinstance(event, Monitor.LogRecorded):
        send_signal(probe, "log", at=at, rid=event.rid, body=event.body)
    elif isinstance(event, Monitor.Paused):
        probe.pause(actor=PREVIEWER, at=at)
    elif isinstance(event, Monitor.Resumed):
        probe.resume(actor=PREVIEWER, at=at)


def flips_of(events: Iterable[Any], since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The status changes among `events` that took effect from `since` to `until`."""
    return [flip_of(e) for e in events
            if isinstance(e, Monitor.StatusChanged) and since <= e.effective_at <= until]


def flip_of(event: Any) -> dict[str, Any]:
    """One status change as a user reads it."""
    return {"at": event.effective_at, "before": event.before, "after": event.after,
            "reason": reason_of(event), "rid": getattr(event, "rid", None),
            "exit_status": getattr(event, "exit_status", None)}
