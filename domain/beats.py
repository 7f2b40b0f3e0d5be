"""What beats teach a monitor: the interval to expect, and which beats come far too soon."""

from __future__ import annotations

import math
import statistics
from datetime import datetime

from domain.errors import ValidationError

RECENT_BEATS = 21  # the last 20 intervals teach the expected one
MIN_INTERVALS = 3  # fewer than this and nothing is expected yet
TOO_FREQUENT_RATIO = 4  # a beat sooner than expected / 4 is flagged


def check_value(value: object) -> float | None:
    """A beat's optional number; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError("value must be a finite number",
                              details=[{"field": "value", "message": "a number"}])
    return value


def learned_interval(times: list[datetime]) -> float | None:
    """The median of the intervals between the given beats, once there are enough of them."""
    intervals = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    if len(intervals) < MIN_INTERVALS:
        return None
    return max(statistics.median(intervals), 1.0)


def is_too_frequent(previous: datetime | None, at: datetime, expected: float | None) -> bool:
    """Whether a beat at `at` comes far sooner than expected after the previous one."""
    if previous is None or expected is None:
        return False
    return (at - previous).total_seconds() < expected / TOO_FREQUENT_RATIO
