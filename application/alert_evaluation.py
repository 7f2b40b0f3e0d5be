"""Alert evaluation, driven by the log (DESIGN.md decision 7) and by a clock for silence.

Each batch the Telemetry log accepts re-evaluates the threshold rules on the event names it carries,
at the moment it was received, as soon as the events read model has it (`ready`); a grid of
instants every `TICK` re-evaluates every rule, so a window that empties ("fewer than N", or a
firing rule falling back) is noticed without an event. The positions read (log and grid) are
kept; a crash between a firing and keeping the position evaluates that instant again, and the
rule, already firing, does not fire twice. A preview evaluates the same instants with the same
code on a rule that is never saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import orjson
from eventsourcing.utils import get_topic

from application.alerts import AlertsApplication
from application.base import Clock
from domain.alert import Alert, check_condition, invalid
from domain.batch import EventBatch
from domain.time import from_micros, micros

TICK = timedelta(seconds=10)
MAX_CATCH_UP_TICKS = 8640  # a day of grid instants after a long stop
MAX_PREVIEW_INSTANTS = 10_000
PAGE = 500
BATCHES = get_topic(EventBatch.Accepted)


class EvaluationPositions(Protocol):
    """Where evaluation got to: a log position, or the last grid instant (µs)."""

    def get(self, name: str) -> int | None: ...

    def put(self, name: str, value: int) -> None: ...


class AlertRules(Protocol):
    """The live rules as the read model lists them: id, workspace_id, condition."""

    def rules(self, kind: str, workspace_id: str | None = None) -> list[dict[str, Any]]: ...


class ThresholdMeter(Protocol):
    """A threshold condition measured on the events of a workspace."""

    def value(self, workspace_id: str, condition: dict[str, Any], at: datetime) -> float:
        """The metric over the window ending at `at`: (at - window, at]."""

    def instants(self, workspace_id: str, condition: dict[str, Any], start: datetime,
                 end: datetime) -> list[datetime]:
        """When the condition's events happened in [start, end]."""


def on_grid(moment: datetime) -> datetime:
    """The latest grid instant at or before a moment."""
    step = micros(datetime.fromtimestamp(0, UTC) + TICK)
    return from_micros(micros(moment) // step * step)


@dataclass
class AlertEvaluation:
    """Evaluates rules when the log or the clock says they may have changed."""

    alerts: AlertsApplication
    rules: AlertRules
    meter: ThresholdMeter
    telemetry: Any  # the Telemetry application, whose log is read
    ready: Callable[[], int]  # how far the events read model has come in that log
    positions: EvaluationPositions
    clock: Clock

    def run(self) -> int:
        """Evaluate, in time order, the rules new batches may have changed (at the moments they
        were received) and every rule at the grid's new instants; returns how many rules changed
        state. Positions are kept after: evaluating an instant twice changes nothing."""
        position, moments = self._new_batches()
        grid = self._new_grid_instants()
        work: list[tuple[datetime, dict[str, Any]]] = [
            (at, rule) for at, names in moments.items() for rule in self._affected(names)]
        if grid:
            rules = self.rules.rules("threshold")
            work += [(at, rule) for at in grid for rule in rules]
        changed = sum(self.evaluate(rule, at) for at, rule in sorted(work, key=lambda w: w[0]))
        self.positions.put("telemetry", position)
        if grid:
            self.positions.put("tick", micros(grid[-1]))
        return changed

    def _new_batches(self) -> tuple[int, dict[datetime, set[tuple[str, str]]]]:
        """The log's position once read, and per page the latest moment each (workspace, event
        name) was received: what the events read model has, up to `ready`."""
        position, ready = self.positions.get("telemetry") or 0, self.ready()
        moments: dict[datetime, set[tuple[str, str]]] = {}
        while position < ready:
            notifications = self.telemetry.recorder.select_notifications(
                start=position + 1, limit=PAGE, stop=ready, topics=[BATCHES])
            latest: dict[tuple[str, str], datetime] = {}
            for notification in notifications:
                batch = self.telemetry.mapper.to_domain_event(notification)
                for name in {e["name"] for e in orjson.loads(batch.events_json)}:
                    key = (str(batch.workspace_id), name)
                    latest[key] = max(batch.received_at, latest.get(key, batch.received_at))
            for key, at in latest.items():
                moments.setdefault(at, set()).add(key)
            position = notifications[-1].id if len(notifications) == PAGE else ready
        return position, moments

    def _new_grid_instants(self) -> list[datetime]:
        now, last = on_grid(self.clock()), self.positions.get("tick")
        first = now if last is None else from_micros(last) + TICK
        first = max(first, now - TICK * (MAX_CATCH_UP_TICKS - 1))
        return [first + TICK * n for n in range(int((now - first) / TICK) + 1)] \
            if first <= now else []

    def evaluate(self, rule: dict[str, Any], at: datetime) -> int:
        value = self.meter.value(rule["workspace_id"], rule["condition"], at)
        return int(self.alerts.observe(UUID(rule["id"]), value, at=at))

    def _affected(self, names: set[tuple[str, str]]) -> Iterable[dict[str, Any]]:
        for workspace in {w for w, _ in names}:
            for rule in self.rules.rules("threshold", workspace):
                if (workspace, rule["condition"]["event"]) in names:
                    yield rule

    def preview(self, workspace_id: UUID, condition: object, start: datetime,
                end: datetime) -> list[dict[str, Any]]:
        """When a rule would have fired and resolved between `start` and `end`, evaluated at
        the instants live evaluation uses (grid instants and events' arrivals); nothing is
        saved and no one is told."""
        rule = check_condition(condition)
        if end <= start:
            raise invalid("to", "after from")
        instants = set(self.meter.instants(str(workspace_id), rule, start, end))
        at = on_grid(start) + (TICK if on_grid(start) < start else timedelta(0))
        while at <= end and len(instants) <= MAX_PREVIEW_INSTANTS:
            instants.add(at)
            at += TICK
        if len(instants) > MAX_PREVIEW_INSTANTS:
            raise invalid("to", f"a range of at most {MAX_PREVIEW_INSTANTS} evaluations")
        alert = Alert.preview(workspace_id=workspace_id, condition=rule, at=start)
        changes = []
        for moment in sorted(instants):
            value = self.meter.value(str(workspace_id), rule, moment)
            if alert.observe(value, at=moment):
                changes.append({"state": alert.state if alert.state == "firing" else "resolved",
                                "at": moment, "value": value})
        return changes
