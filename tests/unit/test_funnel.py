"""The funnel counter on hand-made rows: ties, windows, attempts, the three orders, medians."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from projections.analytics_questions import FunnelOrder, FunnelQuery, FunnelStep
from projections.funnel import OTHER, count_funnel

S = 1_000_000  # one second in µs
STEPS = ("a", "b", "c")  # name indexes 0, 1, 2


def query(order: FunnelOrder = FunnelOrder.SEQUENTIAL, window: int = 100, start: int = 0,
          end: int = 1000, steps: tuple[str, ...] = STEPS, breakdown: str | None = None) -> FunnelQuery:
    return FunnelQuery("w", steps, start * S, end * S, window * S, order, breakdown=breakdown)


def counts(rows: list[tuple[str, int, int, object]], **kwargs: object) -> list[int]:
    seconds = [(actor, index, at * S, value) for actor, index, at, value in rows]
    return [step.count for step in count_funnel(seconds, query(**kwargs)).steps]  # type: ignore[arg-type]


def test_equal_timestamps_count_as_in_order() -> None:
    assert counts([("x", 2, 5, None), ("x", 1, 5, None), ("x", 0, 5, None)]) == [1, 1, 1]


def test_a_later_attempt_converts_when_the_first_does_not() -> None:
    rows = [("x", 0, 0, None), ("x", 0, 500, None), ("x", 1, 510, None), ("x", 2, 520, None)]
    assert counts(rows, window=60) == [1, 1, 1]


def test_the_window_is_measured_from_step_one_and_includes_its_end() -> None:
    rows = [("x", 0, 0, None), ("x", 1, 50, None), ("x", 2, 100, None)]
    assert counts(rows, window=100) == [1, 1, 1]
    assert counts(rows, window=99) == [1, 1, 0]


def test_step_one_must_be_in_the_range_but_later_steps_need_not() -> None:
    rows = [("x", 0, 999, None), ("x", 1, 1050, None), ("y", 0, 1000, None), ("y", 1, 1001, None)]
    assert counts(rows) == [1, 1, 0]


def test_strict_forbids_other_events_between_steps_but_not_at_the_same_moment() -> None:
    blocked = [("x", 0, 1, None), ("x", OTHER, 2, None), ("x", 1, 3, None)]
    tied = [("x", 0, 1, None), ("x", OTHER, 1, None), ("x", 1, 3, None), ("x", OTHER, 3, None)]
    assert counts(blocked, order=FunnelOrder.STRICT) == [1, 0, 0]
    assert counts(blocked) == [1, 1, 0]
    assert counts(tied, order=FunnelOrder.STRICT) == [1, 1, 0]


def test_strict_searches_past_a_tie_that_would_dead_end() -> None:
    # a@1 → b@1 cannot go on (the next moment, 2, has no c); a@1 → b@2 → c@3 can.
    rows = [("x", 0, 1, None), ("x", 1, 1, None), ("x", 1, 2, None), ("x", 2, 3, None)]
    assert counts(rows, order=FunnelOrder.STRICT) == [1, 1, 1]


def test_any_order_takes_steps_after_step_one_in_any_order() -> None:
    rows = [("x", 0, 1, None), ("x", 2, 2, None), ("x", 1, 3, None), ("y", 2, 0, None),
            ("y", 0, 1, None), ("y", 1, 2, None)]
    assert counts(rows, order=FunnelOrder.ANY) == [2, 2, 1]
    assert counts(rows) == [2, 2, 0]


def test_a_repeated_step_needs_a_second_event() -> None:
    once = [("x", 0, 1, None), ("x", 1, 2, None)]
    twice = [*once, ("x", 0, 3, None)]
    assert counts(once, steps=("a", "b", "a")) == [1, 1, 0]
    assert counts(twice, steps=("a", "b", "a")) == [1, 1, 1]


def test_medians_and_rates_come_from_each_actors_counted_path() -> None:
    rows = [("x", 0, 0, None), ("x", 1, 10, None), ("y", 0, 0, None), ("y", 1, 30, None),
            ("z", 0, 0, None), ("z", 1, 40, None), ("z", 2, 41, None), ("w", 0, 5, None)]
    steps = count_funnel([(a, i, t * S, v) for a, i, t, v in rows], query()).steps
    assert [(s.count, s.conversion_rate) for s in steps] == [(4, 1.0), (3, 0.75), (1, 0.25)]
    assert [s.median_seconds_from_previous for s in steps] == [None, 30.0, 1.0]


def test_a_breakdown_files_each_actor_under_its_counted_step_one_value() -> None:
    rows = [("x", 0, 0, "free"), ("x", 0, 500, "pro"), ("x", 1, 510, None),
            ("y", 0, 0, None), ("z", 0, 0, "pro")]
    seconds = [(a, i, t * S, v) for a, i, t, v in rows]
    funnel = count_funnel(seconds, query(window=60, breakdown="plan"))
    assert funnel.breakdowns is not None
    assert [(b.value, [s.count for s in b.steps]) for b in funnel.breakdowns] == \
        [("pro", [2, 1, 0]), (None, [1, 0, 0])]


def test_nobody_entering_gives_zero_rates_not_errors() -> None:
    steps = count_funnel([], query()).steps
    assert [(s.count, s.conversion_rate, s.median_seconds_from_previous) for s in steps] == \
        [(0, 0.0, None)] * 3


def brute_force(rows: list[tuple[str, int, int, object]], q: FunnelQuery) -> list[tuple[object, ...]]:
    """Every path of every actor tried, as the module's docstring defines the counted one."""
    plan = [list(dict.fromkeys(q.steps)).index(step) for step in q.steps]
    actors: dict[str, list[tuple[str, int, int, object]]] = {}
    for row in rows:
        actors.setdefault(row[0], []).append(row)
    counted = []
    for mine in actors.values():
        best = None
        for size in range(1, len(plan) + 1):
            for path in itertools.permutations(mine, size):
                times = [event[2] for event in path]
                if [event[1] for event in path] != plan[:size] or not q.start <= times[0] < q.end \
                        or any(not times[0] <= t <= times[0] + q.window for t in times):
                    continue
                if q.order is not FunnelOrder.ANY and times != sorted(times):
                    continue
                if q.order is FunnelOrder.STRICT and any(
                        a < other[2] < b for a, b in itertools.pairwise(times) for other in mine):
                    continue
                value = path[0][3]
                key = (-size, times, value is None, "" if value is None else str(value))
                if best is None or key < best[0]:
                    best = (key, times, value)
        if best is not None:
            counted.append(best)

    def summary(paths: list[list[int]]) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for k in range(len(plan)):
            reached = [times for times in paths if len(times) > k]
            gaps = [(p[k] - p[k - 1]) / S for p in reached] if k else []
            rows.append((len(reached), len(reached) / len(paths) if paths else 0.0,
                         statistics.median(gaps) if gaps else None))
        return rows

    by_value = {v: summary([times for _, times, value in counted if value == v])
                for v in {value for _, _, value in counted}} if q.breakdown is not None else {}
    return [summary([times for _, times, _ in counted]), sorted(by_value.items(), key=str)]


