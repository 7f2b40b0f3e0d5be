"""Who a request comes from: the client's address (through trusted proxies) and user agent."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from fastapi import Request

from domain.enrichment import Client, context_client
from domain.tracked_event import TrackedEvent

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str | None, forwarded_for: Sequence[str],
                   trusted: Sequence[Network]) -> str | None:
    """The peer, unless it is a trusted proxy: then the nearest X-Forwarded-For hop that is not
    one, walking back from the peer. Hops further left than that were written by the client
    itself (anyone can send the header), so they are never believed; from an untrusted peer
    the header is ignored altogether."""
    if not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    address = peer
    for hop in reversed(hops):
        if not _is_address(hop):
            break  # a garbled chain: nothing to the left of it can be believed either
        address = hop
        if not _trusted(hop, trusted):
            break
    return address


def request_client(request: Request, trusted_proxies: str) -> Client:
    """The client of a request, given BEACON_TRUSTED_PROXIES."""
    peer = request.client.host if request.client else None
    address = client_address(peer, request.headers.getlist("x-forwarded-for"),
                             networks(trusted_proxies))
    return Client(address if _is_address(address) else None,
                  request.headers.get("user-agent") or None)


def event_contexts(raws: Sequence[Any], checked: Sequence[Any]) -> dict[str, Client]:
    """The clients valid events name in their contexts, by event id."""
    return {event.event_id: client for raw, event in zip(raws, checked, strict=True)
            if isinstance(event, TrackedEvent) and (client := context_client(raw)) is not None}


@lru_cache(maxsize=4)
def networks(trusted_proxies: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False)
                 for entry in trusted_proxies.split(",") if entry.strip())


def _is_address(value: str | None) -> bool:
    try:
        ipaddress.ip_address(value or "")
        return True
    except ValueError:
        return False


def _trusted(address: str | None, trusted: Sequence[Network]) -> bool:
    if not trusted or not address:
        return False
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)
