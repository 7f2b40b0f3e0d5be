"""Strange values where the OpenAPI document cannot send them: the credentials and Beacon's own
headers, with non-ASCII, control and separator characters. Each is a 4xx with the error
envelope (or seed 004's shape on /ingest), never a 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# What can travel in an HTTP header: any byte but CR, LF and NUL, as latin-1 text.
HEADER_TEXT = st.text(st.characters(min_codepoint=1, max_codepoint=255, exclude_characters="\r\n"),
                      max_size=40).map(str.strip)
HEADERS = ("Authorization", "X-API-Key", "X-Beacon-Min-Position", "If-Match")
ROUTES = (("GET", "/api/v1/usage"), ("PATCH", "/api/v1/incidents/00000000-0000-0000-0000-000000000000"),
          ("POST", "/ingest"), ("GET", "/admin/v1/workspaces/x"), ("POST", "/graphql"),
          ("GET", "/api/v1/exports/x/file?expires=1&signature=%C3%A9"))


@given(name=st.sampled_from(HEADERS), value=HEADER_TEXT, scheme=st.sampled_from(["", "Bearer "]),
       route=st.sampled_from(ROUTES))
@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_a_strange_header_is_a_client_error(fuzzed_app: tuple[FastAPI, dict[str, dict]],
                                            name: str, value: str, scheme: str,
                                            route: tuple[str, str]) -> None:
    app, credentials = fuzzed_app
    method, path = route
    headers = {**credentials["write"], name: (scheme + value).encode("latin-1")}
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.request(method, path, headers=headers, json={"query": "{ usage { used } }"})
    assert response.status_code < 500, (name, value, response.text)
    if response.status_code >= 400:
        assert "error" in response.json()
