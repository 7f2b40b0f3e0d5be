"""The analytics benchmark's data set: deterministic (seeded) visits of 50k actors over 30 days,
20 event names, 10 properties, and a signup journey that funnels can follow.

Visits start in time order and their events are emitted as they happen, so 1000-event batches
hold roughly consecutive moments, as SDK traffic does (with the small disorder of real arrival).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from domain.time import micros
from domain.tracked_event import TrackedEvent

START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 30
ACTORS = 50_000
JOURNEY = ("signup_started", "signup_completed", "project_created")
OTHERS = ("page_viewed", "search_performed", "dashboard_opened", "report_exported", "file_uploaded",
          "comment_added", "chart_created", "invite_sent", "settings_changed", "alert_configured",
          "integration_connected", "billing_viewed", "plan_upgraded", "login", "logout",
          "help_opened", "feedback_sent")
NAMES = JOURNEY + OTHERS  # 20
WEIGHTS = [1 / (n + 1) ** 0.7 for n in range(len(OTHERS))]
COUNTRIES = [f"country_{n:02d}" for n in range(50)]


def visits(total: int, seed: int = 2026) -> Iterator[TrackedEvent]:
    """`total` events, the same ones for the same seed."""
    rng = random.Random(seed)
    span = DAYS * 86_400
    mean_events = 10
    starts = sorted((rng.uniform(0, span) for _ in range(total // mean_events)), reverse=True)
    emitted = 0
    while True:  # the sorted starts, then (rarely) a few more anywhere until `total` is reached
        begin = starts.pop() if starts else rng.uniform(0, span)
        actor = f"user-{rng.randrange(ACTORS)}"
        session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        visit = {"plan": rng.choice(["free", "free", "starter", "pro", "enterprise"]),
                 "country": COUNTRIES[min(int(rng.expovariate(0.1)), 49)],
                 "browser": rng.choice(["chrome", "safari", "firefox", "edge", "other"]),
                 "os": rng.choice(["macos", "windows", "linux", "ios", "android"]),
                 "device": rng.choice(["desktop", "mobile", "tablet"]),
                 "app_version": f"3.{rng.randrange(12)}.0"}
        journey = 0 if rng.random() < 0.2 else len(JOURNEY)
        moment = begin
        for _ in range(1 + int(rng.expovariate(1 / (mean_events - 1)))):
            if journey < len(JOURNEY) and rng.random() < 0.5:
                name = JOURNEY[journey]
                journey = journey + 1 if rng.random() < 0.7 else len(JOURNEY)
            else:
                name = rng.choices(OTHERS, WEIGHTS)[0]
            moment += rng.expovariate(1 / 45)
            properties = {**visit, "path": f"/p/{rng.randrange(200)}",
                          "referrer": f"ref_{rng.randrange(30)}", "amount": rng.randrange(1000),
                          "is_trial": rng.random() < 0.3}
            yield TrackedEvent(
                event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), category="product",
                name=name, timestamp_us=micros(START + timedelta(seconds=min(moment, span - 1))),
                actor_id=actor, source_app="web", source_version=visit["app_version"],
                properties=properties, session_id=session)
            emitted += 1
            if emitted == total:
                return


def batches(total: int, size: int = 1000) -> Iterator[list[TrackedEvent]]:
    batch: list[TrackedEvent] = []
    for event in visits(total):
        batch.append(event)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
