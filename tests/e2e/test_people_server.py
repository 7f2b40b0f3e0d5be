"""Sign-in through a real server over real HTTP: cookie attributes, CSRF, login throttling with
the same answer for unknown and known emails, and `beacon login` run as a real command."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from interfaces.bootstrap import Beacon
from tests.e2e.people_fixtures import PASSWORD

BEACON = str(Path(sys.executable).with_name("beacon"))


def client_from(server: str, address: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections come from `address` (any 127.x address is this machine). Each
    sign-in costs an Argon2 verification (64 MiB): the generous timeout is for a loaded CI box,
    where one request once waited past 30 s behind the projection threads."""
    return httpx.Client(base_url=server, timeout=120,
                        transport=httpx.HTTPTransport(local_address=address))


def login(api: httpx.Client, email: str, password: str) -> httpx.Response:
    return api.post("/api/auth/login", json={"email": email, "password": password})


@pytest.fixture
def ann(beacon: Beacon) -> str:
    beacon.workspaces.create_user(email="ann@example.com", password=PASSWORD)
    return "ann@example.com"


def session_headers(response: httpx.Response) -> dict[str, str]:
    """The cookies a browser would send back (set by hand: they are Secure, and this is http)."""
    cookies = "; ".join(f"{k}={v}" for k, v in response.cookies.items())
    return {"Cookie": cookies}


def test_the_session_cookie_is_httponly_secure_and_lax(server: str, ann: str) -> None:
    with client_from(server) as api:
        response = login(api, ann, PASSWORD)
    assert response.status_code == 200
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    assert {"httponly", "secure", "samesite=lax"} <= {
        part.strip() for part in cookies["beacon_session"].split(";")}
    assert "httponly" not in cookies["beacon_csrf"] and "secure" in cookies["beacon_csrf"]


def test_cookie_writes_without_the_csrf_header_are_refused(server: str, ann: str) -> None:
    with client_from(server) as api:
        signed_in = login(api, ann, PASSWORD)
        cookies = session_headers(signed_in)
        csrf = signed_in.cookies["beacon_csrf"]
        refused = api.post("/api/projects", json={"name": "Acme"}, headers=cookies)
        accepted = api.post("/api/projects", json={"name": "Acme"},
                            headers={**cookies, "X-CSRF-Token": csrf})
        me = api.get("/api/auth/me", headers=cookies)
    assert refused.status_code == 403
    assert accepted.status_code == 201
    assert [p["slug"] for p in me.json()["data"]["projects"]] == ["acme"]


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(server: str, ann: str) -> None:
    with client_from(server) as api:
        wrong = login(api, ann, "not the password")
        unknown = login(api, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers


def test_ten_failures_lock_the_account_from_every_address(server: str, ann: str) -> None:
    with client_from(server, "127.0.0.1") as first, client_from(server, "127.0.0.2") as second:
        for _ in range(10):
            assert login(first, ann, "not the password").status_code == 401
        locked = login(first, ann, PASSWORD)
        elsewhere = login(second, ann, PASSWORD)
        unknown_locked = [login(second, "nobody@example.com", "x" * 12) for _ in range(11)][-1]
    assert locked.status_code == elsewhere.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert unknown_locked.status_code == 429  # an unknown email is throttled alike
    assert unknown_locked.json() == locked.json()


def test_ten_failures_from_one_address_lock_that_address(server: str, ann: str) -> None:
    with client_from(server, "127.0.0.1") as first, client_from(server, "127.0.0.3") as other:
        for n in range(10):
            assert login(first, f"guess{n}@example.com", "not the password").status_code == 401
        assert login(first, ann, PASSWORD).status_code == 429
        assert login(other, ann, PASSWORD).status_code == 200


def beacon_cli(*args: str, config: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([BEACON, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def test_beacon_login_stores_a_private_token_that_projects_and_logout_use(
        server: str, ann: str, tmp_path: Path) -> None:
    with client_from(server) as api:
        signed_in = login(api, ann, PASSWORD)
        code = api.post("/api/cli/tokens", headers={
            **session_headers(signed_in), "X-CSRF-Token": signed_in.cookies["beacon_csrf"]})
    assert code.status_code == 201

    logged_in = beacon_cli("login", "--url", server, config=tmp_path,
                           stdin=code.json()["data"]["token"] + "\n")
    assert logged_in.returncode == 0, logged_in.stderr
    stored = tmp_path / "beacon" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    created = beacon_cli("projects", "create", "CLI Project", config=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "pk_live_" in created.stdout and "sk_live_" in created.stdout
    listed = beacon_cli("projects", "list", config=tmp_path)
    assert listed.stdout.split("\t")[:2] == ["cli-project", "owner"]

    again = beacon_cli("login", "--url", server, config=tmp_path,
                       stdin=code.json()["data"]["token"] + "\n")
    assert again.returncode == 1 and "400" in again.stderr  # the code was used

    token = stored.read_text()
    assert beacon_cli("logout", config=tmp_path).returncode == 0
    assert not stored.exists()
    access = httpx.get(f"{server}/api/projects", headers={
        "Authorization": f"Bearer {httpx.Response(200, content=token).json()['token']}"})
    assert access.status_code == 401  # logout revoked the token, not only forgot it
    assert beacon_cli("projects", "list", config=tmp_path).returncode == 1
