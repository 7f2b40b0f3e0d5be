"""TenantQuota's decisions, and the decision a store can take for it (a claim)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from domain.quota import TenantQuota, quota_id

AT = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def opened(used: int) -> TenantQuota:
    quota = TenantQuota.open(uuid.uuid4(), "2026-03")
    if used:
        quota.admit(used, limit=10**6, kind="events", at=AT)
    return quota


def test_a_quota_admits_up_to_its_limit_and_records_what_it_refused() -> None:
    quota = opened(8)
    assert quota.admit(5, limit=10, kind="events", at=AT) == 2
    assert (quota.used, quota.refused, quota.remaining(10)) == (10, 3, 0)
    assert quota.admit(1, limit=10, kind="exception", at=AT) == 0
    assert quota.admit(4, limit=20, kind="events", at=AT, partial=False) == 4  # a bigger plan
    assert quota.admit(7, limit=20, kind="events", at=AT, partial=False) == 0  # all or none
    assert (quota.used, quota.refused) == (14, 3 + 1 + 7)


def test_admitting_all_is_the_decision_admit_takes_when_there_is_room() -> None:
    quota = opened(3)
    claim = TenantQuota.admitting_all(quota.id, 5, limit=10, kind="events", at=AT)
    assert quota.admit(5, limit=10, kind="events", at=AT) == 5
    taken = quota.collect_events()[-1]
    assert type(claim) is type(taken)
    fields = {**asdict(claim), "originator_version": taken.originator_version}
    assert fields == asdict(taken)
    replayed = opened(3)
    claim.apply(replayed)  # what the quota becomes once a store saved the claim
    assert (replayed.used, replayed.refused, replayed.limit) == (8, 0, 10)


def test_a_quota_is_one_workspace_in_one_month() -> None:
    workspace = uuid.uuid4()
    assert quota_id(workspace, "2026-03") == TenantQuota.open(workspace, "2026-03").id
    assert len({quota_id(workspace, "2026-03"), quota_id(workspace, "2026-04"),
                quota_id(uuid.uuid4(), "2026-03")}) == 3
