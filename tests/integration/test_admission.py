"""How a request is admitted: its ids recorded in the ledger, duplicates sorted out, the quota's
decision and the batch saved with the admitted ids in one transaction, or nothing at all."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder

from application.base import LAST_POSITION
from application.telemetry import Outcome
from domain.batch import EventBatch
from domain.quota import TenantQuota, period_of, quota_id
from domain.tracked_event import check_event
from interfaces.bootstrap import Beacon
from tests.faults import fail_batch_saves, fail_ledger_insert_of, heal_batch_saves
from tests.polling import eventually

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def batch(ids: list[str]) -> list[Any]:
    return [check_event({"event_id": i, "category": "c", "name": "n", "actor_id": "a",
                         "timestamp": "2026-03-20T14:30:00Z"}, NOW) for i in ids]


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def counted(beacon: Beacon, workspace_id: uuid.UUID) -> tuple[int, int]:
    """(used in the quota, rows in the events read model)."""
    used = beacon.telemetry.usage(workspace_id, 10**6)["used"]
    beacon.runner("events").catch_up()
    return used, beacon.telemetry_queries.count_events(str(workspace_id))


def test_ids_the_ledger_has_are_duplicates_and_the_rest_accepted(quiet_beacon: Beacon) -> None:
    workspace_id, first = uuid.uuid4(), ids(3)
    app = quiet_beacon.telemetry
    assert app.ingest(workspace_id, batch(first), limit=100).statuses == ["accepted"] * 3
    shared = [first[0], *ids(2), first[2]]
    outcome = app.ingest(workspace_id, batch(shared), limit=100)
    assert outcome.statuses == ["duplicate", "accepted", "accepted", "duplicate"]
    assert outcome.event_ids == shared
    assert app.ingest(workspace_id, batch(first), limit=100).statuses == ["duplicate"] * 3
    assert counted(quiet_beacon, workspace_id) == (5, 5)


def test_refused_ids_are_not_kept_so_a_later_retry_is_accepted(quiet_beacon: Beacon) -> None:
    workspace_id = uuid.uuid4()
    app = quiet_beacon.telemetry
    app.ingest(workspace_id, batch(ids(8)), limit=10)
    late = ids(4)
    outcome = app.ingest(workspace_id, batch(late), limit=10)
    assert outcome.statuses == ["accepted"] * 2 + ["limit_exceeded"] * 2
    assert app.ledger.seen(workspace_id, late) == set(late[:2])
    assert app.ingest(workspace_id, batch(late), limit=10).quota_exhausted  # still full
    assert app.ledger.seen(workspace_id, late) == set(late[:2])
    raised = app.ingest(workspace_id, batch(late), limit=20)  # a bigger plan: the rest goes in
    assert raised.statuses == ["duplicate"] * 2 + ["accepted"] * 2
    usage = app.usage(workspace_id, 20)
    assert (usage["used"], usage["refused"]) == (12, 2 + 2)  # refused twice, never duplicates
    assert counted(quiet_beacon, workspace_id)[1] == 12


def test_an_all_or_nothing_request_the_quota_cannot_fit_keeps_no_id(quiet_beacon: Beacon) -> None:
    workspace_id, refused = uuid.uuid4(), ids(5)
    app = quiet_beacon.telemetry
    app.ingest(workspace_id, batch(ids(8)), limit=10)
    outcome = app.ingest(workspace_id, batch(refused), limit=10, partial=False)
    assert outcome.statuses == ["limit_exceeded"] * 5 and outcome.quota_exhausted
    assert app.ledger.seen(workspace_id, refused) == set()
    assert app.quota(workspace_id).refused == 5  # the refusal is part of history


def test_each_request_saves_its_own_decision_and_batch(quiet_beacon: Beacon) -> None:
    workspace_id = uuid.uuid4()
    positions = []
    for _ in range(3):
        quiet_beacon.telemetry.ingest(workspace_id, batch(ids(2)), limit=100)
        positions.append(LAST_POSITION.get())
    assert len(set(positions)) == 3 and positions == sorted(positions)  # type: ignore[type-var]
    assert quiet_beacon.telemetry.quota(workspace_id).version == 1 + 3  # opened, three decisions
    assert counted(quiet_beacon, workspace_id) == (6, 6)


def test_a_database_error_writes_nothing_of_that_request(quiet_beacon: Beacon, backend: str) -> None:
    workspace_id = uuid.uuid4()
    good, bad = ids(2), ids(2)
    fail_ledger_insert_of(quiet_beacon.databases["Telemetry"], backend, bad[1])
    app = quiet_beacon.telemetry
    with pytest.raises(PersistenceError):
        app.ingest(workspace_id, batch(bad), limit=100)
    assert app.ingest(workspace_id, batch(good), limit=100).statuses == ["accepted"] * 2
    assert app.ledger.seen(workspace_id, bad) == set()
    assert app.quota(workspace_id).version == 1 + 1  # the failed request decided nothing
    assert counted(quiet_beacon, workspace_id) == (2, 2)


def test_a_database_error_saving_the_batch_writes_nothing_and_leaves_no_trace(
        quiet_beacon: Beacon, backend: str) -> None:
    """The save is an admission's last write (on PostgreSQL it carries the commit): when it
    fails, the ids, the decision and the batch all roll back, and the next request, on the same
    connections, goes in whole."""
    workspace_id, refused, later = uuid.uuid4(), ids(3), ids(3)
    db, app = quiet_beacon.databases["Telemetry"], quiet_beacon.telemetry
    app.ingest(workspace_id, batch(ids(1)), limit=100)
    app.ingest(workspace_id, batch(ids(1)), limit=100)  # the quota cached, read with the lock
    fail_batch_saves(db, backend)
    for _ in range(3):  # more failures than the pool keeps idle connections
        with pytest.raises(PersistenceError):
            app.ingest(workspace_id, batch(refused), limit=100)
    heal_batch_saves(db)
    assert app.ledger.seen(workspace_id, refused) == set()
    assert app.quota(workspace_id).version == 1 + 2
    assert app.ingest(workspace_id, batch(refused + later), limit=100).statuses == ["accepted"] * 6
    assert counted(quiet_beacon, workspace_id) == (8, 8)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_retry_sent_while_the_first_attempt_waits_for_the_lock_is_a_duplicate(
        quiet_beacon: Beacon) -> None:
    """PostgreSQL records a request's ids before it queues on the workspace's lock: a retry of
    the same batch, sent while the first attempt still waits, waits on those ids, then finds
    them recorded."""
    workspace_id, same = uuid.uuid4(), ids(3)
    app = quiet_beacon.telemetry
    app.ingest(workspace_id, batch(ids(1)), limit=100)  # the quota opened: the first's claim holds
    outcomes: dict[str, Outcome] = {}

    def post(name: str) -> None:
        outcomes[name] = app.ingest(workspace_id, batch(same), limit=100)

    with app.shared_locks.hold(workspace_id):  # as another process busy deciding would
        first = threading.Thread(target=post, args=("first",))
        first.start()
        time.sleep(0.3)  # its ids recorded, it waits for the lock
        retry = threading.Thread(target=post, args=("retry",))
        retry.start()
        time.sleep(0.3)
        assert not outcomes  # both wait: the first for the lock, the retry for the first
    first.join()
    retry.join()
    assert outcomes["first"].statuses == ["accepted"] * 3
    assert outcomes["retry"].statuses == ["duplicate"] * 3
    assert counted(quiet_beacon, workspace_id) == (1 + 3, 1 + 3)


@pytest.mark.parametrize("backend", ["postgres"])
def test_requests_record_their_ids_side_by_side_while_one_decides(quiet_beacon: Beacon) -> None:
    """The ledger's inserts do not wait for the lock: requests queued behind it have theirs
    done, and the lock's holder is the only one deciding."""
    workspace_id = uuid.uuid4()
    app = quiet_beacon.telemetry
    # Three: with the lock's holder, as many as the telemetry pool holds at the default size.
    batches = [ids(50) for _ in range(3)]
    done: list[Outcome] = []
    db = quiet_beacon.databases["Telemetry"]
    with app.shared_locks.hold(workspace_id):
        threads = [threading.Thread(target=lambda b=b: done.append(
            app.ingest(workspace_id, batch(b), limit=10**6))) for b in batches]
        for thread in threads:
            thread.start()
        def waiting() -> int:
            return len(db.query(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
        # Each asks for the lock only once its ids are in (one pipeline, in order).
        assert eventually(lambda: waiting() == len(batches)) and not done
    for thread in threads:
        thread.join()
    assert sorted(o.count("accepted") for o in done) == [50] * 3
    assert counted(quiet_beacon, workspace_id) == (150, 150)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_lock_not_had_in_time_is_unavailability_and_writes_nothing(quiet_beacon: Beacon) -> None:
    workspace_id, waited = uuid.uuid4(), ids(2)
    app = quiet_beacon.telemetry
    app.recorder.wait_seconds = 1  # type: ignore[attr-defined]
    app.shared_locks.wait_seconds = 1  # type: ignore[attr-defined]
    failures: list[BaseException] = []

    def report() -> None:
        try:
            with app.shared_locks.hold(workspace_id):
                pass
        except PersistenceError as error:
            failures.append(error)

    with app.shared_locks.hold(workspace_id):  # held longer than anyone waits
        with pytest.raises(PersistenceError, match="waited over 1s for the workspace's lock"):
            app.ingest(workspace_id, batch(waited), limit=100)
        other = threading.Thread(target=report)
        other.start()
        other.join()
    assert len(failures) == 1 and "waited over 1s" in str(failures[0])
    assert app.ledger.seen(workspace_id, waited) == set()
    assert counted(quiet_beacon, workspace_id) == (0, 0)
    assert app.ingest(workspace_id, batch(waited), limit=100).statuses == ["accepted"] * 2


def test_a_request_counts_in_the_month_it_arrived_whenever_its_turn_comes(
        quiet_beacon: Beacon) -> None:
    """Received is when the request arrived, not when its turn at the lock came, and the month
    it arrived in is the one whose quota counts it, even when the month turns while it waits
    (on PostgreSQL its claim is decided at lock time; on SQLite, and for the first request of
    a quota, the quota decides under the lock)."""
    from interfaces.bootstrap import bootstrap

    workspace_id = uuid.uuid4()
    readings = iter([datetime(2026, 3, 20, 15, 0, 0, tzinfo=UTC),  # arrived
                     datetime(2026, 3, 20, 15, 0, 2, tzinfo=UTC),  # decided
                     datetime(2026, 3, 31, 23, 59, 59, 900_000, tzinfo=UTC),  # arrived
                     datetime(2026, 4, 1, 0, 0, 0, 100_000, tzinfo=UTC)])  # decided, if here
    on_these_readings = bootstrap(quiet_beacon.settings, clock=lambda: next(readings))
    try:
        app = on_these_readings.telemetry
        assert app.ingest(workspace_id, batch(ids(2)), limit=100).statuses == ["accepted"] * 2
        assert app.ingest(workspace_id, batch(ids(3)), limit=100).statuses == ["accepted"] * 3
    finally:
        on_these_readings.close()
    app = quiet_beacon.telemetry
    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 100)]
    batches = [e for e in stored if isinstance(e, EventBatch.Accepted)]
    assert [(b.received_at, b.count) for b in batches] == [
        (datetime(2026, 3, 20, 15, 0, 0, tzinfo=UTC), 2),
        (datetime(2026, 3, 31, 23, 59, 59, 900_000, tzinfo=UTC), 3)]
    assert app.quota(workspace_id, datetime(2026, 3, 5, tzinfo=UTC)).used == 2 + 3
    assert app.quota(workspace_id, datetime(2026, 4, 5, tzinfo=UTC)).used == 0


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_quota_comes_with_the_lock_up_to_date_with_other_processes(
        quiet_beacon: Beacon, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quota's events newer than this process's cached copy are read in the lock's round
    trip, once the lock is held: what another process counted meanwhile is in the decision,
    and the quota needs no read of its own."""
    from interfaces.bootstrap import bootstrap

    workspace_id = uuid.uuid4()
    app = quiet_beacon.telemetry
    other_process = bootstrap(quiet_beacon.settings)  # its own pools and caches
    try:
        app.ingest(workspace_id, batch(ids(1)), limit=10)
        app.ingest(workspace_id, batch(ids(1)), limit=10)
        assert app.usage(workspace_id, 10)["used"] == 2  # now this process has it cached
        other_process.telemetry.ingest(workspace_id, batch(ids(4)), limit=10)  # ahead of it
        reads: list[Any] = []
        library_read = PostgresApplicationRecorder.select_events

        def read(self: Any, *args: Any, **kwargs: Any) -> Any:
            reads.append(args)
            return library_read(self, *args, **kwargs)

        monkeypatch.setattr(PostgresApplicationRecorder, "select_events", read)
        outcome = app.ingest(workspace_id, batch(ids(6)), limit=10)
        assert outcome.statuses == ["accepted"] * 4 + ["limit_exceeded"] * 2
        assert reads == []
    finally:
        other_process.close()
    assert (app.quota(workspace_id).used, app.quota(workspace_id).refused) == (10, 2)


def quota_head(beacon: Beacon, workspace_id: uuid.UUID) -> tuple[int, int] | None:
    """The quota's head as PostgreSQL keeps it for claims: (version, used)."""
    quota = beacon.telemetry.quota(workspace_id)
    rows = beacon.databases["Telemetry"].query(
        "SELECT version, used FROM telemetry_quota_heads WHERE quota_id = %s", [quota.id])
    return (rows[0]["version"], rows[0]["used"]) if rows else None


def decisions(beacon: Beacon, workspace_id: uuid.UUID) -> list[tuple[int, int, int]]:
    """The quota's decisions, in version order: (requested, admitted, refused)."""
    quota = beacon.telemetry.quota(workspace_id)
    events = beacon.telemetry.repository.event_store.get(quota.id)
    return [(e.requested, e.admitted, e.refused) for e in events
            if isinstance(e, TenantQuota.Decided)]


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_claim_is_decided_by_the_database_at_lock_time(
        quiet_beacon: Beacon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the quota is open, a request's decision is the database's: the quota is not read
    or asked here, and each claim is saved as the quota's next version, with the batch."""
    workspace_id = uuid.uuid4()
    app = quiet_beacon.telemetry
    app.ingest(workspace_id, batch(ids(1)), limit=100)  # opens the quota: decided here

    def not_here(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("decided in the application")

    monkeypatch.setattr(TenantQuota, "admit", not_here)
    monkeypatch.setattr(type(app), "quota", not_here)
    positions = []
    for size in (3, 5, 2):
        outcome = app.ingest(workspace_id, batch(ids(size)), limit=100)
        assert outcome.statuses == ["accepted"] * size
        positions.append(LAST_POSITION.get())
    assert (outcome.used, outcome.remaining, outcome.quota_exhausted) == (11, 89, False)
    copy = app.admission.cached_quota(quota_id(workspace_id, period_of(app.clock())))
    assert copy is not None and (copy.version, copy.used) == (1 + 4, 11)  # read after, once
    monkeypatch.undo()
    assert positions == sorted(positions) and len(set(positions)) == 3  # type: ignore[type-var]
    assert decisions(quiet_beacon, workspace_id) == [(1, 1, 0), (3, 3, 0), (5, 5, 0), (2, 2, 0)]
    assert app.quota(workspace_id).version == 1 + 4
    assert quota_head(quiet_beacon, workspace_id) == (1 + 4, 11)
    assert counted(quiet_beacon, workspace_id) == (11, 11)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_claim_without_room_leaves_nothing_and_the_quota_decides(quiet_beacon: Beacon) -> None:
    """Another process filled the quota behind this one's back: this process claims all four
    events, the database refuses, the claim leaves no trace, and the quota admits two."""
    from interfaces.bootstrap import bootstrap

    workspace_id, late = uuid.uuid4(), ids(4)
    app = quiet_beacon.telemetry
    other_process = bootstrap(quiet_beacon.settings)
    try:
        app.ingest(workspace_id, batch(ids(1)), limit=10)
        assert app.usage(workspace_id, 10)["used"] == 1  # this process thinks there is room
        other_process.telemetry.ingest(workspace_id, batch(ids(7)), limit=10)
        outcome = app.ingest(workspace_id, batch(late), limit=10)
    finally:
        other_process.close()
    assert outcome.statuses == ["accepted"] * 2 + ["limit_exceeded"] * 2
    assert (outcome.used, outcome.remaining) == (10, 0)
    assert decisions(quiet_beacon, workspace_id) == [(1, 1, 0), (7, 7, 0), (4, 2, 2)]
    assert app.ledger.seen(workspace_id, late) == set(late[:2])
    assert quota_head(quiet_beacon, workspace_id) == (1 + 3, 10)
    assert counted(quiet_beacon, workspace_id) == (10, 10)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_decision_saved_without_the_head_makes_claims_give_way(quiet_beacon: Beacon) -> None:
    """A decision saved by a writer that keeps no head (an older release, say) leaves the head
    behind the quota's last version: the next claim is refused, whatever room the head shows,
    the quota decides and saves the head, and claims hold again after it."""
    workspace_id = uuid.uuid4()
    app = quiet_beacon.telemetry
    app.ingest(workspace_id, batch(ids(2)), limit=10)
    quota = app.quota(workspace_id)
    quota.admit(6, limit=10, kind="events", at=NOW)
    app.save(quota)  # no head: it still says version 2, 2 used
    assert quota_head(quiet_beacon, workspace_id) == (2, 2)
    outcome = app.ingest(workspace_id, batch(ids(3)), limit=10)  # the head has room; the quota not
    assert outcome.statuses == ["accepted"] * 2 + ["limit_exceeded"]
    assert quota_head(quiet_beacon, workspace_id) == (4, 10)
    assert app.ingest(workspace_id, batch(ids(1)), limit=11).statuses == ["accepted"]  # a claim
    assert quota_head(quiet_beacon, workspace_id) == (5, 11)
    assert decisions(quiet_beacon, workspace_id) == [(2, 2, 0), (6, 6, 0), (3, 2, 1), (1, 1, 0)]


@pytest.mark.parametrize("backend", ["postgres"])
def test_claims_keep_this_process_copy_of_the_quota_current_without_reading_it(
        quiet_beacon: Beacon, monkeypatch: pytest.MonkeyPatch) -> None:
    """A claim reads back the quota's events after this process's copy, its own included, in
    its round trip: the copy follows every claim, so the decision taken here when the quota
    fills up, and a usage report, read only what is new."""
    from interfaces.bootstrap import bootstrap

    workspace_id = uuid.uuid4()
    app = quiet_beacon.telemetry
    other_process = bootstrap(quiet_beacon.settings)
    try:
        app.ingest(workspace_id, batch(ids(1)), limit=20)
        assert app.usage(workspace_id, 20)["used"] == 1  # this process has its copy
        reads: list[Any] = []
        library_read = PostgresApplicationRecorder.select_events

        def read(self: Any, *args: Any, **kwargs: Any) -> Any:
            if self is app.recorder:  # not the other process's reads
                reads.append(kwargs.get("gt"))
            return library_read(self, *args, **kwargs)

        monkeypatch.setattr(PostgresApplicationRecorder, "select_events", read)
        for size in (2, 3):
            assert app.ingest(workspace_id, batch(ids(size)), limit=20).count("accepted") == size
            other_process.telemetry.ingest(workspace_id, batch(ids(4)), limit=20)
        copy = app.admission.cached_quota(quota_id(workspace_id, period_of(app.clock())))
        assert copy is not None and (copy.version, copy.used) == (1 + 4, 1 + 2 + 4 + 3)
        assert reads == []  # one read-back per claim, in its round trip
        assert app.usage(workspace_id, 20)["used"] == 1 + 2 + 4 + 3 + 4
        assert reads == [1 + 4]  # the report read only the other process's last claim
    finally:
        other_process.close()
