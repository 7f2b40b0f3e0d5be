"""Telling someone that something moved, off the caller's thread.

A projection runner tells alert evaluation that a read model the rules measure has moved
(`ProjectionRunner.advanced`: a Redis claim, then a job sent through Redis). Told on the runner's
own thread, a Redis that hangs rather than refuses (a network partition, a stopped server) held
every page up for its socket timeouts: read models fell behind although their database was fine.
A `Teller` tells from a thread of its own instead, one tell at a time: moves while one is on its
way ask for one more after it, as a single run reads whatever is new. A failing tell is logged
with its traceback the first time and when the error changes, then once a minute at most.

`BackOff` is for tells made on the caller's thread (the live streams' publisher, the doorbell
rung after an ingest response): after one fails, leave the dependency be for a while rather than
wait for its timeout on every tell; whoever listens has a re-check of its own meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("beacon.projections")
QUIET_SECONDS = 60.0  # between log lines about a tell that keeps failing the same way


class Teller:
    def __init__(self, name: str, tell: Callable[[], object], stop: threading.Event):
        """`tell` is called on a thread of this teller's, which ends once `stop` is set."""
        self.name, self._tell, self._stop = name, tell, stop
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._last_error = ""
        self._logged_at = 0.0

    def ask(self) -> None:
        """Tell soon; never waits for the telling."""
        self._wanted.set()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"tell-{self.name}")
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wanted.wait(0.5):
                continue
            self._wanted.clear()
            try:
                self._tell()
            except Exception as error:  # noqa: BLE001 - whoever waits has a timer to fall back on
                self._failed(error)
            else:
                if self._failures:
                    log.info("telling that projection %s moved works again (after %d failures)",
                             self.name, self._failures)
                self._failures = 0

    def _failed(self, error: Exception) -> None:
        self._failures += 1
        text, now = f"{type(error).__name__}: {error}", time.monotonic()
        if self._failures == 1 or text != self._last_error:
            log.exception("could not tell that projection %s moved", self.name)
            self._logged_at = now
        elif now - self._logged_at >= QUIET_SECONDS:
            log.warning("still cannot tell that projection %s moved (%d failures in a row): %s",
                        self.name, self._failures, text)
            self._logged_at = now
        self._last_error = text


class BackOff:
    """Whether to try a best-effort tell now: not for `seconds` after one failed."""

    def __init__(self, seconds: float = 5.0):
        self.seconds = seconds
        self._until = 0.0

    @property
    def waiting(self) -> bool:
        return time.monotonic() < self._until

    def failed(self) -> None:
        self._until = time.monotonic() + self.seconds
