"""hypothesis-graphql against the strawberry schema, with a read key: any query the schema allows
is answered without an internal error (a 500, or an error entry masking an exception)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from interfaces.graphql.schema import build_schema

SCHEMA = str(build_schema())
# Beacon's scalars: moments (real ones, and any text) and JSON values (filters' operands).
MOMENTS = st.one_of(st.datetimes(timezones=st.timezones()).map(lambda at: at.isoformat()), st.text())
JSON_VALUES = st.one_of(st.text().map(nodes.String), st.integers().map(nodes.Int),
                        st.booleans().map(nodes.Boolean), st.just(nodes.Null))
SCALARS = {"DateTime": MOMENTS.map(nodes.String), "JSON": JSON_VALUES}


@given(query=queries(SCHEMA, custom_scalars=SCALARS))
@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_query_fails_inside(fuzzed_app: tuple[FastAPI, dict[str, dict]], query: str) -> None:
    app, credentials = fuzzed_app
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/graphql", json={"query": query}, headers=credentials["read"])
    assert response.status_code < 500, response.text
    errors = response.json().get("errors") or []
    internal = [e for e in errors if (e.get("extensions") or {}).get("code") == "internal_error"]
    assert not internal, (query, internal)
