"""Signed, expiring download links for export files: an HMAC of the export id and the expiry."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from infrastructure.settings import Settings

_PROCESS_KEY = secrets.token_bytes(32)


def signing_key(settings: Settings) -> bytes:
    """BEACON_SIGNING_SECRET; else derived from the admin token; else this process's random key
    (links then only work on the process that made them)."""
    if settings.signing_secret:
        return settings.signing_secret.encode()
    if settings.admin_token:
        return hmac.new(settings.admin_token.encode(), b"beacon export links",
                        hashlib.sha256).digest()
    return _PROCESS_KEY


def sign(key: bytes, export_id: str, expires: int) -> str:
    return hmac.new(key, f"{export_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def verify(key: bytes, export_id: str, expires: int, signature: str) -> bool:
    """Constant-time check that a link was signed by this installation (expiry checked apart)."""
    # As bytes: compare_digest refuses str with non-ASCII characters, and a link can carry any.
    return hmac.compare_digest(sign(key, export_id, expires).encode(), signature.encode())
