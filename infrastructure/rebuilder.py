"""Rebuilding a projection (DESIGN.md decision 6): its whole history replayed into fresh tables
while the live ones serve, then swapped in, with what arrived meanwhile, in one transaction."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from infrastructure.projection_runner import Progress, ProjectionRunner
from infrastructure.read_model_dialects import DuplicateKeyError
from infrastructure.read_model_plans import Plan
from infrastructure.read_models import REBUILD, ReadModelStore

log = logging.getLogger("beacon.projections")
T = TypeVar("T")
WRITERS = 2  # connections a rebuild writes order-free pages with
REBUILD_PAGE = 100  # ~100k events a transaction: big COPYs, yet reading overlaps writing


class Rebuilder:
    """Replays a projection's whole history into fresh tables while the live ones serve, then swaps.

    While pages are written, the next is read and its stored events decoded on another thread
    (psycopg lets go of the GIL while the server takes the COPY). Tables that insert each key once
    load without their primary key; if it turns out not unique, the rebuild starts over with it."""

    def __init__(self, runner: ProjectionRunner):
        self.live = runner
        self.phases: dict[str, float] = {}  # seconds of the last run's load, indexes, vacuum, swap

    def run(self, progress: Progress | None = None) -> int:
        started = time.monotonic()
        try:
            position = self._rebuild(deferred_keys=True, progress=progress)
        except DuplicateKeyError as error:
            log.warning("rebuild of %s found a key twice (%s); starting over with keys checked "
                        "row by row", self.live.name, error)
            position = self._rebuild(deferred_keys=False, progress=progress)
        log.info("rebuilt %s to %d in %.1fs (%s)", self.live.name, position,
                 time.monotonic() - started, self.spent())
        return position

    def spent(self, digits: int = 1) -> str:
        """The last run's phases, as "load 12.9s, indexes 6.2s, vacuum 1.2s, swap 0.5s"."""
        return ", ".join(f"{phase} {seconds:.{digits}f}s" for phase, seconds in self.phases.items())

    def _rebuild(self, *, deferred_keys: bool, progress: Progress | None) -> int:
        live = self.live.store
        fresh = ReadModelStore(live.db, self.live.projection, suffix=REBUILD,
                               deferred_keys=deferred_keys)
        replay = ProjectionRunner(self.live.projection, self.live.app, fresh,
                                  page_size=REBUILD_PAGE, deleted=self.live.deleted)
        self.phases = {}
        fresh.drop()
        fresh.create_tables(indexes=False)  # load first, index once at the end
        try:
            self._timed("load", lambda: self._load(replay, progress))
            self._timed("indexes", fresh.create_indexes)
        except BaseException:
            fresh.drop()
            raise
        self._timed("vacuum", fresh.vacuum)
        return self._timed("swap", lambda: fresh.swap_into(live, replay.write_since))

    def _timed(self, phase: str, step: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return step()
        finally:
            self.phases[phase] = time.monotonic() - started

    @staticmethod
    def _load(replay: ProjectionRunner, progress: Progress | None) -> None:
        """Every page up to the head, each prepared on a reader thread while earlier ones are
        written. Order-free pages (inserts of once-only keys) are written by WRITERS connections
        side by side, so their COPYs run on several backends; tracking still moves page by page,
        in order. Any other page waits for those and commits with its tracking."""
        store = replay.store
        head = replay.head()
        position = 0
        writing: deque[tuple[Future[None], int]] = deque()

        def prepare(start: int) -> tuple[Plan, int]:
            ops, end = replay.ops_between(start, head)
            return store.plan(ops), end

        def settle(plan: Plan, end: int) -> None:
            nonlocal position
            if not store.apply(plan, expected=position, position=end):
                raise RuntimeError(f"rebuild of {replay.name} moved by someone else")
            position = end
            if progress:
                progress(position, head)

        def settle_oldest() -> None:
            written, written_end = writing.popleft()
            written.result()
            settle(Plan(), written_end)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-read") as reader, \
                ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="rebuild-write") as writers:
            upcoming = reader.submit(prepare, position) if position < head else None
            while upcoming is not None:
                plan, end = upcoming.result()
                upcoming = reader.submit(prepare, end) if end < head else None
                if plan.order_free:
                    writing.append((writers.submit(store.write_alone, plan), end))
                    if len(writing) < WRITERS:
                        continue
                while writing and (len(writing) >= WRITERS or not plan.order_free):
                    settle_oldest()
                if not plan.order_free:
                    settle(plan, end)
            while writing:
                settle_oldest()
