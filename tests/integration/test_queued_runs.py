"""At most one queued run of a job, in one process and across processes through Redis."""

from __future__ import annotations

import uuid

import pytest

from infrastructure.queued_runs import QueuedRun
from tests.polling import eventually
from tests.services import require_redis


@pytest.fixture(params=["in-process", "redis"])
def redis_url(request: pytest.FixtureRequest) -> str:
    return require_redis() if request.param == "redis" else ""


def test_a_request_queues_a_run_only_when_none_is_waiting(redis_url: str) -> None:
    run = QueuedRun(f"test:{uuid.uuid4()}", redis_url)
    assert [run.claim(), run.claim(), run.claim()] == [True, False, False]
    run.started()
    assert [run.claim(), run.claim()] == [True, False]
    run.close()


def test_processes_share_the_waiting_run_through_redis() -> None:
    name = f"test:{uuid.uuid4()}"
    projector, other_projector = QueuedRun(name, require_redis()), QueuedRun(name, require_redis())
    assert projector.claim() and not other_projector.claim()
    projector.started()  # the worker (any process) took it
    assert other_projector.claim()
    projector.close()
    other_projector.close()


def test_a_claim_lost_with_its_run_expires() -> None:
    run = QueuedRun(f"test:{uuid.uuid4()}", require_redis(), ttl_seconds=0.05)
    assert run.claim()
    # No run ever starts: the claim lapses by itself.
    assert eventually(run.claim, timeout=5, interval=0.02), "the claim never expired"
    run.close()
