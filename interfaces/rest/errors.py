"""One error shape for Beacon's own endpoints, and one table from errors to status codes."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import errors as domain

log = logging.getLogger("beacon.http")


class ApiError(Exception):
    """An error raised at the edge (authentication, limits, malformed requests)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class PreconditionRequired(ApiError):
    status, code = 428, "precondition_required"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class ErrorEnvelope(BaseModel):
    """What every error of Beacon's own endpoints answers."""

    error: ErrorDetail


# Declared on every route, so the OpenAPI document says what a client can really get back.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": meaning} for status, meaning in (
        (400, "malformed request"), (401, "missing or unknown key"),
        (403, "the key lacks the scope, or the address is not allowed"),
        (404, "not found (another workspace's resources too)"), (405, "method not allowed"),
        (409, "conflict"), (410, "gone"), (412, "stale If-Match version"),
        (413, "body too large"), (415, "body is not JSON"), (422, "invalid request"),
        (428, "precondition required"), (429, "rate limited"),
        (503, "database unavailable, or a read model it needs behind; nothing was written"))}


class FlatError(BaseModel):
    """Seed 004's own error shape (`POST /ingest`): the message where the envelope has its
    object, and the limit's figures beside it when the month's quota is spent."""

    model_config = {"extra": "allow"}
    error: str


STATUS_OF_DOMAIN_ERROR: dict[type[domain.DomainError], int] = {
    domain.ValidationError: 422,
    domain.NotFoundError: 404,
    domain.AlreadyExistsError: 409,
    domain.ConflictError: 409,
    domain.GoneError: 410,
    domain.VersionMismatchError: 412,
    domain.QuotaExceededError: 402,
    domain.NotReadyError: 503,
}


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None,
               **extra: Any) -> dict:
    return {"error": {"code": code, "message": message, **extra, "details": details or []}}


def error_response(status: int, code: str, message: str,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(code, message, details, **extra), status_code=status,
                        headers=headers)


def status_of(error: domain.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF_DOMAIN_ERROR:
            return STATUS_OF_DOMAIN_ERROR[cls]
    return 400


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message, error.details,
                              error.headers)

    @app.exception_handler(domain.DomainError)
    async def domain_error(_: Request, error: domain.DomainError) -> JSONResponse:
        status = status_of(error)
        return error_response(status, error.code, error.message, error.details,
                              {"Retry-After": "5"} if status == 503 else None, **error.extra)

    @app.exception_handler(PersistenceError)
    async def database_unavailable(_: Request, error: PersistenceError) -> JSONResponse:
        log.warning("database error answered with 503: %s: %s", type(error).__name__, error)
        return error_response(503, "unavailable", "the database is unavailable; nothing was "
                              "written, retry the request", headers={"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        details = [{"field": _field(tuple(p.get("loc", ()))), "message": p.get("msg", "")}
                   for p in problems]
        return error_response(422, "validation_error", "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                 413: "payload_too_large"}
        message = error.detail if isinstance(error.detail, str) else "request failed"
        if error.status_code == 400 and "parsing the body" in message:
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        return error_response(error.status_code, codes.get(error.status_code, "error"), message,
                              headers=getattr(error, "headers", None))
