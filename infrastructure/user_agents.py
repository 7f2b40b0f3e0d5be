"""Browser, OS and device type of a user agent, by ua-parser with its builtin rules (no network)."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version

from ua_parser import parse

from application.enrichment import Device

TABLETS = ("iPad", "Kindle", "Tablet", "Nexus 7", "Nexus 9", "Nexus 10", "SM-T", "Tab")
OTHER = "Other"  # ua-parser's family when it recognises nothing


class UserAgentParser:
    versions = {"user_agent": f"ua-parser {version('ua-parser')} "
                              f"rules {version('ua-parser-builtins')}"}

    def describe(self, user_agent: str | None) -> Device:
        return _describe(user_agent) if user_agent else Device()


@lru_cache(maxsize=4096)  # a site's visitors share a few hundred user agents
def _describe(user_agent: str) -> Device:
    parsed = parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    os = parsed.os.family if parsed.os else None
    device = parsed.device.family if parsed.device else None
    return Device(None if browser in (None, OTHER) else browser,
                  None if os in (None, OTHER) else os,
                  device_type(device, os, user_agent))


def device_type(device: str | None, os: str | None, user_agent: str) -> str | None:
    """bot, tablet, mobile or desktop; None when nothing says."""
    if device == "Spider":
        return "bot"
    if device and any(mark in device for mark in TABLETS) or (os == "Android" and "Mobile" not in user_agent):
        return "tablet"
    if os in ("iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS") or "Mobile" in user_agent:
        return "mobile"
    if os in ("Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"):
        return "desktop"
    return None
