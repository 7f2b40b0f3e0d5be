"""A project's tracking plan: which events it expects, with which properties, and what a
violation costs the event (accepted and flagged, or refused)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FLAG, REJECT = "flag", "reject"
POLICIES = (FLAG, REJECT)
TYPES = ("string", "number", "integer", "boolean", "object", "array")


def _is(kind: str, value: Any) -> bool:
    """Whether a JSON value is of a plan's property type (a boolean is never a number)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


@dataclass(frozen=True)
class PropertyRule:
    """What one property of a planned event must be."""

    type: str | None = None
    required: bool = False
    allowed: tuple[Any, ...] = ()

    def problem(self, value: Any) -> str | None:
        if self.type is not None and not _is(self.type, value):
            return f"must be of type {self.type}"
        if self.allowed and value not in self.allowed:
            return f"must be one of {', '.join(map(str, self.allowed))}"
        return None


@dataclass(frozen=True)
class EventRule:
    properties: Mapping[str, PropertyRule] = field(default_factory=dict)
    additional_properties: bool = True


@dataclass(frozen=True)
class TrackingPlan:
    """The plan in force for a project, as of a deploy's `version`."""

    version: int
    events: Mapping[str, EventRule]
    on_violation: str = FLAG
    unplanned_events: str = "allow"  # "allow" or "violate": events the plan does not name

    @property
    def rejects(self) -> bool:
        return self.on_violation == REJECT

    @property
    def checks_nothing(self) -> bool:
        return not self.events and self.unplanned_events != "violate"

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None, version: int) -> TrackingPlan | None:
        """The plan a compiled config describes (None when it has none)."""
        if not document:
            return None
        events = {
            name: EventRule(
                properties={prop: PropertyRule(type=rule.get("type"),
                                               required=bool(rule.get("required", False)),
                                               allowed=tuple(rule.get("allowed") or ()))
                            for prop, rule in (spec.get("properties") or {}).items()},
                additional_properties=bool(spec.get("additional_properties", True)))
            for name, spec in (document.get("events") or {}).items()}
        return cls(version=version, events=events,
                   on_violation=document.get("on_violation", FLAG),
                   unplanned_events=document.get("unplanned_events", "allow"))

    def violations(self, name: str, properties: Mapping[str, Any] | None) -> list[dict[str, str]]:
        """What is wrong with an event of this name and properties under the plan (empty: none)."""
        rule = self.events.get(name)
        if rule is None:
            if self.unplanned_events == "violate":
                return [{"field": "name", "message": f"event {name!r} is not in the tracking plan"}]
            return []
        properties = properties or {}
        found = []
        for prop, expected in rule.properties.items():
            if prop not in properties:
                if expected.required:
                    found.append({"field": f"properties.{prop}", "message": "is required"})
                continue
            problem = expected.problem(properties[prop])
            if problem:
                found.append({"field": f"properties.{prop}", "message": problem})
        if not rule.additional_properties:
            found += [{"field": f"properties.{prop}", "message": "is not in the tracking plan"}
                      for prop in properties if prop not in rule.properties]
        return found
