"""The schema of beacon.yml: `beacon deploy` validates and compiles a file with it, and
`POST /api/deploy` validates the compiled JSON with it again (the server trusts no client)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from domain.alert import check_channels, check_cooldown, check_description
from domain.alert_conditions import check_condition
from domain.errors import ValidationError as DomainValidationError
from interfaces.rest.schemas import AlertRule

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
SECONDS = Field(default=None, ge=1, le=30 * 86_400)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PropertySpec(Strict):
    type: Literal["string", "number", "integer", "boolean", "object", "array"] | None = None
    required: bool = False
    allowed: list[str | int | float | bool] | None = Field(default=None, min_length=1)


class EventSpec(Strict):
    description: str | None = None
    properties: dict[Name, PropertySpec] = Field(default_factory=dict)
    additional_properties: bool = True


class TrackingPlanSpec(Strict):
    on_violation: Literal["flag", "reject"] = "flag"
    unplanned_events: Literal["allow", "violate"] = "allow"
    events: dict[Name, EventSpec] = Field(default_factory=dict)


class FunnelInsight(Strict):
    type: Literal["funnel"]
    steps: list[Name] = Field(min_length=2, max_length=10)
    window_seconds: int | None = SECONDS
    order: Literal["sequential", "strict", "any"] = "sequential"
    description: str | None = None


class BreakdownInsight(Strict):
    type: Literal["breakdown"]
    event: Name
    property: Name
    metric: Literal["count", "unique_actors"] = "count"
    description: str | None = None


class TimeseriesInsight(Strict):
    type: Literal["timeseries"]
    event: Name
    interval: Literal["minute", "hour", "day", "week"] = "day"
    metric: Literal["count", "unique_actors"] = "count"
    description: str | None = None


Insight = Annotated[FunnelInsight | BreakdownInsight | TimeseriesInsight, Field(discriminator="type")]


class MonitorSpec(Strict):
    period_seconds: int | None = SECONDS
    grace_seconds: int | None = SECONDS
    page: Slug | None = None


class PageSpec(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class AlertSpec(AlertRule):
    """An alert rule, as `POST /api/v1/alerts` takes it (its name is its key in beacon.yml),
    checked by the domain's own rules before anything is sent. A monitor condition may name a
    monitor of the same file (`monitor: nightly backup`) instead of giving its id."""

    @model_validator(mode="after")
    def _valid_rule(self) -> AlertSpec:
        condition = self.condition
        if condition.get("type") == "monitor" and "monitor" in condition:
            condition = {**condition, "monitor_id": str(UUID(int=0))}
            condition.pop("monitor")
        try:
            check_condition(condition)
            check_channels([{**c, "id": str(UUID(int=0)), "secret": c.get("secret") or "x" * 16}
                            for c in self.channels])
            check_cooldown(self.cooldown_seconds)
            check_description(self.description)
        except DomainValidationError as error:
            raise ValueError(str(error)) from None
        return self


class BeaconConfig(Strict):
    """beacon.yml, whole."""

    tracking_plan: TrackingPlanSpec | None = None
    alerts: dict[Name, AlertSpec] = Field(default_factory=dict)
    insights: dict[Name, Insight] = Field(default_factory=dict)
    monitors: dict[Name, MonitorSpec] = Field(default_factory=dict)
    pages: dict[Slug, PageSpec] = Field(default_factory=dict)

    @field_validator("monitors")
    @classmethod
    def _printable_names(cls, monitors: dict[str, MonitorSpec]) -> dict[str, MonitorSpec]:
        for name in monitors:
            if not re.fullmatch(r"[\w .:-]+", name):
                raise ValueError(f"monitor name {name!r}: letters, digits, spaces, . : - _")
        return monitors

    def compiled(self) -> dict[str, Any]:
        """The JSON a deploy sends and stores: defaults filled in, nothing left implicit."""
        return self.model_dump(mode="json", exclude_none=True)
