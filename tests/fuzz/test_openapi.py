"""Schemathesis against Beacon's own /openapi.json: every operation, with each key scope and the
admin token, so the fuzzer gets past authentication. No answer is a 5xx, and every answer is
one the document declares (status code, content type, body shape)."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings, strategies
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 20  # a bound per operation (each example is tried with every credential)
STATUSES: dict[int, int] = {}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def fuzz(operation: Any, credentials: dict[str, dict]) -> None:
    # Valid requests and invalid ones: wrong types, strange strings in paths, queries, headers.
    cases = strategies.one_of(*(operation.as_strategy(mode) for mode in GenerationMode))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def every_credential(case: Any) -> None:
        for credential in credentials.values():
            response = case.call(headers={**(case.headers or {}), **credential})
            STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
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
        except (AssertionError, BaseExceptionGroup) as failure:  # every operation's, together
            failures.append(f"{operation.label}: {failure}")
    assert {200, 201} <= set(STATUSES)  # the credentials got the fuzzer past authentication
    assert not failures, "\n\n".join(failures)
