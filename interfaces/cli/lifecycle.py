"""Starting and stopping a Beacon from the command line: settings, logging, shutdown signals."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pydantic
from rich.logging import RichHandler

from domain.errors import DomainError
from infrastructure.settings import Settings
from interfaces.bootstrap import Beacon, bootstrap
from interfaces.cli.console import fail, messages


def load_settings() -> Settings:
    """Settings from the environment; a bad value ends the command with its message."""
    try:
        return Settings()
    except pydantic.ValidationError as error:
        fail("; ".join(str(e["msg"]) for e in error.errors()))


@contextmanager
def running(settings: Settings) -> Iterator[Beacon]:
    """A Beacon for the length of a command; a domain error becomes a red message and exit 1."""
    beacon = bootstrap(settings)
    try:
        yield beacon
    except DomainError as error:
        fail(error.message)
    finally:
        beacon.close()


def configure_logging(settings: Settings) -> None:
    """Log to stderr through rich; uvicorn's loggers propagate here (given log_config=None)."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(message)s", force=True,
                        handlers=[RichHandler(console=messages, show_path=False)])


def wait_for_shutdown() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
