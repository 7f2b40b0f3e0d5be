"""The vocabulary projections speak: table shapes and row operations, free of any SQL dialect."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Portable column types; infrastructure renders them per backend.
TEXT, BIGINT, BOOL, JSON, DOUBLE = "text", "bigint", "bool", "json", "double"


@dataclass(frozen=True)
class Table:
    """A read-model table: columns by portable type, a primary key, secondary indexes."""

    name: str
    columns: dict[str, str]
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Upsert:
    """Insert a whole row, replacing the row with the same primary key."""

    table: str
    row: dict[str, Any]


@dataclass(frozen=True)
class Patch:
    """Set some columns of the row with the given key (no-op if it is absent)."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    table: str
    key: dict[str, Any]


@dataclass(frozen=True)
class KeepMax:
    """Insert the row, or raise `column` to `row[column]` if the existing value is lower."""

    table: str
    row: dict[str, Any]
    column: str


Op = Upsert | Patch | Delete | KeepMax


class Projection(ABC):
    """Turns the events of one application's log into row operations on its tables."""

    name: str
    source: str  # the application whose notification log it reads
    tables: tuple[Table, ...]
    topics: tuple[str, ...] = ()  # event topics it reads; empty means all

    @abstractmethod
    def ops(self, event: Any) -> Iterable[Op]:
        """The row operations one event implies; events it does not know make none."""


def micros(moment: datetime) -> int:
    """A timestamp as integer microseconds since the epoch: exact, sortable, portable."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int | None) -> datetime | None:
    if value is None:
        return None
    seconds, us = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=us)
