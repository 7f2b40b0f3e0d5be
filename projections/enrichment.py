"""The enrichment read model: each event's content hash, geo and device, from the recorded
enrichment (never derived here: a rebuild replays what was recorded, DESIGN.md decision 10)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from eventsourcing.utils import get_topic

from domain.batch import EventBatch
from domain.enrichment import DIMENSIONS, EventEnrichment
from domain.exception_report import ExceptionReport
from projections.model import BIGINT, TEXT, InsertRecords, KeepMax, Op, Projection, Table
from projections.model import UUID as UUID_COLUMN

ENRICHED = Table(
    name="rm_enrichment",
    columns={"event_id": TEXT, "workspace_id": UUID_COLUMN, "kind": TEXT, "content_hash": TEXT,
             "country": TEXT, "region": TEXT, "city": TEXT, "browser": TEXT, "os": TEXT,
             "device_type": TEXT, "derived_with": TEXT, "position": BIGINT},
    # Looked up by the event (analytics' dimensions, timelines): the near-unique id leads.
    primary_key=("event_id", "workspace_id", "kind"),
    # A first derivation inserts each key once: its rows COPY straight in. Only `beacon enrich`
    # writes a key again; its page then falls back to the upsert (read_models.py), and a rebuild
    # that meets such a key starts over checking keys row by row. Both are rare and still right.
    keys_once=True,
)
# How far the sources of the Telemetry log are enriched in these read models: the source position
# of the last first derivation applied. The pipeline records those in its sources' order, so every
# source up to it has its row (alert evaluation waits for it: interfaces/alerting.py). Not the
# projection's own position, which passes a source as soon as it has read the log beyond it,
# whether or not the pipeline has enriched it yet.
REACH = Table(name="rm_enrichment_reach", columns={"log": TEXT, "source_position": BIGINT},
              primary_key=("log",), shared=True)
# Analytics dimensions ($country, …) → rm_enrichment columns: DIMENSIONS (domain/enrichment.py).
RECORD_FIELDS = {"event_id": "event_id", "content_hash": "content_hash",
                 **{column: column for column in DIMENSIONS.values()}}


class EnrichmentPipeline(Projection):
    """Not a read model: the enrichment pipeline's place in the Telemetry log (the runner in
    infrastructure/enrichment_runner.py records events instead of writing rows)."""

    name = "enrichment"
    source = "Telemetry"
    tables = ()
    topics = (get_topic(EventBatch.Accepted), get_topic(ExceptionReport.Reported))

    def ops(self, event: Any) -> Iterable[Op]:
        return ()


class EnrichedEventsProjection(Projection):
    """The latest enrichment of every event and exception report (a derivation again replaces it)."""

    name = "enriched_events"
    source = "Telemetry"
    tables = (ENRICHED, REACH)
    topics = (get_topic(EventEnrichment.Derived), get_topic(EventEnrichment.Rederived))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, EventEnrichment.Derived | EventEnrichment.Rederived):
            yield InsertRecords(ENRICHED.name, event.records, fields=RECORD_FIELDS, constants={
                "workspace_id": str(event.workspace_id), "kind": event.kind,
                "derived_with": orjson.dumps(event.derived_with).decode(),
                "position": event.source_position})
        if isinstance(event, EventEnrichment.Derived):  # a re-derivation is of an older source
            yield KeepMax(REACH.name, {"log": "Telemetry",
                                       "source_position": event.source_position},
                          "source_position")
