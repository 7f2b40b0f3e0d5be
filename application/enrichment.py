"""The enrichment pipeline: content hashes, geo and device, derived off the Telemetry log.

It reads accepted batches and exception reports by log position, never on the request path, and
records what it derived as `EventEnrichment` events in the same log (DESIGN.md decision 10). What
the request path keeps for it is the client as stored (domain/enrichment.py `Client.stored`).
See docs/decisions/enrichment-pipeline.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import orjson
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Notification, RecordConflictError
from eventsourcing.utils import get_topic

from application.telemetry import TelemetryApplication
from domain.batch import EventBatch, JsonText
from domain.enrichment import EventEnrichment, enrichment_id
from domain.exception_report import ExceptionReport
from domain.time import iso_of_micros

CANONICAL_FORM = "beacon-event-1"  # recorded with every hash: change the form, change the name
SOURCES = (get_topic(EventBatch.Accepted), get_topic(ExceptionReport.Reported))
PAGE = 100


@dataclass(frozen=True)
class Place:
    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class Device:
    browser: str | None = None
    os: str | None = None
    device_type: str | None = None  # desktop, mobile, tablet, bot


class GeoLookup(Protocol):
    @property
    def versions(self) -> dict[str, str]: ...

    def locate(self, address: str | None) -> Place: ...

    def close(self) -> None: ...


class DeviceLookup(Protocol):
    @property
    def versions(self) -> dict[str, str]: ...

    def describe(self, user_agent: str | None) -> Device: ...


def canonical_event(record: dict[str, Any], *, anonymous: bool = False) -> bytes:
    """The canonical form of an event as the client sent it (`beacon-event-1`): its fields as
    Beacon accepted them, UTF-8 JSON with keys sorted at every level and no whitespace; the time
    as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC), ids lower-case, absent fields null, and `actor_id`
    null where the client sent none (the visitor id is Beacon's, not the client's)."""
    return orjson.dumps({  # written in sorted order already: orjson's sort then finds it so
        "actor_id": None if anonymous else record["actor_id"], "category": record["category"],
        "event_id": record["event_id"], "name": record["name"],
        "properties": record.get("properties"), "session_id": record.get("session_id"),
        "source_app": record.get("source_app"), "source_version": record.get("source_version"),
        "timestamp": iso_of_micros(record["timestamp_us"]),
    }, option=orjson.OPT_SORT_KEYS)


def canonical_report(report: dict[str, Any], *, anonymous: bool = False) -> bytes:
    """An exception report's canonical form: its checked fields, the same way."""
    return orjson.dumps({**report, "actor_id": None if anonymous else report.get("actor_id")},
                        option=orjson.OPT_SORT_KEYS)


