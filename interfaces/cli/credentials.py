"""Where `beacon login` keeps the Beacon URL and the access token: the user's config directory.

`$XDG_CONFIG_HOME/beacon/credentials.json` (default `~/.config/beacon/credentials.json`), readable
by its owner only (0600). `beacon deploy` and `beacon projects` read it back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str
    token_id: str = ""  # lets `beacon logout` revoke the token, not just forget it

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "beacon"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def save_credentials(credentials: Credentials) -> Path:
    """Write the credentials with mode 0600 from the first byte, replacing any earlier ones."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump({"url": credentials.url, "token": credentials.token,
                   "token_id": credentials.token_id}, file)
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return path


def load_credentials() -> Credentials | None:
    """The stored credentials, or None when `beacon login` has not run (or they are unreadable)."""
    try:
        stored = json.loads(credentials_path().read_text())
        return Credentials(url=str(stored["url"]).rstrip("/"), token=str(stored["token"]),
                           token_id=str(stored.get("token_id", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_credentials() -> bool:
    """Delete the stored credentials; True if there were any."""
    try:
        credentials_path().unlink()
    except FileNotFoundError:
        return False
    return True
