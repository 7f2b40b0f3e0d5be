"""Runs the enrichment pipeline (application/enrichment.py) where projections run: in `beacon
serve` on the embedded default, in `beacon projector` in the production shape, never in an API
process that serves with --no-projections. It follows the Telemetry log like a projection (woken
by the same LISTEN/NOTIFY, or polling SQLite) and keeps its place in the same tracking table."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from application.enrichment import EnrichedPage, Enricher
from infrastructure.projection_runner import Progress, ProjectionRunner
from infrastructure.read_models import ReadModelStore
from projections.enrichment import EnrichmentPipeline

log = logging.getLogger("beacon.projections")
# Sources a page: each page's messages go to the live streams at once, once it is recorded. Ten
# batches (up to 10,000 events, ~5 MB of messages) keep what a page publishes under Redis's
# default output buffer for a subscriber (32 MB, or 8 MB for a minute, after which Redis drops it)
# and its latency a tenth of a 100-batch page's; a page costs two short transactions.
PAGE = 10
# Told, once the place has moved from `start` to `end`, what the page in between recorded: the
# live streams send what is enriched (infrastructure/stream_relay.py, stream_wakes.py).
PageListener = Callable[[int, int, EnrichedPage], None]


class EnrichmentRunner(ProjectionRunner):
    """A page of sources is enriched (recorded as events), then the place moves past it. A crash
    in between enriches the page again: those already recorded conflict and are skipped."""

    rebuildable = False

    def __init__(self, enricher: Enricher, app: Any, store: ReadModelStore,
                 listeners: list[PageListener] | None = None, place: ReadModelStore | None = None):
        """`store` is where others read the pipeline's place (status, read-your-writes); the
        pipeline reads and moves it through `place`, the same row on a connection of its own
        where it has one (interfaces/bootstrap.py `place_database`), opened only by a process
        that runs it."""
        super().__init__(EnrichmentPipeline(), app, store, page_size=PAGE)
        self.enricher = enricher
        self.listeners = listeners if listeners is not None else []
        self.place = place or store

    def catch_up(self, progress: Progress | None = None) -> int:
        pages = 0
        position = self.place.position()
        head = self.head()
        while position < head:
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=self.page_size, stop=head, topics=self.projection.topics)
            end = notifications[-1].id if len(notifications) == self.page_size else head
            page = self.enricher.enrich_page(notifications)
            if not self.place.apply([], expected=position, position=end):
                position = self.place.position()  # another projector moved it: go on from there
                continue
            self._tell_streams(position, end, page)
            position = end
            pages += 1
            if progress:
                progress(position, head)
        return pages

    def close(self) -> None:
        if self.place.db is not self.store.db:
            self.place.db.close()

    def _tell_streams(self, start: int, end: int, page: EnrichedPage) -> None:
        """After the place moved: a listener that fails costs a stream a read of the log (it
        finds the page missing), never the pipeline its progress."""
        for listener in self.listeners:
            try:
                listener(start, end, page)
            except Exception:
                log.exception("telling the live streams about enriched page %d-%d failed", start, end)
