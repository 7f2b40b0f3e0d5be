"""Every id Beacon makes, in one place.

Derived ids (`uuid5`) are pure: the same inputs name the same thing, and one tenant's natural keys
can never name another tenant's aggregate. Fresh ids are drawn here too, but only applications draw
them: an aggregate is always given its id, so the domain stays deterministic.
"""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

BEACON_NAMESPACE = uuid5(NAMESPACE_URL, "https://beacon.dev/ids")


def new_id() -> UUID:
    """A fresh random id for an aggregate with no natural key (a workspace, an incident, …)."""
    return uuid4()


def namespaced_id(workspace_id: UUID, kind: str, natural_key: str) -> UUID:
    """The aggregate id for a client-chosen key, scoped to its workspace (DESIGN.md decision 4)."""
    return uuid5(workspace_id, f"{kind}:{natural_key}")


def global_id(kind: str, natural_key: str) -> UUID:
    """The aggregate id for a key that is unique across the whole installation."""
    return uuid5(BEACON_NAMESPACE, f"{kind}:{natural_key}")


def update_id(incident_id: UUID, position: int) -> str:
    """A timeline update's id: `upd_` and 12 hex digits, from its position in the incident."""
    return "upd_" + uuid5(incident_id, f"update:{position}").hex[:12]


def outage_incident_id(monitor_id: UUID, down_since: datetime) -> UUID:
    """One incident per outage: the same monitor down since the same moment names the same one."""
    return uuid5(monitor_id, f"outage:{down_since.isoformat()}")


def delivery_id(subscriber_id: str, incident_id: str, version: int) -> UUID:
    """The stable id of one webhook delivery (X-Beacon-Delivery): the same on every attempt."""
    return uuid5(UUID(subscriber_id), f"{incident_id}:{version}")
