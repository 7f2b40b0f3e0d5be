"""An alert rule's channels: `POST /api/v1/alerts/{id}/test` sends each a signed `alert.test`
through the outbox without changing the rule, `GET /{id}/deliveries` (and GraphQL) shows what
became of every webhook, attempt by attempt, and a change keeps the channels it names by id (their
secrets and deliveries), with a real receiver."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Beacon
from tests.conftest import FakeClock, Tenant, make_tenant, settle
from tests.e2e.test_alerts import SECRET, create, evaluate, history, track
from tests.receiver import Receiver


def send_test(client: TestClient, tenant: Tenant, alert_id: str) -> list[dict[str, Any]]:
    response = client.post(f"/api/v1/alerts/{alert_id}/test", headers=tenant.headers("write"))
    assert response.status_code == 202, response.text
    return list(response.json()["data"]["deliveries"])


def deliver(beacon: Beacon) -> None:
    """What the worker does within seconds: project the request, then sweep the outbox."""
    settle(beacon)
    beacon.alert_webhooks.sweep(beacon.alert_webhooks.deliver)


def deliveries(client: TestClient, tenant: Tenant, alert_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/alerts/{alert_id}/deliveries", headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_a_test_message_reaches_every_channel_signed_and_changes_nothing_else(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    with Receiver() as receiver:
        alert = create(clocked_client, tenant_on_clock, receiver.url)
        muted = clocked_client.post(f"/api/v1/alerts/{alert['id']}/mute",
                                    headers=tenant_on_clock.headers("write"),
                                    json={"until": "2026-04-05T00:00:00Z"})
        assert muted.status_code == 200, muted.text
        before = history(clocked_client, tenant_on_clock, alert["id"])
        sent = send_test(clocked_client, tenant_on_clock, alert["id"])
        deliver(clocked_beacon)
        assert receiver.wait_for_deliveries({d["id"] for d in sent})

    assert [d["channel_id"] for d in sent] == [c["id"] for c in alert["channels"]]
    [message] = receiver.received
    assert message.signed_with(SECRET)  # muted or not: it was asked for
    assert message.headers["x-beacon-event"] == "alert.test"
    assert message.json["type"] == "alert.test" and message.json["test"] is True
    assert message.json["alert"]["id"] == alert["id"] and message.json["value"] is None
    assert history(clocked_client, tenant_on_clock, alert["id"]) == before  # no state change
    [channel] = deliveries(clocked_client, tenant_on_clock, alert["id"])
    assert channel["url"] == receiver.url
    [shown] = channel["deliveries"]
    assert shown["id"] == sent[0]["id"] and shown["type"] == "alert.test"
    assert shown["status"] == "delivered" and shown["attempts"][0]["status_code"] == 200


def test_deliveries_show_each_attempt_of_a_failing_channel_beside_the_firing(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    with Receiver(statuses=[503]) as receiver:
        alert = create(clocked_client, tenant_on_clock, receiver.url)
        send_test(clocked_client, tenant_on_clock, alert["id"])
        deliver(clocked_beacon)
        track(clocked_client, tenant_on_clock, clock, 3)
        evaluate(clocked_beacon)
        assert receiver.wait_for_requests(2)

    [channel] = deliveries(clocked_client, tenant_on_clock, alert["id"])
    fired, tested = channel["deliveries"]  # newest first
    assert (fired["type"], fired["status"]) == ("alert.fired", "delivered")
    assert (tested["type"], tested["status"]) == ("alert.test", "pending")
    assert tested["attempts"][0]["status_code"] == 503 and tested["next_attempt_at"]
    assert tested["attempts"][0]["error"] == "HTTP 503"

    query = """query($id: ID!) { alert(id: $id) { channels { url deliveries(first: 5) {
      type status attempts { attempt statusCode error } } } } }"""
    answer = clocked_client.post("/graphql", headers=tenant_on_clock.headers("read"), json={
        "query": query, "variables": {"id": alert["id"]}}).json()
    assert "errors" not in answer, answer
    shown = answer["data"]["alert"]["channels"][0]["deliveries"]
    assert [(d["type"], d["status"]) for d in shown] == [("alert.fired", "delivered"),
                                                         ("alert.test", "pending")]
    assert shown[1]["attempts"] == [{"attempt": 1, "statusCode": 503, "error": "HTTP 503"}]


def test_testing_needs_a_write_key_of_the_rules_workspace_and_a_live_rule(
        clocked_client: TestClient, tenant_on_clock: Tenant) -> None:
    alert = create(clocked_client, tenant_on_clock, "https://93.184.216.34/hook")
    path = f"/api/v1/alerts/{alert['id']}"
    assert clocked_client.post(f"{path}/test", headers=tenant_on_clock.headers("read")
                               ).status_code == 403
    other = make_tenant(clocked_client, name="Other", slug="other-co")
    assert clocked_client.post(f"{path}/test", headers=other.headers("write")).status_code == 404
    assert clocked_client.get(f"{path}/deliveries", headers=other.headers("read")
                              ).status_code == 404
    assert clocked_client.delete(path, headers=tenant_on_clock.headers("write")).status_code == 204
    assert clocked_client.post(f"{path}/test", headers=tenant_on_clock.headers("write")
                               ).status_code == 404
    assert clocked_client.post("/api/v1/alerts/not-an-id/test",
                               headers=tenant_on_clock.headers("write")).status_code == 404


def change_channels(client: TestClient, tenant: Tenant, alert_id: str,
                    channels: list[dict[str, Any]]) -> Any:
    return client.patch(f"/api/v1/alerts/{alert_id}", headers=tenant.headers("write"),
                        json={"channels": channels})


def test_a_change_keeps_the_channels_it_names_by_id_with_their_secrets_and_deliveries(
        clocked_client: TestClient, clocked_beacon: Beacon, tenant_on_clock: Tenant,
        clock: FakeClock) -> None:
    client, tenant = clocked_client, tenant_on_clock
    with Receiver() as receiver:
        alert = create(client, tenant, f"{receiver.url}/kept")
        [kept] = alert["channels"]
        first_test = send_test(client, tenant, alert["id"])
        changed = change_channels(client, tenant, alert["id"], [
            {"id": kept["id"]}, {"type": "webhook", "url": f"{receiver.url}/added"}])
        assert changed.status_code == 200, changed.text
        shown, added = changed.json()["data"]["channels"]
        assert shown == {"id": kept["id"], "type": "webhook", "url": f"{receiver.url}/kept"}
        assert added["url"] == f"{receiver.url}/added" and len(added["secret"]) >= 16
        sent = send_test(client, tenant, alert["id"])
        deliver(clocked_beacon)
        assert receiver.wait_for_deliveries({d["id"] for d in first_test + sent})
        # A kept channel's URL may move; its secret stays unless one is given.
        moved = change_channels(client, tenant, alert["id"], [
            {"id": kept["id"], "url": f"{receiver.url}/moved"}, {"id": added["id"]}])
        assert moved.status_code == 200, moved.text
        assert [c.get("secret") for c in moved.json()["data"]["channels"]] == [None, None]
        moved_test = send_test(client, tenant, alert["id"])
        deliver(clocked_beacon)
        assert receiver.wait_for_deliveries({d["id"] for d in moved_test})

    by_path: dict[str, list[Any]] = {}
    for message in receiver.received:
        by_path.setdefault(message.path.rsplit("/", 1)[-1], []).append(message)
    assert len(by_path["kept"]) == 2 and all(m.signed_with(SECRET) for m in by_path["kept"])
    assert len(by_path["added"]) == 2
    assert all(m.signed_with(added["secret"]) for m in by_path["added"])
    [at_new_url] = by_path["moved"]
    assert at_new_url.signed_with(SECRET)
    # The kept channel's deliveries are still its own: both tests and the one after the move.
    channels = {c["id"]: c for c in deliveries(client, tenant, alert["id"])}
    assert len(channels[kept["id"]]["deliveries"]) == 3
    assert channels[kept["id"]]["url"] == f"{receiver.url}/moved"


def test_a_change_naming_a_channel_the_rule_does_not_have_is_refused_and_writes_nothing(
        client: TestClient, tenant: Tenant, beacon: Beacon) -> None:
    alert = create(client, tenant, "https://93.184.216.34/alerts")
    other = make_tenant(client, name="Globex", slug="globex")
    theirs = create(client, other, "https://93.184.216.34/alerts")
    [mine] = alert["channels"]
    for channels, field, message in (
            ([{"id": theirs["channels"][0]["id"]}], "channels.0.id", "not one of this rule's"),
            ([{"id": mine["id"]}, {"id": mine["id"]}], "channels.1.id", "names a channel twice")):
        refused = change_channels(client, tenant, alert["id"], channels)
        assert refused.status_code == 422, refused.text
        [detail] = refused.json()["error"]["details"]
        assert detail["field"] == field and message in detail["message"]
    read = client.get(f"/api/v1/alerts/{alert['id']}", headers=tenant.headers("read"))
    unchanged = {k: v for k, v in mine.items() if k != "secret"}
    assert read.json()["data"]["channels"] == [unchanged] and read.json()["data"]["version"] == 1
