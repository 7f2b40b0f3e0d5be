"""A workspace's alert activity: every firing, late telling and resolution of any of its rules,
newest first ("what fired last night?"), where a rule's own history answers for one rule only.

A projection of its own on the Alerts log, so that an installation that had rules before it fills
it from the whole log at its first start. It keeps the few facts of each rule it needs (workspace,
name) in a table of its own rather than reading `rm_alerts`, which another projection writes at
its own pace.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from domain.alert import Alert
from projections.model import (
    BIGINT,
    DOUBLE,
    JSON,
    TEXT,
    Fanout,
    Op,
    Patch,
    Projection,
    Table,
    Upsert,
    micros,
)

RULES = Table(name="rm_alert_activity_rules",
              columns={"id": TEXT, "workspace_id": TEXT, "name": TEXT},
              primary_key=("id",))
ACTIVITY = Table(
    name="rm_alert_activity",
    columns={"alert_id": TEXT, "version": BIGINT, "workspace_id": TEXT, "name": TEXT,
             "state": TEXT, "at": BIGINT, "value": DOUBLE, "notified": JSON, "suppressed": TEXT,
             "cause": JSON},
    primary_key=("alert_id", "version"),
    indexes=(("workspace_id", "at"),),
)
# What each event says happened: a rule firing, telling late that it fires, resolving.
STATES = {Alert.Fired: "firing", Alert.Notified: "told late", Alert.Resolved: "resolved"}


def activity_key(row: dict[str, Any]) -> tuple[int, str]:
    """An entry's place in the list, as its cursor holds it: when, then "alert_id/version"."""
    return int(row["at"]), f"{row['alert_id']}/{row['version']}"


@dataclass(frozen=True)
class ActivityPage:
    items: list[dict[str, Any]]
    has_more: bool
    next_cursor: tuple[int, str] | None


class AlertActivity(ABC):
    """The workspace's state changes as the activity list reads them."""

    @abstractmethod
    def activity(self, workspace_id: str, start_us: int, end_us: int | None,
                 before: tuple[int, str] | None, limit: int) -> ActivityPage:
        """State changes in [start, end) (from start on, with no end), newest first, before an
        (at, "alert_id/version") cursor."""


class AlertActivityProjection(Projection):
    name = "alert_activity"
    source = "Alerts"
    tables = (RULES, ACTIVITY)
    topics = tuple(get_topic(cls) for cls in (Alert.Created, Alert.Changed, *STATES))

    def ops(self, event: Any) -> Iterable[Op]:
        alert_id = str(event.originator_id)
        if isinstance(event, Alert.Created):
            yield Upsert(RULES.name, {"id": alert_id, "workspace_id": str(event.workspace_id),
                                      "name": event.name})
        elif isinstance(event, Alert.Changed):
            if "name" in event.fields:  # listed as it is called now, its past changes too
                yield Patch(RULES.name, {"id": alert_id}, {"name": event.fields["name"]})
                yield Patch(ACTIVITY.name, {"alert_id": alert_id}, {"name": event.fields["name"]})
        elif type(event) in STATES:
            yield Fanout(ACTIVITY.name, source=RULES.name, match={"id": alert_id},
                         copy={"workspace_id": "workspace_id", "name": "name"},
                         row={"alert_id": alert_id, "version": event.originator_version,
                              "state": STATES[type(event)], "at": micros(event.timestamp),
                              "value": event.value, "notified": list(event.channels),
                              "suppressed": getattr(event, "suppressed", None),
                              "cause": getattr(event, "cause", None)})
