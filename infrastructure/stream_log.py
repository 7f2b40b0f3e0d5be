"""The live stream's messages read back from the Telemetry log by position (DESIGN.md decision 13).

Two readers, one per setting of BEACON_ENRICHMENT (docs/decisions/live-stream.md). `SourceLog`
sends each batch and exception report as accepted. `EnrichedLog` sends them with what the pipeline
recorded: the sources of a range, joined with their `EventEnrichment.Derived` events, which lie
after them in the same log (the pipeline enriches a source after it is written). Either reads one
page of sources at a time, in log order, for one workspace or for all.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from application.stream import Message, messages_of
from domain.batch import EventBatch
from domain.enrichment import EventEnrichment
from domain.exception_report import ExceptionReport

log = logging.getLogger("beacon.stream")
SOURCES = (get_topic(EventBatch.Accepted), get_topic(ExceptionReport.Reported))
DERIVED = (get_topic(EventEnrichment.Derived),)
PAGE = 100  # notifications per read (a batch holds up to 1,000 events)


class LogReader(Protocol):
    def head(self) -> int:
        """The log's last notification."""

    def read(self, start: int, stop: int, workspace_id: UUID | None
             ) -> tuple[list[Message], int]:
        """The messages of the sources in notifications `start`..`stop` (of one workspace, or
        all), one page of them, in log order; and the last notification the page covers."""


class SourceLog:
    """Batches and reports as accepted, without enrichment."""

    def __init__(self, app: Application[Any]):
        self.app = app

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def read(self, start: int, stop: int, workspace_id: UUID | None
             ) -> tuple[list[Message], int]:
        sources, end = read_sources(self.app, start, stop, workspace_id)
        return [m for position, source in sources for m in messages_of(position, source)], end


class EnrichedLog(SourceLog):
    """Batches and reports with their recorded enrichment. Every source of the range must have
    been enriched already (the caller reads no further than the pipeline's place); one that has
    none is sent without it, and said so in the log."""

    def read(self, start: int, stop: int, workspace_id: UUID | None
             ) -> tuple[list[Message], int]:
        sources, end = read_sources(self.app, start, stop, workspace_id)
        records = self.records_of([position for position, _ in sources])
        return [m for position, source in sources
                for m in messages_of(position, source, records.get(position))], end

    def records_of(self, positions: list[int]) -> dict[int, list[dict[str, Any]]]:
        """The recorded enrichment of the sources at `positions`, by position: read forward from
        the first of them, as far as the last is found (the pipeline records them in log order,
        soon after their sources)."""
        wanted = set(positions)
        found: dict[int, list[dict[str, Any]]] = {}
        start = min(wanted, default=0) + 1
        to_event = self.app.mapper.to_domain_event
        while wanted:
            page = self.app.recorder.select_notifications(start=start, limit=PAGE, topics=DERIVED)
            for notification in page:
                derived: Any = to_event(notification)
                if derived.source_position in wanted:
                    wanted.discard(derived.source_position)
                    found[derived.source_position] = orjson.loads(derived.records)
            if len(page) < PAGE:
                break
            start = page[-1].id + 1
        if wanted:
            log.warning("sources %s have no recorded enrichment: streamed without it", sorted(wanted))
        return found


def read_sources(app: Application[Any], start: int, stop: int, workspace_id: UUID | None
                 ) -> tuple[list[tuple[int, Any]], int]:
    """One page of batches and reports in notifications `start`..`stop`, decoded, with the last
    notification the page covers."""
    notifications = app.recorder.select_notifications(start=start, limit=PAGE, stop=stop,
                                                      topics=SOURCES)
    to_event = app.mapper.to_domain_event
    sources = []
    for notification in notifications:
        source: Any = to_event(notification)
        if workspace_id is None or source.workspace_id == workspace_id:
            sources.append((notification.id, source))
    return sources, notifications[-1].id if len(notifications) == PAGE else stop
