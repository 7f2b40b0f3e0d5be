"""Request bodies of components, maintenance and page settings. They validate and nothing more."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StrictBool, StringConstraints

from interfaces.rest.schemas import Body, Message, Name, Title

ComponentStatus = Literal["operational", "degraded_performance", "partial_outage",
                          "major_outage", "under_maintenance"]
MaintenanceState = Literal["scheduled", "in_progress", "verifying", "completed", "cancelled"]
Group = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Description = Annotated[str, StringConstraints(max_length=2_000)]
Position = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
Ids = Annotated[list[UUID], Field(max_length=100)]
Weight = Annotated[float, Field(ge=0, le=1)]


class ComponentCreate(Body):
    name: Name
    group: Group | None = None
    description: Description | None = None
    position: Position = 0
    monitor_id: UUID | None = None
    nullable: ClassVar[tuple[str, ...]] = ("group", "description", "monitor_id")


class ComponentUpdate(Body):
    name: Name | None = None
    group: Group | None = None
    description: Description | None = None
    position: Position | None = None
    status: ComponentStatus | None = None
    nullable: ClassVar[tuple[str, ...]] = ("group", "description")


class MaintenanceCreate(Body):
    title: Title
    message: Message | None = None
    scheduled_for: AwareDatetime
    scheduled_until: AwareDatetime
    components: Ids
    monitors: Ids = []
    auto_start: StrictBool = True
    auto_complete: StrictBool = True
    nullable: ClassVar[tuple[str, ...]] = ("message",)


class MaintenanceUpdate(Body):
    title: Title | None = None
    scheduled_for: AwareDatetime | None = None
    scheduled_until: AwareDatetime | None = None
    components: Ids | None = None
    monitors: Ids | None = None
    auto_start: StrictBool | None = None
    auto_complete: StrictBool | None = None
    state: MaintenanceState | None = None


class UptimeWeights(Body):
    partial_outage: Weight | None = None
    degraded_performance: Weight | None = None


class PageUpdate(Body):
    uptime_weights: UptimeWeights
