"""What aggregates with a PATCH and a public timeline share: the change event, and posting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.ids import update_id


class FieldsChanged(Aggregate.Event):
    """`changes` maps each field that changed to [before, after]."""

    changes: dict[str, list[Any]]
    actor: Actor

    def apply(self, aggregate: Any) -> None:
        for field, (_, after) in self.changes.items():
            setattr(aggregate, field, after)


def post_timeline_update(aggregate: Any, message: str, *, actor: Actor,
                         at: datetime) -> dict[str, Any]:
    """Trigger the aggregate's UpdatePosted with the next update id; returns the new entry."""
    aggregate.trigger_event(aggregate.UpdatePosted,
                            update_id=update_id(aggregate.id, len(aggregate.updates) + 1),
                            message=message, actor=actor, timestamp=at)
    return dict(aggregate.updates[-1])
