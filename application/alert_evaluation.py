"""Alert evaluation, driven by the log (DESIGN.md decision 7) and by a clock for silence.

What the Telemetry and Monitoring logs record re-evaluates the rules it may change (a batch: the
threshold rules on the event names it carries, when one of them lies inside the rule's window; an
exception report: the workspace's exception-group rules; a monitor's flip into or out of down:
the rules on that monitor), at every moment one happened, as soon as the read models have it (each source's
`ready`); a grid of instants every `TICK` re-evaluates every rule, so a window that empties
("fewer than N", or a firing rule falling back) is noticed without an event. Each rule is judged
at its instants in time order, its values measured together, only up to a horizon the read
models have certainly reached: before the first entry they do not have yet, and `settle` before
now (a request received a moment ago may not be in the log yet). So an instant is never judged
on a read model that is still behind it. The positions read (log and grid) are kept; a crash
between a firing and keeping the position evaluates that instant again, and the rule, already
firing, does not fire twice. A preview evaluates the same instants with the same code on a rule
that is never saved."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from application.alert_ports import AlertRules, EvaluationPositions, Meter
from application.alert_sources import LogSource, Touch, Watched, reaches, watched_by, watchers
from application.alerts import AlertsApplication
from application.base import Clock
from domain.alert import Alert
from domain.alert_conditions import check_condition, invalid
from domain.time import from_micros, iso, micros

Entry = tuple[int, datetime, list[Touch]]  # a log entry read: position, when, what it touched
TICK = timedelta(seconds=10)
MAX_CATCH_UP_TICKS = 8640  # a day of grid instants after a long stop
MAX_PREVIEW_INSTANTS = 10_000
PAGE = 500
# Entries of one log a run reads: a backlog (a worker back after a stop, a storm of errors) is
# judged a slice per run, each keeping its positions, so no run outgrows the job's time limit
# and every run moves evaluation on; the next starts at once (`more`).
MAX_ENTRIES = 20 * PAGE
DECODED = 8  # entries kept decoded between runs (see AlertEvaluation._decoded)


def on_grid(moment: datetime) -> datetime:
    """The latest grid instant at or before a moment."""
    step = micros(datetime.fromtimestamp(0, UTC) + TICK)
    return from_micros(micros(moment) // step * step)


@dataclass
class AlertEvaluation:
    """Evaluates rules when the log or the clock says they may have changed."""

    alerts: AlertsApplication
    rules: AlertRules
    meters: dict[str, Meter]  # by condition type
    sources: list[LogSource]
    positions: EvaluationPositions
    clock: Clock
    # Whether maintenance in progress covers a monitor (issue 22: a monitor under maintenance
    # sends no alerts). Asked when the rule is evaluated, seconds after the flip it follows.
    under_maintenance: Callable[[UUID], bool] = lambda _: False
    # How long after a moment its requests are surely in the log: a batch received then may be
    # committed a little later (BEACON_ALERT_SETTLE_SECONDS).
    settle: timedelta = timedelta(seconds=1)
    due: datetime | None = None  # after a run: when entries it left for being recent are settled
    more: bool = False  # after a run: it read as many entries as a run may, and left the rest
    # The last entries decoded, by (source, position): the one a run stopped before and the
    # first its read models lack are most often the next run's first, and a batch is the
    # costliest thing a run decodes.
    _decoded: OrderedDict[tuple[str, int], Any] = field(default_factory=OrderedDict)
    _decoding: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> int:
        """Evaluate, in time order, the rules new log entries may have changed (at every moment
        one happened) and every rule at the grid's new instants, up to the horizon; returns how
        many state changes were recorded. Positions are kept after: evaluating an instant twice
        changes nothing. `due` says when entries left for being too recent can be evaluated."""
        rules = [r for kind in self.meters for r in self.rules.rules(kind)]
        by_touch = watchers(rules)
        watched = watched_by(by_touch)
        readiness = [(source, source.ready(rules)) for source in self.sources]
        settled = horizon = self.clock() - self.settle
        for source, ready in readiness:
            behind = self._first_unready(source, ready)
            if behind is not None:  # its read models do not have this entry yet: stop before it
                horizon = min(horizon, behind - timedelta(microseconds=1))
        self.due, self.more = None, False
        read = {}
        for source, ready in readiness:
            position, entries, stop, sliced = self._new_entries(source, watched, ready, horizon,
                                                                settled)
            read[source.name] = (position, entries)
            if stop is not None:  # no instant from there on: the entry it leaves is not read
                horizon = min(horizon, stop - timedelta(microseconds=1))
            self.more = self.more or sliced
        work: dict[str, tuple[dict[str, Any], set[datetime]]] = {}
        positions = {}
        for name, (position, entries) in read.items():
            positions[name] = position
            for n, (_, happened, touches) in enumerate(entries):
                if happened > horizon:  # past where another log was cut: read again next run
                    positions[name] = entries[n - 1][0] if n else self.positions.get(name) or 0
                    break
                for touch in touches:
                    for rule in by_touch.get((touch[0], touch[1]), ()):
                        if reaches(touch, rule["condition"]):
                            work.setdefault(rule["id"], (rule, set()))[1].add(touch[2])
        grid = self._new_grid_instants(horizon, min(
            (int(r["created_at"]) for r in rules if r.get("created_at") is not None), default=None))
        for rule in rules if grid else ():
            work.setdefault(rule["id"], (rule, set()))[1].update(grid)
        changed = sum(self.evaluate(rule, sorted(instants)) for rule, instants in work.values())
        if grid:
            positions["tick"] = micros(grid[-1])
        self.positions.put_all(positions)  # together: a crash keeps all or none of them
        return changed

    def judged_until(self) -> datetime | None:
        """The last grid instant every rule was judged at (None before the first run): how far
        behind the clock evaluation is, whichever process runs it."""
        tick = self.positions.get("tick")
        return None if tick is None else from_micros(tick)

    def _first_unready(self, source: LogSource, ready: int) -> datetime | None:
        """When the first entry past what the source's read models have happened (None: they
        have every entry)."""
        after = source.app.recorder.select_notifications(
            start=ready + 1, limit=1, topics=list(source.topics))
        return source.moment(self._event(source, after[0])) if after else None

    def _event(self, source: LogSource, notification: Any) -> Any:
        key = (source.name, notification.id)
        with self._decoding:  # the worker's threads may overlap two runs
            event = self._decoded.pop(key, None)
        if event is None:
            event = source.app.mapper.to_domain_event(notification)
        with self._decoding:
            self._decoded[key] = event
            while len(self._decoded) > DECODED:
                self._decoded.popitem(last=False)
        return event

    def _new_entries(self, source: LogSource, watched: Watched, ready: int, horizon: datetime,
                     settled: datetime) -> tuple[int, list[Entry], datetime | None, bool]:
        """The log's position once read, each entry read (position, when it happened, what
        watched (workspace, subject) it touched), where the run must stop (None: the horizon)
        and whether it read as many as a run may (`MAX_ENTRIES`, stopping at the next entry's
        moment; an entry left for later that touches a rule at an earlier moment stops it
        there too): what the source's read models have, up to `ready`, and only entries that
        happened by the horizon (the next run reads the rest). An entry left for being more
        recent than `settled` sets `due`; one left for a read model that is behind does not
        (the read model asks for a run when it moves). Reading goes past `MAX_ENTRIES` until an
        entry happened after every one read."""
        position = self.positions.get(source.name) or 0
        entries: list[Entry] = []
        latest = None  # the latest moment read: a cut is only ever made after it
        while position < ready:
            notifications = source.app.recorder.select_notifications(
                start=position + 1, limit=PAGE, stop=ready, topics=list(source.topics))
            for notification in notifications:
                event = self._event(source, notification)
                happened = source.moment(event)
                if happened > horizon:
                    if happened > settled:
                        due = happened + self.settle
                        self.due = due if self.due is None else min(self.due, due)
                    return position, entries, self._dated_back(source, watched, notification.id,
                                                               ready, horizon), False
                # Cut where the next entry happened after all those read (entries at one moment,
                # or out of log order, are read on): judging up to before it keeps every entry
                # read, so each run moves on (cut at or before one, none was, again and again).
                if len(entries) >= MAX_ENTRIES and latest is not None and happened > latest:
                    return position, entries, happened, True
                entries.append((notification.id, happened, list(source.touched(event, watched))))
                latest = happened if latest is None else max(latest, happened)
                position = notification.id
            if len(notifications) < PAGE:
                position = ready
        return position, entries, None, False

    def _dated_back(self, source: LogSource, watched: Watched, first: int, ready: int,
                    horizon: datetime) -> datetime | None:
        """The earliest moment by the horizon that the entries left for later (from `first` up
        to `ready`) touch a rule at, if any. A flip recorded now but dated back (to the deadline
        the monitor missed) is in the read models already: no instant at or after its date may
        be judged before it is read (a grid instant between fired on the outage, and the flip's
        own moment, older, was then stale)."""
        if not source.dated_back:
            return None
        dated = None
        for notification in source.app.recorder.select_notifications(
                start=first, limit=min(ready - first + 1, MAX_ENTRIES), stop=ready,
                topics=list(source.topics)):
            for touch in source.touched(self._event(source, notification), watched):
                if touch[2] <= horizon and (dated is None or touch[2] < dated):
                    dated = touch[2]
        return dated

    def _new_grid_instants(self, horizon: datetime, oldest_rule: int | None) -> list[datetime]:
        """The grid's instants not judged yet, up to the horizon: from the last one judged, or,
        before any was, from the first at or after the oldest rule's making (µs), as preview
        judges it (a worker that first runs after rules were made starts there, not now)."""
        now, last = on_grid(horizon), self.positions.get("tick")
        if last is not None:
            first = from_micros(last) + TICK
        elif oldest_rule is not None:
            made = from_micros(oldest_rule)
            first = on_grid(made) + (TICK if on_grid(made) < made else timedelta(0))
        else:
            first = now
        first = max(first, now - TICK * (MAX_CATCH_UP_TICKS - 1))
        return [first + TICK * n for n in range(int((now - first) / TICK) + 1)] \
            if first <= now else []

    def evaluate(self, rule: dict[str, Any], instants: list[datetime]) -> int:
        """Judge a rule at these instants (ascending), its values measured together; returns
        how many state changes were recorded."""
        condition = rule["condition"]
        meter, workspace_id = self.meters[condition["type"]], rule["workspace_id"]
        values = meter.values(workspace_id, condition, instants)
        maintenance = condition["type"] == "monitor" and self._monitor_under_maintenance(condition)
        return self.alerts.observe(UUID(rule["id"]), [
            (at, value, partial(meter.cause, workspace_id, condition, at))
            for at, value in zip(instants, values, strict=True)], maintenance=maintenance)

    def _monitor_under_maintenance(self, condition: dict[str, Any]) -> bool:
        try:
            return self.under_maintenance(UUID(str(condition.get("monitor_id"))))
        except ValueError:
            return False

    def preview(self, workspace_id: UUID, condition: object, start: datetime,
                end: datetime) -> list[dict[str, Any]]:
        """When a rule would have fired and resolved between `start` and `end`, evaluated at
        the instants live evaluation uses (grid instants and events' arrivals) on what was known
        then (received by the instant and its settle); nothing is saved and no one is told."""
        rule = check_condition(condition)
        if end <= start:
            raise invalid("to", "after from")
        meter = self.meters[rule["type"]]
        instants = set(meter.instants(str(workspace_id), rule, start, end))
        at = on_grid(start) + (TICK if on_grid(start) < start else timedelta(0))
        while at <= end and len(instants) <= MAX_PREVIEW_INSTANTS:
            instants.add(at)
            at += TICK
        if len(instants) > MAX_PREVIEW_INSTANTS:  # the event's batches arrive more often than the grid
            last = sorted(instants)[MAX_PREVIEW_INSTANTS - 1]
            raise invalid("to", f"a range of at most {MAX_PREVIEW_INSTANTS} evaluations (the grid's "
                                f"instants and the event's arrivals): up to {iso(last)} from this "
                                "`from`")
        alert = Alert.preview(workspace_id=workspace_id, condition=rule, at=start)
        changes = []
        moments = sorted(instants)
        values = meter.known_values(str(workspace_id), rule, moments, self.settle)
        for moment, value in zip(moments, values, strict=True):
            if alert.observe(value, at=moment,
                             cause=partial(meter.cause, str(workspace_id), rule, moment)):
                firing = alert.state == "firing"
                changes.append({"state": "firing" if firing else "resolved", "at": moment,
                                "value": value, "cause": alert.cause if firing else None})
        return changes