def content_hash(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Derivation:
    """What the pipeline derived from one source: `records` as EventEnrichment records them (JSON
    text), the same as `rows`, and the batch's events as it decoded them to hash them (None for
    an exception report), so that the live streams' messages are made without decoding again."""

    records: str
    rows: list[dict[str, Any]]
    events: list[dict[str, Any]] | None


@dataclass(frozen=True)
class EnrichedPage:
    """What one `enrich` recorded: its sources `(position, event)` and, when this call recorded
    every one of them, what it derived from each, else None."""

    sources: list[tuple[int, Any]]
    derived: list[Derivation] | None
    saved: int


class Enricher:
    """Derives the enrichment of accepted batches and reports, and records it."""

    def __init__(self, telemetry: TelemetryApplication, geo: GeoLookup, devices: DeviceLookup):
        self.telemetry = telemetry
        self.geo = geo
        self.devices = devices

    def derived_with(self) -> dict[str, str]:
        return {"canonical_form": CANONICAL_FORM, **self.geo.versions, **self.devices.versions}

    def records(self, source: Any) -> str:
        """The enrichment records of a batch or report (see EventEnrichment)."""
        return self.derivation(source).records

    def derivation(self, source: Any) -> Derivation:
        """The enrichment of a batch or report, and the events it was derived from."""
        client: dict[str, Any] = getattr(source, "client", None) or {}
        visitors = set(client.get("visitors", ()))
        others: dict[str, dict[str, Any]] = client.get("events", {})
        derived: dict[int, dict[str, Any]] = {}  # by client record: one request, one client

        def about(kept: dict[str, Any]) -> dict[str, Any]:
            if id(kept) not in derived:
                place = self.geo.locate(kept.get("ip") or kept.get("network"))
                device = self.devices.describe(kept.get("user_agent"))
                derived[id(kept)] = {"country": place.country, "region": place.region,
                                     "city": place.city, "browser": device.browser, "os": device.os,
                                     "device_type": device.device_type}
            return derived[id(kept)]

        if isinstance(source, ExceptionReport.Reported):
            exception_id = source.exception_id
            canonical = canonical_report(source.report, anonymous=exception_id in visitors)
            rows = [{"event_id": exception_id, "content_hash": content_hash(canonical), **about(client)}]
            return Derivation(JsonText(orjson.dumps(rows).decode()), rows, None)
        rows = []
        events = orjson.loads(source.events_json)
        for record in events:
            event_id = record["event_id"]
            canonical = canonical_event(record, anonymous=event_id in visitors)
            rows.append({"event_id": event_id, "content_hash": content_hash(canonical),
                         **about(others.get(event_id, client))})
        return Derivation(JsonText(orjson.dumps(rows).decode()), rows, events)

    def derive(self, source: Any, position: int, derivation: Derivation | None = None
               ) -> EventEnrichment:
        kind = "exception" if isinstance(source, ExceptionReport.Reported) else "events"
        return EventEnrichment.derive(
            workspace_id=source.workspace_id, source_id=source.originator_id,
            source_position=position, kind=kind, derived_with=self.derived_with(),
            records=(derivation or self.derivation(source)).records, at=self.telemetry.clock())

    def enrich(self, notifications: Sequence[Notification]) -> int:
        """Record the enrichment of these sources; any already recorded (a page enriched again
        after a crash, or by another projector) is left as it is. Returns how many were new."""
        return self.enrich_page(notifications).saved

    def enrich_page(self, notifications: Sequence[Notification]) -> EnrichedPage:
        """`enrich`, telling what was recorded: the sources with their records, in log order."""
        to_event = self.telemetry.mapper.to_domain_event
        sources = [(n.id, to_event(n)) for n in notifications]
        if not sources:
            return EnrichedPage([], [], 0)
        derivations = [self.derivation(source) for _, source in sources]
        try:
            self.telemetry.save(*(self.derive(source, position, derivation) for (position, source),
                                  derivation in zip(sources, derivations, strict=True)))
            return EnrichedPage(sources, derivations, len(sources))
        except RecordConflictError:
            pass
        saved = 0
        for position, source in sources:  # derived anew: a failed save has taken the pending events
            try:
                self.telemetry.save(self.derive(source, position))
                saved += 1
            except RecordConflictError:
                continue
        return EnrichedPage(sources, None, saved)  # some are another's: their records unknown here

    def rederive(self, since: datetime, progress: Any = None, until: int | None = None) -> int:
        """Derive every batch and report received since `since` again with the databases of now,
        recorded as new events; returns how many were derived again. `until`: the last log
        position to re-derive, where the pipeline has come to when it runs (those after it are
        its to derive, in log order, as alert evaluation counts on: interfaces/alerting.py)."""
        count = 0
        for notification, source in self._sources_since(since, until):
            try:
                enrichment: EventEnrichment = self.telemetry.repository.get(
                    enrichment_id(source.originator_id))
            except AggregateNotFoundError:  # not enriched yet: enriched now, as the pipeline would
                self.enrich([notification])
                count += 1
                continue
            enrichment.rederive(derived_with=self.derived_with(), records=self.records(source),
                                at=self.telemetry.clock())
            self.telemetry.save(enrichment)
            count += 1
            if progress:
                progress(count)
        return count

    def _sources_since(self, since: datetime, until: int | None
                       ) -> Iterator[tuple[Notification, Any]]:
        recorder = cast(Any, self.telemetry.recorder)
        to_event = self.telemetry.mapper.to_domain_event
        position = 0
        while until is None or position < until:
            page = recorder.select_notifications(start=position + 1, limit=PAGE, topics=SOURCES,
                                                 stop=until)
            for notification in page:
                source: Any = to_event(notification)
                received = getattr(source, "received_at", None) or source.timestamp
                if received >= since:
                    yield notification, source
            if len(page) < PAGE:
                return
            position = page[-1].id
