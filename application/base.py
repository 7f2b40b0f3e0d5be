"""What every Beacon application shares: an injectable clock and one place that retries conflicts."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ParamSpec, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError
from eventsourcing.utils import EnvType

from domain.errors import NotFoundError

P = ParamSpec("P")
R = TypeVar("R")
Clock = Callable[[], datetime]
MAX_ATTEMPTS = 25

# The log position of the last event this request saved, for read-your-writes (X-Beacon-Position).
LAST_POSITION: ContextVar[tuple[str, int] | None] = ContextVar("last_position", default=None)


def system_clock() -> datetime:
    return datetime.now(UTC)


def retry_on_conflict(command: Callable[P, R]) -> Callable[P, R]:
    """Re-run a load → decide → save command when another writer saved the aggregate first."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return command(*args, **kwargs)
            except RecordConflictError:
                if attempt == MAX_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0, 0.001 * attempt))  # jitter: don't collide again
        raise AssertionError("unreachable")

    return wrapper


class SharedLocks(Protocol):
    """Locks by key that writers in every process share (DESIGN.md: API processes scale out)."""

    def hold(self, key: UUID) -> AbstractContextManager[None]: ...


class ProcessLocalLocks:
    """One process only (the embedded default): the in-process lock is all there is to take."""

    def hold(self, key: UUID) -> AbstractContextManager[None]:
        return nullcontext()


class BeaconApplication(Application[UUID]):
    """An Application with a clock the tests can control."""

    def __init__(self, env: EnvType | None = None, clock: Clock = system_clock) -> None:
        super().__init__(env)
        self.clock = clock
        self._locks: defaultdict[object, threading.Lock] = defaultdict(threading.Lock)
        self.shared_locks: SharedLocks = ProcessLocalLocks()  # the composition root may share them

    @contextmanager
    def serialised(self, key: UUID) -> Iterator[None]:
        """A lock per key, so writers queue instead of conflicting: in this process, then across
        processes when the locks are shared. A writer that bypasses it still cannot break the
        rules: it conflicts on the aggregate's version and retries."""
        with self._locks[key], self.shared_locks.hold(key):
            yield

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        if recordings and recordings[-1].notification.id is not None:
            LAST_POSITION.set((self.name, recordings[-1].notification.id))
        return recordings

    def load(self, aggregate_id: UUID, error: type[NotFoundError], what: str,
             version: int | None = None, *, workspace_id: UUID | None = None,
             kind: type | None = None) -> Any:
        """Get an aggregate or raise the context's not-found error; given a workspace, another
        workspace's aggregate is not found either (DESIGN.md decision 4), nor, given its `kind`,
        an aggregate of another kind that the id names (a log holds several: an alert rule's
        id could be given its workspace's book's, which the workspace owns too)."""
        try:
            aggregate: Any = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise error(f"{what} not found") from None
        if kind is not None and not isinstance(aggregate, kind):
            raise error(f"{what} not found")
        if workspace_id is not None and aggregate.workspace_id != workspace_id:
            raise error(f"{what} not found")
        return aggregate
