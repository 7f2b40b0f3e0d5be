"""Schemathesis against Beacon's own /openapi.json: every operation, with each key scope and the
admin token, so the fuzzer gets past authentication. No answer is a 5xx, and every answer is
one the document declares (status code, content type, body shape)."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = 6  # a bound per operation (each example is tried with every credential)
CHECKS = [not_a_server_error, response_schema_conformance]


def fuzz(operation: Any, credentials: dict[str, dict]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def every_credential(case: Any) -> None:
        for credential in credentials.values():
            response = case.call(headers={**(case.headers or {}), **credential})
            case.validate_response(response, checks=CHECKS)

    every_credential()


def test_no_operation_fails_or_answers_off_its_document(
        fuzzed_app: tuple[FastAPI, dict[str, dict]]) -> None:
    app, credentials = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # the whole API, not a part of it
    for operation in operations:
        try:
            fuzz(operation, credentials)
        except Exception as failure:  # noqa: BLE001 - every operation's, reported together
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)
