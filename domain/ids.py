"""Deterministic identifiers: one tenant's natural keys can never name another tenant's aggregate."""

from uuid import NAMESPACE_URL, UUID, uuid5

BEACON_NAMESPACE = uuid5(NAMESPACE_URL, "https://beacon.dev/ids")


def namespaced_id(workspace_id: UUID, kind: str, natural_key: str) -> UUID:
    """The aggregate id for a client-chosen key, scoped to its workspace (DESIGN.md decision 4)."""
    return uuid5(workspace_id, f"{kind}:{natural_key}")


def global_id(kind: str, natural_key: str) -> UUID:
    """The aggregate id for a key that is unique across the whole installation."""
    return uuid5(BEACON_NAMESPACE, f"{kind}:{natural_key}")
