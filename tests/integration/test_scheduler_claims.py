"""Periodic jobs on a shared Redis: each Beacon's workers claim a job once per interval among
themselves, and never another Beacon's (two Beacons sharing one Redis each run their own)."""

from __future__ import annotations

import threading
import uuid

import pytest

from infrastructure.scheduler import PeriodicJob, Scheduler
from tests.services import require_redis


@pytest.mark.redis
def test_workers_of_one_beacon_claim_a_job_once_and_another_beacon_claims_its_own() -> None:
    url, stop = require_redis(), threading.Event()
    job = PeriodicJob(f"check_monitors_{uuid.uuid4().hex[:8]}", 60, lambda: None)
    ours, theirs = f"ns-{uuid.uuid4().hex[:8]}", f"ns-{uuid.uuid4().hex[:8]}"
    first, second = (Scheduler([job], stop, url, namespace=ours) for _ in range(2))
    other = Scheduler([job], stop, url, namespace=theirs)
    try:
        assert first.claim(job) is True
        assert second.claim(job) is False  # the same Beacon's other worker: already claimed
        assert other.claim(job) is True  # another Beacon on the same Redis: its own claim
    finally:
        for scheduler in (first, second, other):
            assert scheduler.redis is not None
            scheduler.redis.delete(scheduler.prefix + job.name)
            scheduler.redis.close()
