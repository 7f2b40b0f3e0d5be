"""End-to-end fixtures: the real app under uvicorn in a background thread, for real HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from interfaces.bootstrap import Beacon
from interfaces.rest.app import create_app
from tests.polling import eventually


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(beacon: Beacon) -> Iterator[str]:
    """The real app under uvicorn in a background thread; yields its base URL."""
    with serving(beacon) as url:
        yield url


@contextmanager
def serving(beacon: Beacon) -> Iterator[str]:
    """Serve `beacon`'s app with uvicorn in a background thread while inside; yields its URL."""
    port = free_port()
    config = uvicorn.Config(create_app(beacon), host="127.0.0.1", port=port, log_config=None,
                            log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    assert eventually(lambda: served.started or not thread.is_alive(), timeout=15,
                      interval=0.02) and served.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=10)
