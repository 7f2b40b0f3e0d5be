"""Who a request comes from: the client's address (through trusted proxies) and user agent."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from fastapi import Request

from domain.enrichment import Client, canonical_address, context_client
from domain.tracked_event import TrackedEvent

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str | None, forwarded_for: Sequence[str],
                   trusted: Sequence[Network]) -> str | None:
    """The peer, unless it is a trusted proxy: then the nearest X-Forwarded-For hop that is not
    one, walking back from the peer. Hops further left than that were written by the client
    itself (anyone can send the header), so they are never believed; from an untrusted peer
    the header is ignored altogether. Addresses in their canonical form (an IPv4 peer of a
    dual-stack listener, `::ffff:10.0.0.2`, is 10.0.0.2); None if the one found is none."""
    address = canonical_address(peer)
    if not _trusted(address, trusted):
        return address
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        found = canonical_address(hop)
        if found is None:
            break  # a garbled chain: nothing to the left of it can be believed either
        address = found
        if not _trusted(found, trusted):
            break
    return address


def request_client(request: Request, trusted_proxies: str) -> Client:
    """The client of a request, given BEACON_TRUSTED_PROXIES."""
    peer = request.client.host if request.client else None
    return Client(client_address(peer, request.headers.getlist("x-forwarded-for"),
                                 networks(trusted_proxies)),
                  request.headers.get("user-agent") or None)


def event_contexts(raws: Sequence[Any], checked: Sequence[Any]) -> dict[str, Client]:
    """The clients valid events name in their contexts, by event id."""
    return {event.event_id: client for raw, event in zip(raws, checked, strict=True)
            if isinstance(event, TrackedEvent) and (client := context_client(raw)) is not None}


MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # IPv4 addresses written as IPv6


@lru_cache(maxsize=4)
def networks(trusted_proxies: str) -> tuple[Network, ...]:
    """BEACON_TRUSTED_PROXIES' networks, an IPv4 one written mapped into IPv6 as IPv4 (as the
    addresses it is compared with are)."""
    return tuple(_canonical_network(ipaddress.ip_network(entry.strip(), strict=False))
                 for entry in trusted_proxies.split(",") if entry.strip())


def _canonical_network(network: Network) -> Network:
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(MAPPED) \
            and network.network_address.ipv4_mapped is not None:
        return ipaddress.IPv4Network((network.network_address.ipv4_mapped, network.prefixlen - 96))
    return network


def _trusted(address: str | None, trusted: Sequence[Network]) -> bool:
    """Whether a canonical address lies in a trusted network."""
    if not trusted or not address:
        return False
    parsed = ipaddress.ip_address(address)
    return any(parsed in network for network in trusted)
