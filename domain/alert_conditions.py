"""What an alert rule measures: its condition, checked and made canonical, and when an observed
value crosses it. Three kinds: a threshold on an event, exception groups, heartbeat monitors."""

from __future__ import annotations

import math
from typing import Any, TypeGuard
from uuid import UUID

from domain.errors import ValidationError

MIN_WINDOW, MAX_WINDOW = 60, 86_400
COMPARISONS = (">", "<", ">=", "<=")
METRICS = ("count", "unique_actors")
FILTER_OPS = ("eq", "neq", "contains", "gt", "lt", "is_set", "is_not_set")
MAX_FILTERS, MAX_FILTER_KEY, MAX_FILTER_VALUE = 20, 200, 1000
MAX_VALUE = 10**15  # a threshold's value, either way


def invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", details=[{"field": field, "message": message}])


def bounded_number(value: object) -> TypeGuard[int | float]:
    """A finite number (not a boolean) of at most MAX_VALUE either way: a count never comes near
    it, and a larger integer is more than JSON readers agree on (64 bits) or a float holds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return -MAX_VALUE <= value <= MAX_VALUE  # compared as integers: no float overflow
    return math.isfinite(value) and -MAX_VALUE <= value <= MAX_VALUE


def check_threshold(raw: dict[str, Any]) -> dict[str, Any]:
    """A threshold on an event: `metric` of `event` (with property `filters`) over
    `window_seconds`, compared with `op` to `value` (`<` 1 catches silence)."""
    event, metric = raw.get("event"), raw.get("metric", "count")
    op, value = raw.get("op"), raw.get("value")
    if not isinstance(event, str) or not 1 <= len(event) <= 200:
        raise invalid("condition.event", "an event name of 1-200 characters")
    if metric not in METRICS:
        raise invalid("condition.metric", f"one of {', '.join(METRICS)}")
    window = check_window(raw)
    if op not in COMPARISONS:
        raise invalid("condition.op", f"one of {' '.join(COMPARISONS)}")
    if not bounded_number(value) or value < 0:
        raise invalid("condition.value", f"a number from 0 to {MAX_VALUE:,}")
    filters = raw.get("filters") or []
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise invalid("condition.filters", f"a list of at most {MAX_FILTERS} filters")
    for rule in filters:
        if (not isinstance(rule, dict) or not isinstance(rule.get("key"), str)
                or not 1 <= len(rule["key"]) <= MAX_FILTER_KEY
                or rule.get("op", "eq") not in FILTER_OPS
                or not isinstance(rule.get("value"), str | int | float | bool | None)
                or len(str(rule.get("value"))) > MAX_FILTER_VALUE):
            raise invalid("condition.filters", f"each {{key, op, value}}: a key of 1-"
                          f"{MAX_FILTER_KEY} characters, a value of at most {MAX_FILTER_VALUE} "
                          "(a string, number or boolean)")
    return {"type": "threshold", "event": event, "metric": metric, "window_seconds": window,
            "op": op, "value": value,
            "filters": [{"key": f["key"], "op": f.get("op", "eq"),
                         "value": None if f.get("value") is None else str(f["value"])}
                        for f in filters]}


def check_window(raw: dict[str, Any], field: str = "window_seconds",
                 default: int | None = None) -> int:
    window = raw.get(field, default)
    if (not isinstance(window, int) or isinstance(window, bool)
            or not MIN_WINDOW <= window <= MAX_WINDOW):
        raise invalid(f"condition.{field}", f"{MIN_WINDOW}-{MAX_WINDOW} seconds")
    return window


def check_exception_group(raw: dict[str, Any]) -> dict[str, Any]:
    """Exception groups (reports of one fingerprint): a `new` group, a `regressed` one (back in
    the window after `quiet_seconds` without reports), or one `over` `value` reports per window.
    The value observed is how many groups qualify (for `over`: the most reports of one group)."""
    trigger = raw.get("trigger")
    if trigger not in ("new", "regressed", "over"):
        raise invalid("condition.trigger", "one of new, regressed, over")
    condition: dict[str, Any] = {"type": "exception_group", "trigger": trigger,
                                 "window_seconds": check_window(raw, default=300),
                                 "op": ">=", "value": 1}
    if trigger == "regressed":
        condition["quiet_seconds"] = check_window(raw, "quiet_seconds", default=MAX_WINDOW)
    if trigger == "over":
        value = raw.get("value")
        if not isinstance(value, int) or not bounded_number(value) or value < 1:
            raise invalid("condition.value", f"a whole number from 1 to {MAX_VALUE:,}")
        condition.update(op=">", value=value)
    return condition


def check_monitor(raw: dict[str, Any]) -> dict[str, Any]:
    """A heartbeat monitor: `down` fires while it is down (and resolves when it is back up);
    `up` fires when it comes back up, for `window_seconds`."""
    trigger = raw.get("trigger")
    if trigger not in ("down", "up"):
        raise invalid("condition.trigger", "one of down, up")
    try:
        monitor_id = str(UUID(str(raw.get("monitor_id"))))
    except ValueError:
        raise invalid("condition.monitor_id", "a monitor id") from None
    return {"type": "monitor", "trigger": trigger, "monitor_id": monitor_id,
            "window_seconds": check_window(raw, default=MIN_WINDOW), "op": ">=", "value": 1}


CONDITIONS = {"threshold": check_threshold, "exception_group": check_exception_group,
              "monitor": check_monitor}


def check_condition(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("type") not in CONDITIONS:
        raise invalid("condition.type", f"one of {', '.join(CONDITIONS)}")
    return CONDITIONS[raw["type"]](raw)


def crossed(condition: dict[str, Any], value: float) -> bool:
    """Whether an observed value is past the rule's threshold."""
    op, threshold = condition["op"], condition["value"]
    return {">": value > threshold, "<": value < threshold, ">=": value >= threshold,
            "<=": value <= threshold}[op]
