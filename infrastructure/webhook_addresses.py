"""Where webhooks may go: hosts that resolve to public addresses only, unless private ones are allowed.

Checked when a subscriber is added and again before every attempt; the attempt then connects to the
address that was checked (with the original Host and TLS name), so DNS cannot change it in between.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from domain.errors import ValidationError


class PrivateAddressError(ValidationError):
    """The URL's host is, or resolves to, a loopback, private, link-local or otherwise local address."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str, allow_private: bool) -> str:
    """The address to connect to for `url`; raises PrivateAddressError for a refused host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise PrivateAddressError(f"the host {host!r} does not resolve ({error})",
                                  details=[{"field": "url", "message": "host does not resolve"}]
                                  ) from None
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private and not all(_is_public(a) for a in addresses):
        raise PrivateAddressError(
            f"the host {host!r} resolves to a private or local address",
            details=[{"field": "url", "message": "must resolve to public addresses only "
                                                 "(BEACON_ALLOW_PRIVATE_WEBHOOKS=1 allows others)"}])
    return addresses[0]


def check_public_url(url: str, allow_private: bool) -> None:
    """Refuse a webhook URL whose host is not public (when a subscriber is added)."""
    resolve(url, allow_private)
