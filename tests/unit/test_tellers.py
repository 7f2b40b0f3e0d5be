"""Telling that a projection moved happens off the runner's thread: a tell that hangs (a Redis
that stopped answering) holds nothing up, moves meanwhile ask for one tell after it, and a tell
that keeps failing the same way is logged once, not once a page."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from infrastructure.tellers import Teller
from tests.polling import eventually


def test_asking_never_waits_and_moves_meanwhile_make_one_more_tell() -> None:
    stop, release, told = threading.Event(), threading.Event(), []

    def hanging() -> None:
        told.append(time.monotonic())
        release.wait(5)

    teller = Teller("events", hanging, stop)
    try:
        started = time.monotonic()
        for _ in range(50):  # pages moving while the first tell hangs
            teller.ask()
        assert time.monotonic() - started < 0.5
        assert eventually(lambda: len(told) == 1)
        release.set()
        assert eventually(lambda: len(told) == 2)  # the 49 later moves: one tell
        time.sleep(0.3)
        assert len(told) == 2
    finally:
        stop.set()


def test_a_tell_failing_the_same_way_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    stop, tries = threading.Event(), []

    def refused() -> None:
        tries.append(1)
        raise ConnectionError("Redis is down")

    teller = Teller("events", refused, stop)
    try:
        with caplog.at_level(logging.INFO, logger="beacon.projections"):
            for attempt in range(1, 21):
                teller.ask()
                assert eventually(lambda n=attempt: len(tries) >= n)
        failed = [r for r in caplog.records if "could not tell" in r.getMessage()]
        assert len(failed) == 1 and failed[0].exc_info is not None
    finally:
        stop.set()
