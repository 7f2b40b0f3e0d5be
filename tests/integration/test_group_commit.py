"""Requests queued on one workspace's lock are decided together, and each is answered exactly as
if it had come alone, in the order they queued."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import PersistenceError

from application.base import LAST_POSITION
from application.telemetry import Outcome
from domain.tracked_event import check_event
from interfaces.bootstrap import Beacon
from tests.faults import fail_ledger_insert_of

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def batch(ids: list[str]) -> list[Any]:
    return [check_event({"event_id": i, "category": "c", "name": "n", "actor_id": "a",
                         "timestamp": "2026-03-20T14:30:00Z"}, NOW) for i in ids]


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def queued_together(beacon: Beacon, workspace_id: uuid.UUID, batches: list[list[Any]],
                    limit: int, positions: list[Any] | None = None) -> list[Outcome]:
    """Ingest `batches` from one thread each, all queued behind the workspace's lock before any
    is decided, in this order; their outcomes by batch (and the log positions they were told)."""
    app = beacon.telemetry
    outcomes: list[Outcome | None] = [None] * len(batches)
    told = positions if positions is not None else [None] * len(batches)

    def post(n: int) -> None:
        try:
            outcomes[n] = app.ingest(workspace_id, batches[n], limit=limit)
            told[n] = LAST_POSITION.get()
        except PersistenceError as error:
            told[n] = error

    threads = []
    with app._locks[workspace_id]:  # as a writer busy saving would
        for n in range(len(batches)):
            threads.append(threading.Thread(target=post, args=(n,)))
            threads[-1].start()
            while len(app._waiting[workspace_id]) < n + 1:  # queued, in order
                time.sleep(0.001)
    for thread in threads:
        thread.join()
    return outcomes  # type: ignore[return-value]


def statuses(outcome: Outcome) -> list[str]:
    return outcome.statuses


def test_a_group_answers_each_request_as_if_alone(quiet_beacon: Beacon) -> None:
    workspace_id = uuid.uuid4()
    first, third = ids(3), ids(2)
    shared = [first[0], first[1], *ids(2)]  # two ids of the first request, two new
    outcomes = queued_together(quiet_beacon, workspace_id, [batch(first), batch(shared),
                                                            batch(third)], limit=100)
    assert statuses(outcomes[0]) == ["accepted"] * 3
    assert statuses(outcomes[1]) == ["duplicate", "duplicate", "accepted", "accepted"]
    assert statuses(outcomes[2]) == ["accepted"] * 2
    assert quiet_beacon.telemetry.usage(workspace_id, 100)["used"] == 7
    assert {o.used for o in outcomes} <= {3, 5, 7} and outcomes[0].used == 3


def test_a_group_never_admits_past_the_limit(quiet_beacon: Beacon) -> None:
    workspace_id = uuid.uuid4()
    batches = [batch(ids(4)) for _ in range(5)]
    outcomes = queued_together(quiet_beacon, workspace_id, batches, limit=10)
    accepted = [o.count("accepted") for o in outcomes]
    assert sum(accepted) == 10 and accepted[:2] == [4, 4]
    assert sorted(accepted) == [0, 0, 2, 4, 4]
    assert sum(o.count("limit_exceeded") for o in outcomes) == 10
    usage = quiet_beacon.telemetry.usage(workspace_id, 10)
    assert (usage["used"], usage["refused"]) == (10, 10)


def test_every_request_of_a_group_gets_its_own_batch_and_decision(quiet_beacon: Beacon) -> None:
    workspace_id = uuid.uuid4()
    positions: list[Any] = [None] * 3
    queued_together(quiet_beacon, workspace_id, [batch(ids(2)) for _ in range(3)], limit=100,
                    positions=positions)
    assert positions[0] is not None and positions == [positions[0]] * 3  # one transaction
    quiet_beacon.runner("events").catch_up()
    assert quiet_beacon.telemetry_queries.count_events(str(workspace_id)) == 6
    quota = quiet_beacon.telemetry.quota(workspace_id)
    assert quota.version == 1 + 3  # opened, then one decision per request


def test_a_database_error_in_a_group_writes_nothing_of_the_failed_requests(quiet_beacon: Beacon,
                                                                          backend: str) -> None:
    workspace_id = uuid.uuid4()
    batches = [ids(2) for _ in range(3)]
    poison = batches[1][0]
    db = quiet_beacon.databases["Telemetry"]
    fail_ledger_insert_of(db, backend, poison)
    told: list[Any] = [None] * 3
    outcomes = queued_together(quiet_beacon, workspace_id, [batch(b) for b in batches], limit=100,
                               positions=told)
    assert isinstance(told[1], PersistenceError) and outcomes[1] is None  # answered 503
    answered = [o for o in outcomes if o is not None]
    assert all(o.statuses == ["accepted"] * 2 for o in answered)  # the rest as if alone, or 503
    assert all(o is not None or isinstance(t, PersistenceError) for o, t in zip(outcomes, told, strict=True))
    used = quiet_beacon.telemetry.usage(workspace_id, 100)["used"]
    quiet_beacon.runner("events").catch_up()
    assert used == 2 * len(answered) == quiet_beacon.telemetry_queries.count_events(str(workspace_id))
    assert quiet_beacon.telemetry.ledger.seen(workspace_id, batches[1]) == set()
