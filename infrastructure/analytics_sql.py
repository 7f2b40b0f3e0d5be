"""The SQL pieces of the analytics engine, per backend: property text, filters, buckets, metrics.

Queries select from a derived table of `rm_events` rows of one workspace, with each filtered
property already turned into its text form (`f0`, `f1`, …) so predicates name a plain column:

    SELECT … FROM (SELECT timestamp, actor_id, session_id, <text of key> AS f0 FROM rm_events ev
                   WHERE workspace_id = %s AND …) e WHERE <predicate on f0> …

Text form of a property value: a string is itself; true/false are `true`/`false`; a number is its
JSON text (`42`, `1.5`); JSON null or a missing key is unset (SQL NULL); an object or array is its
JSON text (PostgreSQL spaces it as jsonb prints it, SQLite compactly).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from projections.analytics_questions import COLUMN_KEYS, NUMBER, FilterOp, Interval, Metric, PropertyFilter
from projections.enrichment import DIMENSIONS, ENRICHED
from projections.telemetry import EVENTS

IS_NUMBER = re.compile(NUMBER)
SQLITE_TEXT = ("(SELECT CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
               "WHEN 'null' THEN NULL WHEN 'object' THEN j.value WHEN 'array' THEN j.value "
               "ELSE CAST(j.atom AS TEXT) END FROM json_each(ev.properties) j WHERE j.key = %s)")


@dataclass
class Sql:
    """A fragment of SQL and its parameters, in the order their placeholders appear."""

    text: str
    params: list[Any] = field(default_factory=list)


def text_of(key: str, dialect: str) -> Sql:
    """The text form of `key` for one row of `rm_events ev`: a column, an enriched dimension,
    or a property."""
    if key in COLUMN_KEYS:
        return Sql(f"ev.{key}")
    if key in DIMENSIONS:  # the event's latest recorded enrichment (unset until it is derived)
        return Sql(f"(SELECT en.{DIMENSIONS[key]} FROM {ENRICHED.name} en WHERE en.event_id = "
                   "ev.event_id AND en.workspace_id = ev.workspace_id AND en.kind = 'events')")
    if dialect == "postgres":
        return Sql("(ev.properties ->> %s)", [key])
    return Sql(SQLITE_TEXT, [key])


def _is_number(column: str, dialect: str) -> str:
    if dialect == "postgres":
        return f"{column} ~ '{NUMBER}'"
    # SQLite has no regular expressions: digits and at most one inner dot, after an optional minus.
    bare = f"(CASE WHEN substr({column}, 1, 1) = '-' THEN substr({column}, 2) ELSE {column} END)"
    return (f"({bare} <> '' AND {bare} NOT GLOB '*[^0-9.]*' AND {bare} NOT GLOB '*.*.*' "
            f"AND {bare} NOT GLOB '.*' AND {bare} NOT GLOB '*.')")


def predicate(column: str, rule: PropertyFilter, dialect: str) -> Sql:
    """Whether the text in `column` passes the filter. NEQ keeps rows where the key is unset;
    GT/LT compare as numbers when both sides are numbers, else as strings by code point."""
    op, value = rule.op, rule.value
    if op is FilterOp.IS_SET:
        return Sql(f"{column} IS NOT NULL")
    if op is FilterOp.IS_NOT_SET:
        return Sql(f"{column} IS NULL")
    if op is FilterOp.EQ:
        return Sql(f"{column} = %s", [value])
    if op is FilterOp.NEQ:
        return Sql(f"({column} IS NULL OR {column} <> %s)", [value])
    if op is FilterOp.CONTAINS:
        find = "strpos" if dialect == "postgres" else "instr"
        return Sql(f"{find}({column}, %s) > 0", [value])
    sign = ">" if op is FilterOp.GT else "<"
    as_text = f'{column} COLLATE "C"' if dialect == "postgres" else column
    if value is None or not IS_NUMBER.match(value):
        return Sql(f"{as_text} {sign} %s", [value])
    number = "DOUBLE PRECISION" if dialect == "postgres" else "REAL"
    return Sql(f"(CASE WHEN {_is_number(column, dialect)} THEN CAST({column} AS {number}) {sign} %s "
               f"ELSE {as_text} {sign} %s END)", [float(value), value])


def month_key(dialect: str) -> str:
    """Months since year 0 of the UTC month of `e.timestamp` (µs)."""
    if dialect == "postgres":
        moment = "(to_timestamp(floor(e.timestamp / 1000000.0)) AT TIME ZONE 'UTC')"
        return f"CAST(EXTRACT(YEAR FROM {moment}) * 12 + EXTRACT(MONTH FROM {moment}) - 1 AS BIGINT)"
    seconds = "((e.timestamp - ((e.timestamp % 1000000) + 1000000) % 1000000) / 1000000)"
    return (f"(CAST(strftime('%Y', {seconds}, 'unixepoch') AS INTEGER) * 12 "
            f"+ CAST(strftime('%m', {seconds}, 'unixepoch') AS INTEGER) - 1)")


def bucket_key(interval: Interval, first: int, step: int, dialect: str) -> Sql:
    """The bucket of `e.timestamp`: its index from `first` (fixed steps), or its month number."""
    if interval is Interval.MONTH:
        return Sql(month_key(dialect))
    return Sql("((e.timestamp - %s) / %s)", [first, step])


def events(workspace_id: str, where: Sequence[Sql], filters: Sequence[PropertyFilter],
           extra: dict[str, str], dialect: str, *, received: bool = False) -> Sql:
    """`(SELECT …) e`: rows of one workspace meeting `where`, filtered, with `extra` keys' text
    (alias → key) beside timestamp, actor_id, session_id and name (and received_at, if
    `received`: what an alert preview asks of the events that arrived late)."""
    columns = ["ev.timestamp", "ev.actor_id", "ev.session_id", "ev.name",
               *(["ev.received_at"] if received else [])]
    params: list[Any] = []
    texts = {**{f"f{n}": rule.key for n, rule in enumerate(filters)}, **extra}
    for alias, key in texts.items():
        text = text_of(key, dialect)
        columns.append(f"{text.text} AS {alias}")
        params += text.params
    conditions = ["ev.workspace_id = %s", *(w.text for w in where)]
    params += [workspace_id, *(p for w in where for p in w.params)]
    inner = (f"SELECT {', '.join(columns)} FROM {EVENTS.name} ev WHERE {' AND '.join(conditions)}")
    checks = [predicate(f"f{n}", rule, dialect) for n, rule in enumerate(filters)]
    outer = " AND ".join(c.text for c in checks) or "1 = 1"
    return Sql(f"(SELECT * FROM ({inner}) inner_rows WHERE {outer}) e",
               params + [p for c in checks for p in c.params])


def measured(source: Sql, group: Sql, metric: Metric) -> Sql:
    """`SELECT g, value FROM source GROUP BY g` for the metric; distinct counts deduplicate first
    (a hash aggregate, much faster on PostgreSQL than COUNT(DISTINCT …)'s sort)."""
    if metric is Metric.COUNT:
        return Sql(f"SELECT {group.text} AS g, COUNT(*) AS n FROM {source.text} GROUP BY 1",
                   group.params + source.params)
    column = "actor_id" if metric is Metric.UNIQUE_ACTORS else "session_id"
    return Sql(f"SELECT g, COUNT(*) AS n FROM (SELECT DISTINCT {group.text} AS g, {column} "
               f"FROM {source.text} WHERE {column} IS NOT NULL) d GROUP BY g",
               group.params + source.params)
