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


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix: an IPv4 address inside


def _is_public(address: str) -> bool:
    """Public, and so is any IPv4 address it carries (mapped, 6to4, Teredo's client, NAT64's):
    64:ff9b::7f00:1 reaches 127.0.0.1 through a NAT64 gateway."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    carried: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            carried = [ip.ipv4_mapped]
        elif ip in NAT64:
            carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        elif ip.sixtofour is not None:
            carried.append(ip.sixtofour)
        elif ip.teredo is not None:
            carried.append(ip.teredo[1])
    return all(a.is_global and not a.is_multicast for a in carried)


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
