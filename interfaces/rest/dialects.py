"""Other ingestion dialects on the same engine: seed 002's async API and seed 004's `/ingest`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from application.telemetry import ACCEPTED, DUPLICATE, INVALID, new_event_id
from domain.tracked_event import MAX_PROPERTIES, check_event
from interfaces.rest.clients import event_contexts, request_client
from interfaces.rest.deps import BeaconDep, Ingester, authenticate
from interfaces.rest.errors import ApiError, BadRequest, FlatError, error_response
from interfaces.rest.ingest import (
    Refused,
    batch_body,
    check_and_admit,
    count_outcome,
    json_body,
    per_event,
    quota_error,
)
from interfaces.rest.representations import in_thread, mark_position
from interfaces.rest.tracking import PLAN_VIOLATION, PlanCheck

router = APIRouter(tags=["ingestion dialects"])
INGEST_MAX_EVENTS, INGEST_PER_MINUTE, INGEST_MAX_NAME = 100, 1000, 100


async def _ingest_async_dialect(request: Request, who: Any, beacon: Any,
                                raws: list[Any]) -> tuple[Any, int]:
    limit = who.workspace.monthly_event_limit or 0
    client = request_client(request, beacon.settings.trusted_proxies)
    _, outcome = await check_and_admit(
        beacon, who.workspace_id,
        lambda now: [check_event(raw, now, event_id=new_event_id(), anonymous=True) for raw in raws],
        limit=limit,
        identify=lambda checked: beacon.visitors.identify(who.workspace, client, checked,
                                                          event_contexts(raws, checked)))
    count_outcome(request, outcome)
    if outcome.quota_exhausted:
        raise quota_error(outcome, limit)
    return outcome, limit


@router.post("/api/v1/events", status_code=202)
async def track_one(request: Request, who: Ingester, beacon: BeaconDep) -> Response:
    """Seed 002: one event, accepted for asynchronous processing; its id is returned at once."""
    raw = await json_body(request)
    if not isinstance(raw, dict):
        raise BadRequest("the body must be one event object")
    outcome, _ = await _ingest_async_dialect(request, who, beacon, [raw])
    if outcome.statuses[0] in (INVALID, PLAN_VIOLATION):
        return error_response(422, "validation_error", "the event is not valid", outcome.errors[0])
    response = JSONResponse({"data": {"event_id": outcome.event_ids[0], "status": outcome.statuses[0]}},
                            status_code=202)
    mark_position(response)
    return response


@router.post("/api/v1/events/batch", status_code=202)
async def track_batch(request: Request, who: Ingester, beacon: BeaconDep) -> Response:
    """Seed 002: an array of events; 202 with the id and fate of each."""
    raws = await batch_body(request)
    outcome, _ = await _ingest_async_dialect(request, who, beacon, raws)
    if outcome.count(INVALID) == len(raws):
        return error_response(422, "validation_error", "no event in the batch is valid",
                              per_event(outcome))
    response = JSONResponse({"data": per_event(outcome), "accepted": outcome.count(ACCEPTED),
                             "duplicates": outcome.count(DUPLICATE),
                             "rejected": outcome.count(INVALID) + outcome.count(PLAN_VIOLATION)},
                            status_code=202)
    mark_position(response)
    return response


def _flat_error(status: int, message: str, **fields: Any) -> JSONResponse:
    headers = fields.pop("headers", None)
    return JSONResponse({"error": message, **fields}, status_code=status, headers=headers)


def _as_tracked(raw: Any, index: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Map a seed-004 event onto Beacon's event fields, with its own stricter rules."""
    if not isinstance(raw, dict):
        return None, [{"index": index, "field": "", "message": "must be an object"}]
    problems = []
    name = raw.get("event")
    if not isinstance(name, str) or not 1 <= len(name) <= INGEST_MAX_NAME:
        problems.append({"index": index, "field": "event", "message": "must be 1-100 characters"})
    if not isinstance(raw.get("sessionId"), str) or not raw["sessionId"]:
        problems.append({"index": index, "field": "sessionId", "message": "is required"})
    if not isinstance(raw.get("distinctId"), str) or not raw["distinctId"]:
        problems.append({"index": index, "field": "distinctId", "message": "is required"})
    properties = raw.get("properties")
    if not isinstance(properties, dict) or len(properties) > MAX_PROPERTIES:
        problems.append({"index": index, "field": "properties",
                         "message": f"must be an object of at most {MAX_PROPERTIES} keys"})
    return ({"category": "default", "name": name, "timestamp": raw.get("timestamp"),
             "actor_id": raw.get("distinctId"), "session_id": raw.get("sessionId"),
             "properties": properties}, problems)


