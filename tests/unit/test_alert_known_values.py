"""What an alert preview subtracts from a count by the events' own time: the events that were
counted there but had not arrived when the instant was judged (infrastructure/alert_meters.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.alert_meters import unknown_counts


def by_hand(late: list[tuple[int, int]], instants: list[int], window: int, wait: int) -> list[int]:
    return [sum(1 for ts, received in late if t - window < ts <= t and received > t + wait)
            for t in instants]


@given(points=st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 400)), max_size=60),
       instants=st.lists(st.integers(0, 1500), max_size=40, unique=True),
       window=st.integers(1, 300), wait=st.integers(0, 50))
def test_the_sweep_counts_what_checking_every_event_at_every_instant_counts(
        points: list[tuple[int, int]], instants: list[int], window: int, wait: int) -> None:
    late = sorted((ts, ts + delay) for ts, delay in points)
    assert unknown_counts(late, sorted(instants), window, wait) == \
        by_hand(late, sorted(instants), window, wait)


def test_an_event_sent_late_is_unknown_only_between_its_moment_and_its_arrival() -> None:
    late = [(100, 130)]  # happened at 100, arrived at 130
    instants = [99, 100, 110, 128, 129, 130, 150, 200]
    assert unknown_counts(late, instants, window=60, wait=1) == [0, 1, 1, 1, 0, 0, 0, 0]
