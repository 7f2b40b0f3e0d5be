"""The SDK ingestion API (seed 000): batches of events, sessions, exception reports, usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from application.telemetry import ACCEPTED, DUPLICATE, INVALID, Outcome
from domain.enrichment import Client, context_client
from domain.errors import QuotaExceededError
from domain.exception_report import check_report
from domain.tracked_event import check_event, parse_timestamp
from interfaces.bootstrap import Beacon
from interfaces.rest.clients import event_contexts, request_client
from interfaces.rest.deps import AnyKey, BeaconDep, Ingester
from interfaces.rest.errors import BadRequest, PayloadTooLarge, error_response
from interfaces.rest.event_wire import MAX_BATCH, valid_batch
from interfaces.rest.representations import envelope, in_thread, iso, mark_position
from interfaces.rest.tracking import PlanCheck, check_plan, settle_plan

router = APIRouter(tags=["ingestion"])


def parse_json(body: bytes) -> Any:
    """orjson refuses nesting deeper than 1024 levels instead of recursing."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("the request body is not valid JSON") from None


async def json_body(request: Request) -> Any:
    return parse_json(await request.body())


def parse_batch(body: bytes) -> list[Any]:
    """A JSON array of 1-1000 events (more is 413, like an oversized body)."""
    batch = parse_json(body)
    if not isinstance(batch, list) or not batch:
        raise BadRequest(f"the body must be a JSON array of 1-{MAX_BATCH} events")
    if len(batch) > MAX_BATCH:
        raise PayloadTooLarge(f"a batch holds at most {MAX_BATCH} events, not {len(batch)}")
    return batch


async def batch_body(request: Request) -> list[Any]:
    return parse_batch(await request.body())


def quota_error(outcome: Outcome, limit: int) -> QuotaExceededError:
    return QuotaExceededError("the monthly event limit of this workspace's plan is reached",
                              limit=limit, used=outcome.used,
                              resets_at=iso(outcome.resets_at) or "")


def per_event(outcome: Outcome) -> list[dict[str, Any]]:
    return [{"index": i, "event_id": outcome.event_ids[i], "status": status,
             "errors": outcome.errors.get(i, [])} for i, status in enumerate(outcome.statuses)]


class Refused(Exception):
    """A request refused whole before its admission, with every problem found."""

    def __init__(self, problems: list[dict[str, Any]]):
        super().__init__("the request is not valid")
        self.problems = problems


Refusal = Callable[[PlanCheck], list[dict[str, Any]]]


async def check_and_admit(beacon: Beacon, workspace_id: UUID, check: Callable[[datetime], list[Any]],
                          *, limit: int, partial: bool = True,
                          refusal: Refusal | None = None,
                          identify: Callable[[list[Any]], dict[str, Any]] | None = None
                          ) -> tuple[list[Any], Outcome]:
    """`check` a request's events at the telemetry clock's now and against the tracking plan,
    then admit them, all in the thread that admits them: the event loop stays free to read the
    next bodies, and the admission does not wait for the loop to hand its GIL back after each
    check (docs/performance-history.md). Where `refusal` finds problems, the request is
    `Refused` whole instead."""

    def checked_and_admitted() -> tuple[list[Any], Outcome]:
        checked = check(beacon.telemetry.clock())
        plan = check_plan(beacon, workspace_id, checked)
        problems = [] if refusal is None else refusal(plan)
        if problems:
            settle_plan(beacon, workspace_id, plan, None)  # refused whole: counted
            raise Refused(problems)
        kept = None if identify is None else identify(checked)  # visitor ids, the kept client
        outcome = beacon.telemetry.ingest(workspace_id, checked, limit=limit, partial=partial,
                                          client=kept)
        settle_plan(beacon, workspace_id, plan, outcome)
        return checked, outcome

    return await in_thread(checked_and_admitted)


def count_outcome(request: Request, outcome: Outcome, kind: str = "event") -> None:
    metrics = request.app.state.metrics
    metrics.events_accepted.labels(kind).inc(outcome.count(ACCEPTED))
    for status in set(outcome.statuses) - {ACCEPTED}:
        metrics.events_refused.labels(kind, status).inc(outcome.count(status))


