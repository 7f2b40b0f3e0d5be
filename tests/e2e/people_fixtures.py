"""Signing people in for the e2e tests: a user, their session cookie and CSRF header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon

PASSWORD = "correct horse battery"


@dataclass
class SignedInUser:
    """A user signed in on their own client (cookies are per client)."""

    client: TestClient
    email: str
    csrf: str

    def write(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def create_project(self, name: str, slug: str | None = None) -> dict[str, Any]:
        response = self.write("POST", "/api/projects",
                              json={"name": name, **({"slug": slug} if slug else {})})
        assert response.status_code == 201, response.text
        return dict(response.json()["data"])


def sign_in(beacon: Beacon, app: Any, email: str, password: str = PASSWORD,
            create: bool = True) -> SignedInUser:
    """A user (created unless told otherwise) signed in on a fresh https client."""
    if create:
        beacon.workspaces.create_user(email=email, password=password)
    client = TestClient(app, base_url="https://testserver")
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return SignedInUser(client=client, email=email, csrf=response.json()["data"]["csrf_token"])
