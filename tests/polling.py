"""Waiting in tests for what another thread or process does: one loop, so every wait has a
timeout and says which it was. (Seven lines; a retry library such as tenacity would bring
decorators and exception plumbing for what is here a plain poll.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(check: Callable[[], Any], timeout: float = 10, interval: float = 0.05) -> bool:
    """Whether `check()` became true within `timeout` seconds, asked every `interval`."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
