"""Who made a change: recorded on every event so history can be audited."""

from typing import TypedDict


class Actor(TypedDict):
    """The API key (or the admin, or the system) behind a change."""

    key_id: str | None
    name: str


ADMIN: Actor = {"key_id": None, "name": "admin"}
