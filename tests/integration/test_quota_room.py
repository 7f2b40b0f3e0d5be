"""The quota's room has one rule, domain/quota.py's `has_room`; PostgreSQL repeats it in SQL when
it takes a claim at lock time (docs/decisions/quota-claims.md). Each case puts a real quota at
`used`, then hands the store a claim for `requested` events under `limit`: the database takes
it exactly when the Python rule, and the quota's own all-or-none decision, admit them all."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime

import pytest

from application.ledger import QuotaClaim
from application.stored_batches import batch_accepted
from application.telemetry import TelemetryApplication
from domain.quota import TenantQuota, has_room
from domain.tracked_event import check_event
from interfaces.bootstrap import Beacon

NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)
CASES = [  # (limit, used, requested)
    (10, 0, 1),
    (10, 0, 10),  # the whole limit in one batch
    (10, 0, 11),  # one over the whole limit
    (10, 9, 1),  # exactly full after it
    (10, 9, 2),  # one over
    (10, 10, 1),  # already full
    (0, 0, 1),  # a zero limit
    (10, 3, 1000),  # a batch larger than the room
    (1000, 1, 999),  # a full-size batch that fits exactly
    (5, 8, 1),  # a limit lowered below what was used
    (5, 8, 0),  # nothing asked of a quota over its limit
]


def quota_at(app: TelemetryApplication, workspace_id: uuid.UUID, used: int) -> TenantQuota:
    """The workspace's quota, opened and its head saved, with `used` events counted."""
    events = [check_event({"event_id": str(uuid.uuid4()), "category": "c", "name": "n",
                           "actor_id": "a", "timestamp": "2026-03-20T14:30:00Z"}, NOW)
              for _ in range(max(used, 1))]
    app.ingest(workspace_id, events, limit=used)  # used 0: one refused, which opens it too
    quota = app.quota(workspace_id)
    assert quota.used == used
    return quota


def claim_taken(app: TelemetryApplication, quota: TenantQuota, requested: int, limit: int) -> bool:
    """Whether the store takes a claim for `requested` events under `limit` at lock time."""
    decision = TenantQuota.admitting_all(quota.id, requested, limit=limit, kind="events", at=NOW)
    batch = batch_accepted(quota.workspace_id, [], NOW)
    claim = QuotaClaim(quota.id, requested, limit, app.mapper.to_stored_event(decision),
                       app.mapper.to_stored_event(batch))
    with app.ledger.admission(quota.workspace_id, [str(uuid.uuid4())], retried=False,
                              claim=claim) as entry:
        return entry.claimed is not None


@pytest.mark.parametrize("backend", ["postgres"])  # the only store that takes claims
@pytest.mark.parametrize(("limit", "used", "requested"), CASES)
def test_the_database_claims_exactly_when_the_quota_rule_finds_room(
        quiet_beacon: Beacon, limit: int, used: int, requested: int) -> None:
    app = quiet_beacon.telemetry
    quota = quota_at(app, uuid.uuid4(), used)
    decides_here = copy.deepcopy(quota).admit(requested, limit=limit, kind="events", at=NOW,
                                              partial=False) == requested
    assert has_room(limit, used, requested) == decides_here
    assert claim_taken(app, quota, requested, limit) == decides_here
    after = app.quota(quota.workspace_id)
    assert (after.version, after.used) == ((quota.version + 1, used + requested) if decides_here
                                           else (quota.version, used))
