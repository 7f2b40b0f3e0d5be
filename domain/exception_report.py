"""Exception reports and their fingerprints: the same bug groups together, a different one does not."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import namespaced_id
from domain.tracked_event import MAX_DEPTH, MAX_FUTURE, check_properties, depth_of, parse_timestamp

SEVERITIES = ("fatal", "non_fatal")
MAX_MESSAGE, MAX_STACK, MAX_BREADCRUMBS, MAX_TYPE = 1000, 32_768, 100, 256

# What varies between occurrences of one bug and must not split its group.
_VOLATILE = [
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<addr>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\bline \d+"), "line <n>"),
    (re.compile(r"(\.\w+):\d+(?::\d+)?"), r"\1:<n>"),  # file.py:12 and file.js:12:7
    (re.compile(r"\b\d+\b"), "<n>"),  # standalone numbers, never digits inside identifiers
]


def normalise_frame(line: str) -> str:
    text = line.strip()
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def fingerprint(exception_type: str, stack_trace: str | None, message: str | None) -> str:
    """Same type and same normalised frames give the same fingerprint; line numbers, addresses,
    hex ids and numbers in the message never matter. Without frames, the normalised message does."""
    frames = [normalise_frame(line) for line in (stack_trace or "").splitlines() if line.strip()]
    basis = "\n".join(frames) if frames else normalise_frame(message or "")
    return hashlib.sha256(f"{exception_type}\n{basis}".encode()).hexdigest()[:32]


def report_key(workspace_id: UUID, exception_id: str) -> UUID:
    return namespaced_id(workspace_id, "exception", exception_id)


class ExceptionReport(Aggregate):
    """One reported exception; its id makes a repeated report a no-op."""

    def __init__(self, workspace_id: UUID, exception_id: str, fingerprint: str,
                 report: dict[str, Any], client: dict[str, Any] | None = None):
        self.workspace_id = workspace_id
        self.exception_id = exception_id
        self.fingerprint = fingerprint
        self.report = report

    class Reported(Aggregate.Created):
        workspace_id: UUID
        exception_id: str
        fingerprint: str
        report: dict[str, Any]  # the validated fields, timestamps as ISO 8601 strings
        # Who sent it, as kept (as EventBatch.Accepted.client); absent before 2026-12-04.
        client: dict[str, Any] | None

    @classmethod
    def receive(cls, *, workspace_id: UUID, exception_id: str, report: dict[str, Any],
                at: datetime, client: dict[str, Any] | None = None) -> ExceptionReport:
        return cls._create(
            cls.Reported, id=report_key(workspace_id, exception_id), timestamp=at,
            workspace_id=workspace_id, exception_id=exception_id,
            fingerprint=fingerprint(report["exception_type"], report.get("stack_trace"),
                                    report.get("message")),
            report=report, client=client)


def check_report(raw: object, now: datetime) -> dict[str, Any] | list[dict[str, str]]:
    """The validated fields of an exception report (seed 000), or what is wrong with them."""
    if not isinstance(raw, dict):
        return [{"field": "", "message": "the report must be a JSON object"}]
    errors: list[dict[str, str]] = []

    def text(field: str, limit: int, required: bool = True) -> str | None:
        value = raw.get(field)
        if value is None:
            if required:
                errors.append({"field": field, "message": "is required"})
            return None
        if not isinstance(value, str) or (required and not value) or len(value) > limit:
            errors.append({"field": field, "message": f"must be a string of at most {limit} characters"})
            return None
        return value

    report: dict[str, Any] = {
        "exception_id": text("exception_id", 128), "exception_type": text("exception_type", MAX_TYPE),
        "actor_id": text("actor_id", 512), "source_app": text("source_app", 256),
        "source_version": text("source_version", 256), "message": text("message", MAX_MESSAGE, False),
        "stack_trace": text("stack_trace", MAX_STACK, False), "session_id": text("session_id", 128, False),
    }
    if raw.get("severity") not in SEVERITIES:
        errors.append({"field": "severity", "message": "must be fatal or non_fatal"})
    report["severity"] = raw.get("severity")
    occurred_at = parse_timestamp(raw.get("occurred_at"))
    if occurred_at is None:
        errors.append({"field": "occurred_at", "message": "must be an ISO 8601 datetime"})
    elif occurred_at - now > MAX_FUTURE:
        errors.append({"field": "occurred_at", "message": "is more than 24 hours in the future"})
    report["occurred_at"] = occurred_at.isoformat() if occurred_at else None
    breadcrumbs = raw.get("breadcrumbs")
    if breadcrumbs is not None and (not isinstance(breadcrumbs, list) or len(breadcrumbs) > MAX_BREADCRUMBS
                                    or depth_of(breadcrumbs) > MAX_DEPTH + 1):
        errors.append({"field": "breadcrumbs",
                       "message": f"must be an array of at most {MAX_BREADCRUMBS} entries, "
                                  f"each nesting at most {MAX_DEPTH} levels"})
    report["breadcrumbs"] = breadcrumbs
    context_errors: list[dict[str, str]] = []
    report["environment_context"] = check_properties(raw.get("environment_context"), context_errors)
    errors += [{**e, "field": "environment_context"} for e in context_errors]
    return errors or report
