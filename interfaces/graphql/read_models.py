"""Where Beacon's read models stand: how far each is behind its log, and since when one fails.
The dashboard warns with it that what it shows may be out of date."""

from __future__ import annotations

from datetime import datetime

import strawberry
from starlette.concurrency import run_in_threadpool

from interfaces.graphql.context import Ctx
from projections.model import from_micros


@strawberry.type(description="One read model (a projection of the log): events behind the head "
                             "of its log, and since when its pages fail (null while it works).")
class ReadModel:
    name: str
    lag: int
    failing_since: datetime | None
    failures: int


async def read_models(info: Ctx) -> list[ReadModel]:
    """Every read model's lag and failure, Beacon-wide. The error itself is the operator's
    (`GET /admin/v1/projections`, `beacon projections status`)."""
    runners = info.context.beacon.runners
    statuses = await run_in_threadpool(lambda: [runner.status() for runner in runners])
    return [ReadModel(name=s.name, lag=s.lag, failures=s.failures,
                      failing_since=from_micros(s.failing_since))
            for s in statuses]
