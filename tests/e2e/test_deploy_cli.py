"""`beacon deploy` run as a real command against a real server: sign in, dry run, deploy, list."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from interfaces.bootstrap import Beacon
from tests.conftest import settle
from tests.deploying import event

BEACON = str(Path(sys.executable).with_name("beacon"))
BEACON_YML = """\
tracking_plan:
  on_violation: reject
  events:
    signup_completed:
      properties:
        plan: {type: string, required: true, allowed: [free, pro]}
insights:
  signups: {type: timeseries, event: signup_completed}
pages:
  backend: {name: Backend status}
monitors:
  nightly backup: {period_seconds: 86400, page: backend}
alerts:
  backup down:
    condition: {type: monitor, trigger: down, monitor: nightly backup}
    channels: [{url: "https://93.184.216.34/beacon"}]
"""


def beacon_cli(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("BEACON_SECRET_KEY", None)
    return subprocess.run([BEACON, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=60, check=False, cwd=home)


def test_beacon_deploy_previews_then_deploys_beacon_yml(server: str, beacon: Beacon,
                                                        tmp_path: Path) -> None:
    user = beacon.workspaces.create_user(email="dev@example.com", password="correct horse battery")
    workspace, keys = beacon.workspaces.create_project(name="Shop", slug="shop", owner=user)
    public, secret = keys["public"][1], keys["secret"][1]
    _, code = beacon.workspaces.issue_cli_code(user.id)
    signed_in = beacon_cli("login", "--url", server, home=tmp_path, stdin=code + "\n")
    assert signed_in.returncode == 0, signed_in.stderr
    stored = httpx.post(f"{server}/v1/events", json=[event(plan="pro"), event(plan="gold")],
                        headers={"Authorization": f"Bearer {public}"})
    assert stored.json()["accepted"] == 2
    settle(beacon)
    (tmp_path / "beacon.yml").write_text(BEACON_YML)

    preview = beacon_cli("deploy", "--dry-run", "--key", secret, home=tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert "+ tracking_plan.events.signup_completed" in preview.stdout
    assert "+ monitors.nightly backup" in preview.stdout
    assert "1 of 2 stored events would have violated it" in preview.stdout
    assert "properties.plan: must be one of free, pro" in preview.stdout
    assert "version 0 stays in force" in preview.stdout

    deployed = beacon_cli("deploy", "--key", secret, home=tmp_path)
    assert deployed.returncode == 0, deployed.stderr
    assert "created page backend" in deployed.stdout
    assert "created monitor nightly backup (token, shown once: beet_" in deployed.stdout
    assert "alert backup down: channel https://93.184.216.34/beacon signs with whsec_" \
        in deployed.stdout
    assert "version 1 in force" in deployed.stdout
    refused = httpx.post(f"{server}/v1/events", json=[event(plan="gold")],
                         headers={"Authorization": f"Bearer {public}"})
    assert refused.json()["results"][0]["status"] == "plan_violation"

    listed = beacon_cli("deploys", "list", "--key", secret, home=tmp_path)
    assert listed.stdout.split()[:1] == ["1"] and "user:dev@example.com" in listed.stdout
    assert beacon_cli("deploy", "--key", secret, home=tmp_path).stdout.strip().endswith(
        "unchanged: version 1 stays in force")
    assert beacon.configuration.configuration(workspace.id).deployed_version == 1


def test_beacon_deploy_refuses_an_invalid_file_before_sending_anything(
        server: str, beacon: Beacon, tmp_path: Path) -> None:
    (tmp_path / "beacon.yml").write_text("tracking_plan:\n  on_violation: explode\n")
    failed = beacon_cli("deploy", "--key", "sk_live_" + uuid.uuid4().hex, home=tmp_path)
    assert failed.returncode == 2
    assert "beacon.yml: tracking_plan.on_violation" in failed.stderr
    (tmp_path / "beacon.yml").write_text(
        "alerts:\n  quiet:\n    condition: {type: threshold, event: signup, op: '<', value: 1,"
        " window_seconds: 5}\n    channels: [{url: 'https://93.184.216.34/b'}]\n")
    failed = beacon_cli("deploy", "--key", "sk_live_" + uuid.uuid4().hex, home=tmp_path)
    assert failed.returncode == 2
    assert "beacon.yml: alerts.quiet" in failed.stderr and "condition.window_seconds" in failed.stderr
    (tmp_path / "beacon.yml").write_text("pages: [unclosed\n")
    assert beacon_cli("deploy", "--key", "k", home=tmp_path).returncode == 2


def test_beacon_deploy_without_beacon_login_says_so(server: str, tmp_path: Path) -> None:
    (tmp_path / "beacon.yml").write_text("pages: {}\n")
    failed = beacon_cli("deploy", "--key", "sk_live_x", "--url", server, home=tmp_path)
    assert failed.returncode == 2 and "beacon login" in failed.stderr
