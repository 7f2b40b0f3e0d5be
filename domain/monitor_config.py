"""What an operator sets on a monitor, and the rules it must keep."""

from __future__ import annotations

from typing import Any

from domain.errors import ValidationError
from domain.page import SLUG
from domain.schedule import check_schedule

MAX_SECONDS = 31 * 86_400
CONFIG_FIELDS = ("name", "period_seconds", "schedule", "grace_seconds", "max_runtime_seconds",
                 "min_runtime_seconds", "page_slug")


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise ValidationError("name must be 1-255 characters",
                              details=[{"field": "name", "message": "1-255 characters"}])
    return name


def check_seconds(field: str, value: object, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_SECONDS:
        raise ValidationError(f"{field} must be an integer from {minimum} to {MAX_SECONDS}",
                              details=[{"field": field, "message": f"{minimum}-{MAX_SECONDS}"}])
    return value


def check_config(config: dict[str, Any]) -> dict[str, Any]:
    """A whole configuration, checked, with its schedule in its stored form."""
    check_name(config["name"])
    check_seconds("period_seconds", config["period_seconds"], 10)
    check_seconds("grace_seconds", config["grace_seconds"], 0)
    check_seconds("max_runtime_seconds", config["max_runtime_seconds"], 1)
    check_seconds("min_runtime_seconds", config["min_runtime_seconds"], 1)
    low, high = config["min_runtime_seconds"], config["max_runtime_seconds"]
    if low is not None and high is not None and low > high:
        raise ValidationError("min_runtime_seconds exceeds max_runtime_seconds", details=[
            {"field": "min_runtime_seconds", "message": "at most max_runtime_seconds"}])
    slug = config["page_slug"]
    if slug is not None and (not isinstance(slug, str) or not SLUG.match(slug)):
        raise ValidationError("page_slug is not a page slug",
                              details=[{"field": "page_slug", "message": "invalid slug"}])
    return {**config, "schedule": check_schedule(config["period_seconds"], config["schedule"])}


def merged_config(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The settings once `given` is applied, checked. A schedule given alone replaces the period
    and a period given alone replaces the schedule; both is a 422."""
    unknown = set(given) - set(CONFIG_FIELDS)
    if unknown:
        raise ValidationError("unknown fields", details=[
            {"field": f, "message": "not a monitor setting"} for f in sorted(unknown)])
    wanted = {**current, **given}
    if given.get("schedule") is not None and "period_seconds" not in given:
        wanted["period_seconds"] = None
    if given.get("period_seconds") is not None and "schedule" not in given:
        wanted["schedule"] = None
    return check_config(wanted)


def changed_config(current: dict[str, Any], given: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields `given` sets to something new, as {field: [before, after]}."""
    wanted = merged_config(current, given)
    return {f: [current[f], wanted[f]] for f in CONFIG_FIELDS if current[f] != wanted[f]}
