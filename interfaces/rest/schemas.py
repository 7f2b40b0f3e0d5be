"""Request bodies at the edge. They validate and nothing more; they never double as events."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

Plan = Literal["free", "starter", "pro", "enterprise"]
Scope = Literal["ingest", "write", "read", "deploy", "manage"]
Impact = Literal["none", "minor", "major", "critical"]
State = Literal["investigating", "identified", "monitoring", "resolved"]
Title = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=False)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Message = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
# component id → the status the incident gives it (checked against the page by the application)
AffectedComponents = Annotated[dict[str, str], Field(max_length=100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    @model_validator(mode="before")
    @classmethod
    def _no_explicit_nulls(cls, data: Any) -> Any:
        """A field sent as null is an error, not 'leave unchanged' (omit it for that)."""
        if isinstance(data, dict):
            nulls = [k for k, v in data.items()
                     if v is None and k in cls.model_fields and not cls._nullable(k)]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} may not be null")
        return data

    @classmethod
    def _nullable(cls, field: str) -> bool:
        return field in getattr(cls, "nullable", ())

    def given(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set}


class AlertRule(Body):
    """What an alert rule is, in `POST /api/v1/alerts` and in beacon.yml's `alerts` alike (the
    domain checks the condition and channels: `domain.alert`)."""

    condition: dict[str, Any]
    channels: list[dict[str, Any]]
    cooldown_seconds: int = 300
    description: str | None = None  # what it means, what to do: sent with its webhooks


class WorkspaceCreate(Body):
    name: Name
    plan: Plan = "free"
    slug: Annotated[str, StringConstraints(
        pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")] | None = None


class WorkspaceUpdate(Body):
    plan: Plan | None = None
    monthly_event_limit: Annotated[int, Field(ge=0, strict=True)] | None = None
    rate_limit_per_minute: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] | None = None
    ip_allowlist: Annotated[list[str], Field(max_length=256)] | None = None
    store_ip: Annotated[bool, Field(strict=True)] | None = None


class KeyCreate(Body):
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=5)]


class PageCreate(Body):
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    name: Name


class IncidentCreate(Body):
    title: Title
    impact: Impact = "none"
    state: State = "investigating"
    message: Message | None = None
    components: AffectedComponents | None = None
    started_at: AwareDatetime | None = None  # backdates when it began (and its components)
    nullable: ClassVar[tuple[str, ...]] = ("message",)


class IncidentUpdate(Body):
    title: Title | None = None
    impact: Impact | None = None
    state: State | None = None
    resolved: StrictBool | None = None
    components: AffectedComponents | None = None


class UpdateCreate(Body):
    message: Message