@pytest.mark.parametrize("seed", range(40))
def test_random_actors_count_as_a_brute_force_search_does(seed: int) -> None:
    rng = random.Random(seed)
    steps = rng.choice([STEPS, ("a", "b"), ("a", "b", "a"), ("b", "a", "c")])
    names = len(dict.fromkeys(steps))
    order = rng.choice(list(FunnelOrder))
    q = FunnelQuery("w", steps, 10 * S, 40 * S, rng.choice([5, 15, 60]) * S, order,
                    breakdown=rng.choice([None, "plan"]))
    rows = [(f"actor-{rng.randrange(12)}", rng.choice([*range(names), OTHER]),
             rng.randrange(0, 60) * S, rng.choice([None, "free", "pro", "1"]))
            for _ in range(rng.randrange(0, 45))]
    if sum(1 for row in rows if row[0] == "actor-0") > 6:  # keep the brute force's permutations few
        rows = [row for row in rows if row[0] != "actor-0"]
    found = count_funnel(rows, q)  # type: ignore[arg-type]

    def table(steps: list[FunnelStep]) -> list[tuple[object, ...]]:
        return [(s.count, s.conversion_rate, s.median_seconds_from_previous) for s in steps]

    got = [table(found.steps), sorted(((b.value, table(b.steps)) for b in found.breakdowns or []),
                                     key=str)]
    assert got == brute_force(rows, q)