@router.post("/v1/events", responses={207: {"description": "Some events refused"}})
async def track_events(request: Request, who: Ingester, beacon: BeaconDep) -> Response:
    """Track a batch of 1-1000 events; every event is accepted, a duplicate, or refused with why."""
    body = await request.body()
    limit = who.workspace.monthly_event_limit or 0
    client = request_client(request, beacon.settings.trusted_proxies)
    contexts: dict[str, Client] = {}

    def check(now: datetime) -> list[Any]:
        checked: list[Any] | None = valid_batch(body, now, contexts)
        if checked is None:  # something is wrong: check event by event, to say what
            raws = parse_batch(body)
            checked = [check_event(raw, now) for raw in raws]
            contexts.clear()
            contexts.update(event_contexts(raws, checked))
        return checked

    checked, outcome = await check_and_admit(
        beacon, who.workspace_id, check, limit=limit,
        identify=lambda checked: beacon.visitors.identify(who.workspace, client, checked, contexts))
    count_outcome(request, outcome)
    if outcome.quota_exhausted:
        raise quota_error(outcome, limit)
    if outcome.count(INVALID) == len(checked):
        return error_response(400, "validation_error", "no event in the batch is valid",
                              per_event(outcome))
    accepted, duplicates = outcome.count(ACCEPTED), outcome.count(DUPLICATE)
    if accepted + duplicates == len(checked):
        response = JSONResponse({"accepted": accepted, "duplicates": duplicates, "rejected": 0})
    else:
        response = JSONResponse({"results": per_event(outcome), "accepted": accepted,
                                 "duplicates": duplicates,
                                 "rejected": len(checked) - accepted - duplicates}, status_code=207)
    mark_position(response)
    return response


def _session_json(session: Any) -> dict[str, Any]:
    return {key: iso(value) if key in ("started_at", "ended_at") else value
            for key, value in session.describe().items()}


def _required(body: Any, fields: tuple[str, ...], timestamps: tuple[str, ...]) -> dict[str, Any]:
    """Check a small SDK body by hand: required strings present, timestamps parseable."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    problems = [{"field": f, "message": "is required and must be a non-empty string (max 512)"}
                for f in fields if not isinstance(body.get(f), str) or not body[f] or len(body[f]) > 512]
    values = {f: body.get(f) for f in fields}
    for field in timestamps:
        values[field] = parse_timestamp(body.get(field))
        if values[field] is None:
            problems.append({"field": field, "message": "must be an ISO 8601 datetime"})
    if isinstance(values.get("session_id"), str):
        try:
            values["session_id"] = str(UUID(values["session_id"]))
        except ValueError:
            problems.append({"field": "session_id", "message": "must be a UUID"})
    if problems:
        raise BadRequest("the request is not valid", details=problems)
    return values


@router.post("/v1/events/sessions")
async def start_session(request: Request, who: Ingester, beacon: BeaconDep) -> Response:
    """Start a session; starting the same session again is harmless."""
    body = _required(await json_body(request), ("session_id", "actor_id", "source_app", "source_version"),
                     ("started_at",))
    existed = await in_thread(beacon.telemetry.sessions_started, who.workspace_id,
                                      body["session_id"])
    session = await in_thread(beacon.telemetry.start_session, who.workspace_id, **body)
    response = JSONResponse(envelope(_session_json(session)), status_code=200 if existed else 201)
    mark_position(response)
    return response


@router.post("/v1/events/sessions/end")
async def end_session(request: Request, who: Ingester, beacon: BeaconDep) -> Response:
    """End a session: once; the same end again is 200, a different one 409."""
    body = _required(await json_body(request), ("session_id", "end_reason"), ("ended_at",))
    session = await in_thread(beacon.telemetry.end_session, who.workspace_id, **body)
    response = JSONResponse(envelope(_session_json(session)))
    mark_position(response)
    return response


@router.post("/v1/events/exceptions")
async def report_exception(request: Request, who: Ingester, beacon: BeaconDep) -> Response:
    """Report an exception; its fingerprint groups it with the same bug."""
    raw = await json_body(request)
    checked = check_report(raw, beacon.telemetry.clock())
    if isinstance(checked, list):
        raise BadRequest("the exception report is not valid", details=checked)
    limit = who.workspace.monthly_event_limit or 0
    client = request_client(request, beacon.settings.trusted_proxies)

    def identify_and_report() -> Any:
        kept = beacon.visitors.identify_report(who.workspace, client, checked, context_client(raw))
        return beacon.telemetry.report_exception(who.workspace_id, checked, limit=limit, client=kept)

    report, new = await in_thread(identify_and_report)
    request.app.state.metrics.events_accepted.labels("exception").inc(int(new))
    response = JSONResponse({"exception_id": report.exception_id, "status": "accepted",
                             "fingerprint": report.fingerprint})
    mark_position(response)
    return response


@router.get("/api/v1/usage")
def usage(who: AnyKey, beacon: BeaconDep) -> dict:
    """This month's event quota: limit, used, remaining, and how many were refused."""
    return envelope(beacon.telemetry.usage(who.workspace_id, who.workspace.monthly_event_limit or 0))
