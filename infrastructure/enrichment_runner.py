"""Runs the enrichment pipeline (application/enrichment.py) where projections run: in `beacon
serve` on the embedded default, in `beacon projector` in the production shape, never in an API
process that serves with --no-projections. It follows the Telemetry log like a projection (woken
by the same LISTEN/NOTIFY, or polling SQLite) and keeps its place in the same tracking table."""

from __future__ import annotations

from typing import Any

from application.enrichment import Enricher
from infrastructure.projection_runner import Progress, ProjectionRunner
from infrastructure.read_models import ReadModelStore
from projections.enrichment import EnrichmentPipeline


class EnrichmentRunner(ProjectionRunner):
    """A page of sources is enriched (recorded as events), then the place moves past it. A crash
    in between enriches the page again: those already recorded conflict and are skipped."""

    rebuildable = False

    def __init__(self, enricher: Enricher, app: Any, store: ReadModelStore):
        super().__init__(EnrichmentPipeline(), app, store)
        self.enricher = enricher

    def catch_up(self, progress: Progress | None = None) -> int:
        pages = 0
        position = self.store.position()
        head = self.head()
        while position < head:
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=self.page_size, stop=head, topics=self.projection.topics)
            end = notifications[-1].id if len(notifications) == self.page_size else head
            self.enricher.enrich(notifications)
            if not self.store.apply([], expected=position, position=end):
                position = self.store.position()  # another projector moved it: go on from there
                continue
            position = end
            pages += 1
            if progress:
                progress(position, head)
        return pages
