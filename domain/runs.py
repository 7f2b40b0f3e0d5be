"""Job runs: `/start` opens one, success or failure closes it, and a run open too long times out.

A run is keyed by its `rid` (any short client string, e.g. a UUID), or by "" when the client sends
none, so concurrent runs of one job stay apart when they name themselves and a job that never
does has one run at a time (a second `/start` restarts it, as a re-run of the job would).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.errors import ValidationError

MAX_RID_LENGTH = 64
MAX_OPEN_RUNS = 50  # past this, the oldest open run is forgotten: a job that never ends its runs
MAX_BODY_CHARS = 10_240  # what a signal keeps of its request body

# Why a monitor changed status: every flip carries one of these.
SUCCESS, BEAT_OVERDUE, GRACE_EXPIRED = "success", "beat_overdue", "grace_expired"
FAILED, EXIT_STATUS, RUN_TIMEOUT, RUN_TOO_SHORT = "fail", "exit_status", "run_timeout", \
    "run_too_short"
PAUSED, RESUMED = "paused", "resumed"

OpenRuns = dict[str, dict[str, Any]]  # rid ("" for none) → {"started_at", "timed_out"}


def check_rid(rid: object) -> str | None:
    if rid is None:
        return None
    if not isinstance(rid, str) or not 0 < len(rid) <= MAX_RID_LENGTH or not rid.isprintable():
        raise ValidationError("rid must be 1-64 printable characters",
                              details=[{"field": "rid", "message": "1-64 characters"}])
    return rid


def check_exit_status(exit_status: int) -> int:
    if not 0 <= exit_status <= 255:
        raise ValidationError("exit status must be 0-255",
                              details=[{"field": "exit_status", "message": "0-255"}])
    return exit_status


def kept_body(body: str | None) -> str | None:
    """The part of a request body a signal keeps: at most 10 KiB of text, nothing when empty."""
    return body[:MAX_BODY_CHARS] if body else None


def opened(runs: OpenRuns, rid: str | None, at: datetime) -> OpenRuns:
    """The open runs once a run starts (a new copy: aggregate state is replaced, never mutated)."""
    runs = {key: run for key, run in runs.items() if key != (rid or "")}
    runs[rid or ""] = {"started_at": at, "timed_out": False}
    while len(runs) > MAX_OPEN_RUNS:
        del runs[min(runs, key=lambda key: runs[key]["started_at"])]
    return runs


def closed(runs: OpenRuns, rid: str | None) -> OpenRuns:
    return {key: run for key, run in runs.items() if key != (rid or "")}


def timed_out(runs: OpenRuns, rid: str | None) -> OpenRuns:
    key = rid or ""
    return {**runs, key: {**runs[key], "timed_out": True}} if key in runs else runs


def started_at(runs: OpenRuns, rid: str | None) -> datetime | None:
    run = runs.get(rid or "")
    return run["started_at"] if run else None


def first_timeout(runs: OpenRuns, max_runtime_seconds: int | None
                  ) -> tuple[datetime, str | None] | None:
    """The earliest moment an open run outlives `max_runtime_seconds`, and that run's rid."""
    if not max_runtime_seconds:
        return None
    limit = timedelta(seconds=max_runtime_seconds)
    due = [(run["started_at"] + limit, key) for key, run in runs.items() if not run["timed_out"]]
    if not due:
        return None
    moment, key = min(due)
    return moment, key or None


def too_short(started: datetime | None, at: datetime, min_runtime_seconds: int | None) -> bool:
    """A run that ended sooner than its minimum runtime did not really do its work."""
    return bool(started and min_runtime_seconds
                and (at - started).total_seconds() < min_runtime_seconds)
