"""The vocabulary projections speak: table shapes and row operations, free of any SQL dialect."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.time import from_micros as from_micros  # projections speak domain time
from domain.time import micros as micros

# Portable column types; infrastructure renders them per backend. UUID columns take canonical
# UUID strings in row operations; PostgreSQL stores 16 bytes (and reads back uuid.UUID), SQLite
# the text.
TEXT, BIGINT, BOOL, JSON, DOUBLE, UUID = "text", "bigint", "bool", "json", "double", "uuid"


@dataclass(frozen=True)
class Parent:
    """Whose rows these are, for a table without a `workspace_id` column: `column` holds the
    `key` of a row of `table` (same database), whose workspace they share. Deleting a project
    purges a table's rows through its parents (infrastructure/workspace_purge.py)."""

    column: str
    table: str
    key: str = "id"


@dataclass(frozen=True)
class Table:
    """A read-model table: columns by portable type, a primary key, secondary indexes.

    `clustered_by`: bulk writes group their rows by these columns (groups in their sorted order,
    rows within one in the order they came: for events, about time order), so rows that queries
    read together (one event name of one workspace) share disk pages. `keys_once`: the projection
    inserts each key at most once, never updating or deleting, so a rebuild may load rows first
    and build the primary key after (it starts over the careful way if the key turns out not to
    be unique). `retired_indexes`: indexes an earlier release declared, dropped at start-up so
    that writes stop paying for them (an index of anyone else's is left alone). `parents`: how a
    table without a `workspace_id` column finds its workspace (any of them leads to it).
    `shared`: its rows belong to no workspace (what the projection knows of its whole log), so
    deleting a project leaves them."""

    name: str
    columns: dict[str, str]
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    clustered_by: tuple[str, ...] = ()
    keys_once: bool = False
    retired_indexes: tuple[tuple[str, ...], ...] = ()  # earlier releases' indexes: start-up drops them
    parents: tuple[Parent, ...] = ()
    shared: bool = False


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


@dataclass(frozen=True)
class Lookup:
    """A value read from another of the projection's tables: `column` of the row matching `key`
    (`many`: any of the rows matching it)."""

    table: str
    column: str
    key: dict[str, Any]
    many: bool = False


@dataclass(frozen=True)
class Fanout:
    """Insert one row per row of `source` matching `match` (None matches NULL; a Lookup matches
    what it reads), copying `copy` (target column ← source column) beside the constant `row`.
    Rows whose primary key already exists are left as they are."""

    table: str
    source: str
    match: dict[str, Any]
    copy: dict[str, str]
    row: dict[str, Any]


@dataclass(frozen=True)
class InsertRecords:
    """One row per object of a JSON array (`records`, JSON text), column by column from the
    object's keys (`fields`: column → key), the other columns from `constants`. The database
    unpacks the array itself, so a batch of a thousand events is one statement. Keys must be
    distinct within one array; a row whose key exists is replaced."""

    table: str
    records: str
    fields: dict[str, str]
    constants: dict[str, Any]


@dataclass(frozen=True)
class AddCounts:
    """Add to a counter column: for each (`key` columns' values) → n of `counts`, add n to
    `column` of the row with that key and the `constants`, a missing row counting from zero.
    Unlike the other operations it is not idempotent: a projection yields it for what one event
    brings, and its counts are exact because a page commits once, with its tracking position.
    Counts commute, so a page's are summed per key and written after its other operations; a
    table that receives them receives nothing else."""

    table: str
    constants: dict[str, Any]
    key: tuple[str, ...]
    column: str
    counts: Mapping[tuple[Any, ...], int]


Op = Upsert | Patch | Delete | KeepMax | InsertRecords | Fanout | AddCounts


class Projection(ABC):
    """Turns the events of one application's log into row operations on its tables."""

    name: str
    source: str  # the application whose notification log it reads
    tables: tuple[Table, ...]
    topics: tuple[str, ...] = ()  # event topics it reads; empty means all

    @abstractmethod
    def ops(self, event: Any) -> Iterable[Op]:
        """The row operations one event implies; events it does not know make none."""
