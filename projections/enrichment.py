"""The enrichment read model: each event's content hash, geo and device, from the recorded
enrichment (never derived here: a rebuild replays what was recorded, DESIGN.md decision 10)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import orjson
from eventsourcing.utils import get_topic

from domain.batch import EventBatch
from domain.enrichment import DIMENSIONS, EventEnrichment
from domain.exception_report import ExceptionReport
from projections.model import BIGINT, TEXT, InsertRecords, Op, Projection, Table, Upsert
from projections.model import UUID as UUID_COLUMN

ENRICHED = Table(
    name="rm_enrichment",
    columns={"event_id": TEXT, "workspace_id": UUID_COLUMN, "kind": TEXT, "content_hash": TEXT,
             "country": TEXT, "region": TEXT, "city": TEXT, "browser": TEXT, "os": TEXT,
             "device_type": TEXT,
             # The key of the row's derivation in rm_enrichment_derivations (rows written before
             # 2026-12-05 hold the derivation's JSON itself: readers take either).
             "derived_with": TEXT,
             "position": BIGINT},
    # Looked up by the event (analytics' dimensions, timelines): the near-unique id leads.
    primary_key=("event_id", "workspace_id", "kind"),
    # A first derivation inserts each key once: its rows COPY straight in. Only `beacon enrich`
    # writes a key again; its page then falls back to the upsert (read_models.py), and a rebuild
    # that meets such a key starts over checking keys row by row. Both are rare and still right.
    keys_once=True,
)
# What an enrichment was derived with (canonical form, databases' versions), once per workspace
# and derivation, not on each of its thousands of rows: 154 bytes of JSON were a third of a row
# (docs/performance.md).
DERIVATIONS = Table(
    name="rm_enrichment_derivations",
    columns={"workspace_id": UUID_COLUMN, "derivation": TEXT, "derived_with": TEXT},
    primary_key=("workspace_id", "derivation"),
)
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
    tables = (ENRICHED, DERIVATIONS)
    topics = (get_topic(EventEnrichment.Derived), get_topic(EventEnrichment.Rederived))

    def ops(self, event: Any) -> Iterable[Op]:
        if isinstance(event, EventEnrichment.Derived | EventEnrichment.Rederived):
            workspace_id = str(event.workspace_id)
            text = orjson.dumps(event.derived_with, option=orjson.OPT_SORT_KEYS).decode()
            key = derivation_key(text)
            yield Upsert(DERIVATIONS.name, {"workspace_id": workspace_id, "derivation": key,
                                            "derived_with": text})
            yield InsertRecords(ENRICHED.name, event.records, fields=RECORD_FIELDS, constants={
                "workspace_id": workspace_id, "kind": event.kind, "derived_with": key,
                "position": event.source_position})


@lru_cache(maxsize=64)
def derivation_key(text: str) -> str:
    """A derivation's key: its JSON's SHA-256, shortened (hex, so never taken for JSON)."""
    return hashlib.sha256(text.encode()).hexdigest()[:24]
