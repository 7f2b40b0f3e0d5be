"""Seed 004's dashboard query endpoint, `POST /api/query`, answered by the GraphQL engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.errors import ValidationError
from domain.tracked_event import parse_timestamp
from interfaces.rest.deps import BeaconDep, ConsistentRead, readable_project
from interfaces.rest.representations import envelope, in_thread, iso
from projections import analytics_questions as questions
from projections.analytics_questions import check_limit, event_query, funnel_query
from projections.model import from_micros

router = APIRouter(tags=["analytics"])
Op = Literal["eq", "neq", "contains", "gt", "lt", "is_set", "is_not_set"]


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DateRange(Edge):
    start: str
    end: str


class Filter(Edge):
    key: str = Field(min_length=1, max_length=256)
    op: Op
    value: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        """Numbers and booleans compare in their JSON text form, as stored properties do."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if isinstance(value, int | float) else value

    def rule(self) -> questions.PropertyFilter:
        return questions.PropertyFilter(self.key, questions.FilterOp(self.op), self.value)


class Question(Edge):
    type: Literal["timeseries", "breakdown", "metric", "funnel"]
    projectId: str
    dateRange: DateRange
    event: str | None = None
    metric: Literal["count", "unique_actors", "sessions"] = "count"
    filter: Filter | None = None
    filters: list[Filter] = []
    interval: Literal["minute", "hour", "day", "week", "month"] = "hour"
    property: str | None = None
    limit: int = 25
    steps: list[str] | None = None
    windowSeconds: int = 14 * 86_400
    order: Literal["sequential", "strict", "any"] = "sequential"
    breakdown: str | None = None
    breakdownLimit: int = 25

    def rules(self) -> list[questions.PropertyFilter]:
        return [f.rule() for f in ([self.filter] if self.filter else []) + self.filters]

    def moments(self) -> tuple[datetime, datetime]:
        start, end = parse_timestamp(self.dateRange.start), parse_timestamp(self.dateRange.end)
        for name, moment in (("start", start), ("end", end)):
            if moment is None:
                raise questions.problem(f"dateRange.{name}", "must be an ISO 8601 datetime")
        return start, end  # type: ignore[return-value]


def _required(value: Any, name: str, kind: str) -> Any:
    if value is None:
        raise ValidationError(f"{name} is required for a {kind} query",
                              details=[{"field": name, "message": f"is required for {kind}"}])
    return value


def _steps(steps: list[questions.FunnelStep]) -> list[dict[str, Any]]:
    return [{"name": s.name, "count": s.count, "conversionRate": s.conversion_rate,
             "medianSecondsFromPrevious": s.median_seconds_from_previous} for s in steps]


def answer(beacon: Any, workspace_id: str, question: Question) -> Any:
    """The same numbers the GraphQL fields give, in the same shape."""
    start, end = question.moments()
    engine = beacon.analytics
    if question.type == "funnel":
        funnel = engine.funnel(funnel_query(
            workspace_id, _required(question.steps, "steps", "funnel"), start, end,
            window_seconds=question.windowSeconds, order=questions.FunnelOrder(question.order),
            filters=question.rules(), breakdown=question.breakdown,
            breakdown_limit=question.breakdownLimit))
        breakdowns = None if funnel.breakdowns is None else [
            {"value": b.value, "steps": _steps(b.steps)} for b in funnel.breakdowns]
        return {"steps": _steps(funnel.steps), "breakdowns": breakdowns}
    query = event_query(workspace_id, _required(question.event, "event", question.type), start, end,
                        questions.Metric(question.metric), question.rules())
    if question.type == "metric":
        return engine.metric(query)
    if question.type == "breakdown":
        rows = engine.breakdown(query, _required(question.property, "property", "breakdown"),
                                check_limit(question.limit))
        return [{"value": value, "count": count} for value, count in rows]
    points = engine.timeseries(query, questions.Interval(question.interval))
    return [{"bucket": iso(from_micros(bucket)), "value": value} for bucket, value in points]


@router.post("/api/query", dependencies=[ConsistentRead])
async def query(question: Question, request: Request, beacon: BeaconDep) -> dict:
    """Dashboard queries (seed 004): timeseries, breakdown, metric or funnel of one project,
    named by id or slug, for a read key or a member's session cookie."""
    workspace_id = await in_thread(readable_project, request, beacon, question.projectId)
    return envelope(await in_thread(answer, beacon, str(workspace_id), question))
