"""When a monitor expects its next beat: every `period_seconds`, or at the times of a cron
expression read in an IANA time zone.

Cron times follow cronsim (the evaluator Healthchecks uses), which behaves as Debian's cron does
around daylight-saving changes: a time the clock skips (02:30 on the night 02:00 jumps to 03:00)
is due at the first moment after the jump (03:00 local), and a fixed time the clock repeats (02:30
on the night 03:00 falls back to 02:00) is due once, at its first occurrence. Expressions whose hour
is a wildcard (`*/30 * * * *`) are due in both passes of a repeated hour, as the clock shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from domain.errors import ValidationError

MAX_CRON_LENGTH = 200
MAX_MISSED_COUNTED = 1000  # missed_count walks cron times; past this many it stops counting


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", details=[{"field": field, "message": message}])


@dataclass(frozen=True)
class CronSchedule:
    """A cron expression (5 fields, or cronsim's 6 with seconds) in an IANA time zone."""

    cron: str
    tz: str

    @classmethod
    def parse(cls, value: object) -> CronSchedule:
        """`{"cron": "30 2 * * *", "tz": "Europe/Berlin"}` (tz defaults to UTC), or a 422."""
        if not isinstance(value, dict) or set(value) - {"cron", "tz"}:
            raise _invalid("schedule", "an object {cron, tz}")
        cron, tz = value.get("cron"), value.get("tz", "UTC")
        if not isinstance(cron, str) or not cron.strip() or len(cron) > MAX_CRON_LENGTH:
            raise _invalid("schedule.cron", "a cron expression")
        if not isinstance(tz, str):
            raise _invalid("schedule.tz", "an IANA time zone name")
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise _invalid("schedule.tz", f"unknown time zone {tz!r}") from None
        try:
            CronSim(cron, datetime(2026, 1, 1, tzinfo=zone))
        except CronSimError as error:
            raise _invalid("schedule.cron", str(error)) from None
        return cls(cron=" ".join(cron.split()), tz=tz)

    def as_dict(self) -> dict[str, str]:
        return {"cron": self.cron, "tz": self.tz}

    def after(self, moment: datetime) -> datetime:
        """The first cron time strictly after `moment`, in UTC."""
        local = moment.astimezone(ZoneInfo(self.tz))
        return next(CronSim(self.cron, local)).astimezone(UTC)


def cron_of(schedule: dict[str, str] | None) -> CronSchedule | None:
    """The stored form (a plain dict on events) back as a schedule."""
    return CronSchedule(schedule["cron"], schedule["tz"]) if schedule else None


def check_schedule(period_seconds: int | None, schedule: object) -> dict[str, str] | None:
    """A monitor expects beats by a period or by a cron schedule, never both (422)."""
    if schedule is None:
        return None
    if period_seconds is not None:
        raise ValidationError("give period_seconds or schedule, not both", details=[
            {"field": "schedule", "message": "not with period_seconds"}])
    return CronSchedule.parse(schedule).as_dict()


def next_expected(moment: datetime, period_seconds: int | None, cron: CronSchedule | None,
                  learned: float | None) -> tuple[datetime, float] | None:
    """When the beat after one at `moment` is due, and the interval that implies (the gap to the
    cron time after it, for a cron schedule): None while nothing is expected yet."""
    if cron is not None:
        due = cron.after(moment)
        return due, (cron.after(due) - due).total_seconds()
    expected = float(period_seconds) if period_seconds else learned
    if expected is None:
        return None
    return moment + timedelta(seconds=expected), expected


def missed_since(late_at: datetime, now: datetime, cron: CronSchedule | None,
                 expected: float | None) -> int:
    """Expected beats gone by without one: the one due at `late_at` and each due after it."""
    if now < late_at or (cron is None and expected is None):
        return 0
    if cron is None:
        assert expected is not None
        return 1 + int((now - late_at).total_seconds() // expected)
    missed, due = 1, cron.after(late_at)
    while due <= now and missed < MAX_MISSED_COUNTED:
        missed, due = missed + 1, cron.after(due)
    return missed