def _checked(events: list[Any], now: datetime, problems: list[dict[str, Any]]) -> list[Any]:
    """Seed-004 events mapped and checked as Beacon's; what is wrong with them goes to
    `problems`."""
    mapped = [_as_tracked(raw, i) for i, raw in enumerate(events)]
    problems += [p for _, found in mapped for p in found]
    checked = []
    for index, (fields, _) in enumerate(mapped):
        result = check_event(fields, now, event_id=new_event_id(), session_is_uuid=False,
                             anonymous=True) if fields else []  # distinctId: _as_tracked
        if isinstance(result, list):
            problems += [{"index": index, **p} for p in result]
        checked.append(result)
    return checked


@router.post("/ingest", responses={status: {"model": FlatError, "description": "seed 004's shape"}
                                   for status in (400, 401, 402, 403, 429)})
async def ingest(request: Request, beacon: BeaconDep) -> Response:
    """Seed 004: a single event, an array (max 100) or an envelope {apiKey, events}."""
    try:
        body = await json_body(request)
    except BadRequest:
        return _flat_error(400, "Validation failed", details=[{"message": "body is not valid JSON"}])
    token = request.headers.get("x-api-key")
    if isinstance(body, dict) and "events" in body and "event" not in body:
        token = token or body.get("apiKey")
        body = body["events"]
    events = body if isinstance(body, list) else [body]
    try:
        who = await in_thread(authenticate, request, beacon, token, INGEST_PER_MINUTE)
        if not who.key.allows("ingest"):
            return _flat_error(403, "This key lacks the ingest scope")
    except ApiError as error:
        if error.status == 429:
            return _flat_error(429, "Rate limit exceeded", headers=error.headers)
        message = "Invalid API key" if error.status == 401 else error.message
        return _flat_error(error.status, message)
    if not events or len(events) > INGEST_MAX_EVENTS:
        return _flat_error(400, "Validation failed",
                           details=[{"message": f"send 1-{INGEST_MAX_EVENTS} events"}])
    limit = who.workspace.monthly_event_limit or 0
    client = request_client(request, beacon.settings.trusted_proxies)
    problems: list[dict[str, Any]] = []  # seed 004 admits a request whole or not at all

    def refusal(plan: PlanCheck) -> list[dict[str, Any]]:
        return problems + [{"index": index, **p} for index, found in plan.refused_problems()
                           for p in found]

    try:
        _, outcome = await check_and_admit(beacon, who.workspace_id,
                                           lambda now: _checked(events, now, problems),
                                           limit=limit, partial=False, refusal=refusal,
                                           identify=lambda checked: beacon.visitors.identify(
                                               who.workspace, client, checked,
                                               event_contexts(events, checked)))
    except Refused as refused:
        return _flat_error(400, "Validation failed", details=refused.problems)
    count_outcome(request, outcome)
    if outcome.quota_exhausted:
        return _flat_error(402, "Monthly event limit exceeded", code="EVENT_LIMIT_EXCEEDED",
                           limit=limit, used=outcome.used, remaining=outcome.remaining)
    response = JSONResponse({"success": True, "events": outcome.count(ACCEPTED)})
    mark_position(response)
    return response
