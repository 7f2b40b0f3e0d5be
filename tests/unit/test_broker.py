"""The in-process broker: however many Beacons a process builds (the test suite builds hundreds),
dramatiq's time-limit watchdog, a thread that wakes every second for ever, runs once."""

from __future__ import annotations

import threading

from infrastructure.broker import build_broker


def watchdogs() -> int:
    return sum(type(t).__name__ == "_CtypesTimeoutManager" for t in threading.enumerate())


def test_brokers_built_in_one_process_share_one_time_limit_watchdog() -> None:
    for _ in range(3):
        build_broker()
    assert watchdogs() == 1
