"""Sends a webhook's POST over HTTP, only to public addresses unless private ones are allowed.

The host is resolved and checked before every attempt, and the POST goes to the address that was
checked (with the original Host and TLS name), so DNS cannot change it in between. What the
response means (deliver, retry, give up) is the application's to decide.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from application.webhooks import Sent
from infrastructure.webhook_addresses import PrivateAddressError, resolve


class HttpWebhookSender:
    def __init__(self, *, allow_private: bool, timeout: float = 10.0):
        self.allow_private = allow_private
        self.client = httpx.Client(timeout=timeout, follow_redirects=False,
                                   headers={"User-Agent": "Beacon-Webhooks/0.1"})

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Sent:
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        transient = True
        try:
            address = resolve(url, self.allow_private)
            pinned, extensions, host = _pinned(url, address)
            response = self.client.post(pinned, content=body, extensions=extensions,
                                        headers={"Host": host, **headers})
            status_code = response.status_code
        except PrivateAddressError as refused:
            error, transient = refused.message, False
        except httpx.TimeoutException:
            error = "timed out"
        except httpx.TransportError as failure:
            error = f"connection failed: {type(failure).__name__}: {failure}"[:500]
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        return Sent(status_code, error, duration_ms, transient)

    def close(self) -> None:
        self.client.close()


def _pinned(url: str, address: str) -> tuple[str, dict[str, Any], str]:
    """The URL aimed at the checked address, the TLS name to verify, and the Host header."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    original_host = parts.netloc.rsplit("@", 1)[-1]
    return pinned, extensions, original_host
