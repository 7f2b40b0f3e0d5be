"""Finding one resource by the id a query names: null, not an error, when there is none."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


async def found_or_none(id: str, load: Callable[[UUID], T],
                        missing: type[Exception]) -> T | None:
    """What `load` finds for `id`; None for an id that is no UUID or that names nothing the
    caller may see (another workspace's resources are not found)."""
    try:
        key = UUID(id)
    except ValueError:
        return None
    try:
        return await run_in_threadpool(load, key)
    except missing:
        return None
