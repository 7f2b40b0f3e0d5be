"""What Beacon derives from what it received: visitor ids, and the recorded enrichment of a batch.

DESIGN.md decision 10: geo and device enrichment could come out differently if derived again (a
newer database), so it is recorded as events, with what it was derived with. Rebuilding a read model
replays those events; deriving again is an explicit act (`EventEnrichment.rederive`).
See docs/decisions/enrichment-pipeline.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

VISITOR_PREFIX = "visitor_"
MAX_CONTEXT = 512  # characters of a context's ip or user_agent
# The enriched dimensions as analytics and the live stream name them → an enrichment record's keys.
DIMENSIONS = {"$country": "country", "$region": "region", "$city": "city", "$browser": "browser",
              "$os": "os", "$device_type": "device_type"}


@dataclass(frozen=True)
class Client:
    """Who sent an event, as the request (or the SDK, in the event's context) says: the client's
    address and user agent. Only ever held in memory: see `stored`."""

    address: str | None
    user_agent: str | None

    def stored(self, *, store_ip: bool) -> dict[str, str]:
        """What of the client is kept with its events: the address anonymised (enough for the
        country, rarely for a city), the raw one only where the workspace opted in."""
        kept: dict[str, str] = {}
        anonymous = anonymised(self.address)
        if anonymous is not None:
            kept["network"] = anonymous
        if store_ip and self.address is not None and anonymous is not None:
            kept["ip"] = self.address
        if self.user_agent:
            kept["user_agent"] = self.user_agent
        return kept


def context_client(raw: object) -> Client | None:
    """The client an SDK names in an event's (or report's) `context`: `{ip?, user_agent?}`, for a
    server sending on behalf of a browser. Anything else there is ignored, as is an `ip` that is
    not an address: the context is a hint, never a reason to refuse the event."""
    context = raw.get("context") if isinstance(raw, dict) else None
    if not isinstance(context, dict):
        return None
    ip, agent = context.get("ip"), context.get("user_agent")
    address = canonical_address(ip) if isinstance(ip, str) and len(ip) <= MAX_CONTEXT else None
    user_agent = agent if isinstance(agent, str) and 0 < len(agent) <= MAX_CONTEXT else None
    return Client(address, user_agent) if address or user_agent else None


def canonical_address(address: str | None) -> str | None:
    """An address as one client always gets it (None if it is not an address): an IPv4 address
    a dual-stack listener or proxy shows mapped into IPv6 (`::ffff:81.2.69.160`) as plain IPv4,
    IPv6 in its compressed lower-case form."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


def anonymised(address: str | None) -> str | None:
    """The address with its host part zeroed: IPv4 to its /24, IPv6 to its /48 (None if it is
    not an address; an IPv4 address mapped into IPv6 counts as IPv4)."""
    canonical = canonical_address(address)
    if canonical is None:
        return None
    parsed = ipaddress.ip_address(canonical)
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)


def visitor_id(salt: bytes, workspace_id: UUID, client: Client) -> str:
    """A cookieless visitor id: the same client (address and user agent) in the same workspace on
    the same day gets the same id; with the day's salt destroyed it can be neither recomputed nor
    reversed, nor linked to another day's."""
    digest = hashlib.sha256(b"\x00".join((
        salt, workspace_id.bytes, (client.address or "").encode(),
        (client.user_agent or "").encode()))).hexdigest()
    return VISITOR_PREFIX + digest[:32]


def enrichment_id(source_id: UUID) -> UUID:
    """The enrichment of a batch or report: one per source, so deriving twice conflicts."""
    return uuid5(source_id, "enrichment")


class EventEnrichment(Aggregate):
    """What was derived from one accepted batch or exception report, and with what.

    `records` is a JSON array with one object per event of the source, in its order:
    `{event_id, content_hash, country, region, city, browser, os, device_type}` (an exception
    report's one record has its exception_id as `event_id`). `source_position` is the source's
    position in the Telemetry log, so a reader of the log by position finds both halves."""

    def __init__(self, workspace_id: UUID, source_id: UUID, source_position: int, kind: str,
                 derived_with: dict[str, str], records: str):
        self.workspace_id = workspace_id
        self.source_id = source_id
        self.source_position = source_position
        self.kind = kind
        self.derived_with = derived_with
        self.records = records

    class Derived(Aggregate.Created):
        workspace_id: UUID
        source_id: UUID
        source_position: int
        kind: str  # "events" (a batch) or "exception"
        derived_with: dict[str, str]  # e.g. {"canonical_form": "beacon-event-1", "geo": ..., "ua": ...}
        records: str  # a JsonText: see the class's docstring

    class Rederived(Aggregate.Event):
        """Derived again (`beacon enrich`), with the databases of that moment."""

        workspace_id: UUID
        source_id: UUID
        source_position: int
        kind: str
        derived_with: dict[str, str]
        records: str

        def apply(self, aggregate: EventEnrichment) -> None:
            aggregate.derived_with, aggregate.records = self.derived_with, self.records

    @classmethod
    def derive(cls, *, workspace_id: UUID, source_id: UUID, source_position: int, kind: str,
               derived_with: dict[str, str], records: str, at: Any) -> EventEnrichment:
        return cls._create(cls.Derived, id=enrichment_id(source_id), timestamp=at,
                           workspace_id=workspace_id, source_id=source_id,
                           source_position=source_position, kind=kind,
                           derived_with=derived_with, records=records)

    def rederive(self, *, derived_with: dict[str, str], records: str, at: Any) -> None:
        self.trigger_event(self.Rederived, timestamp=at, workspace_id=self.workspace_id,
                           source_id=self.source_id, source_position=self.source_position,
                           kind=self.kind, derived_with=derived_with, records=records)
