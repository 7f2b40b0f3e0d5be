"""A rebuild's batch records become COPY rows: every column, in the table's clustered order."""

from __future__ import annotations

import uuid

import msgspec
import orjson

from infrastructure.record_copy import RawJsonbDumper, RecordShape
from projections.model import BIGINT, JSON, TEXT, Table
from projections.telemetry import EVENTS, RECORD_FIELDS

FIELDS = tuple(RECORD_FIELDS.items())
CONSTANTS = ("workspace_id", "received_at")
W, W1, W2 = (f"00000000-0000-4000-8000-00000000000{n}" for n in range(3))


def record(event_id: str, name: str, timestamp: int, **more: object) -> dict[str, object]:
    return {"event_id": event_id, "category": "c", "name": name, "timestamp_us": timestamp,
            "actor_id": "a", "source_app": None, "source_version": None,
            "properties": {"plan": "pro"}, "session_id": None, **more}


def rows_of(shape: RecordShape, batches: list[list[object]],
            unique: tuple[str, ...] = ()) -> list[tuple[object, ...]]:
    with shape.rows(batches, unique) as rows:
        return list(rows)  # the block empties its own list when it ends


def as_dicts(shape: RecordShape, rows: list[tuple[object, ...]]) -> list[dict[str, object]]:
    # JSON values travel as stored, a UUID as its 16 bytes
    return [{c: bytes(v) if isinstance(v, msgspec.Raw) else str(uuid.UUID(bytes=v))
             if isinstance(v, bytes) else v for c, v in zip(shape.columns, row, strict=True)}
            for row in rows]


def test_rows_carry_every_column_and_come_out_in_clustered_order() -> None:
    shape = RecordShape.of(EVENTS, FIELDS, CONSTANTS)
    assert set(shape.columns) == set(EVENTS.columns)
    batches = [
        [W2, 20, orjson.dumps([record("e1", "b", 5), record("e2", "a", 9)])],
        [W1, 10, orjson.dumps([record("e3", "b", 1), record("e4", "a", 7, session_id="s"),
                                 record("e5", "a", 7)])],
    ]
    rows = as_dicts(shape, rows_of(shape, batches))
    assert [(r["workspace_id"], r["name"], r["timestamp"], r["event_id"]) for r in rows] == [
        (W1, "a", 7, "e4"), (W1, "a", 7, "e5"), (W1, "b", 1, "e3"),
        (W2, "a", 9, "e2"), (W2, "b", 5, "e1")]
    assert rows[0] == {"properties": b'{"plan":"pro"}', "workspace_id": W1, "event_id": "e4",
                       "name": "a", "category": "c", "actor_id": "a", "session_id": "s",
                       "source_app": None, "source_version": None, "timestamp": 7,
                       "received_at": 10}


def test_json_null_and_missing_keys_become_sql_null() -> None:
    shape = RecordShape.of(EVENTS, FIELDS, CONSTANTS)
    bare = {"event_id": "e1", "name": "n", "timestamp_us": 1, "properties": None}
    (row,) = as_dicts(shape, rows_of(shape, [[W, 1, orjson.dumps([bare, ])]]))
    assert row["category"] is None and row["session_id"] is None
    assert row["properties"] == b"null"
    dumper = RawJsonbDumper(msgspec.Raw)
    assert dumper.dump(msgspec.Raw(b"null")) is None
    assert dumper.dump(msgspec.Raw(b'{"a":[1,2]}')) == b'\x01{"a":[1,2]}'


def test_rows_of_one_group_keep_the_order_they_came_in() -> None:
    # Grouped by workspace and name, not sorted: a late event stays where it arrived, and rows
    # equal in everything but a NULL or a JSON value need no comparing.
    shape = RecordShape.of(EVENTS, FIELDS, CONSTANTS)
    came = [record("e1", "b", 9), record("e2", "a", 5), record("e3", "b", 2, session_id="s"),
            record("e4", "b", 2, properties={"x": [1]}), record("e5", "a", 1)]
    rows = as_dicts(shape, rows_of(shape, [[W2, 1, orjson.dumps(came[:3])],
                                       [W1, 2, orjson.dumps(came[3:])]]))
    assert [(r["workspace_id"], r["name"], r["event_id"]) for r in rows] == [
        (W1, "a", "e5"), (W1, "b", "e4"), (W2, "a", "e2"), (W2, "b", "e1"), (W2, "b", "e3")]


def test_a_null_among_the_clustered_columns_leaves_the_groups_in_the_order_they_came() -> None:
    shape = RecordShape.of(EVENTS, FIELDS, CONSTANTS)
    came = [record("e1", "b", 1), {**record("e2", "a", 2), "name": None}, record("e3", "b", 3)]
    rows = as_dicts(shape, rows_of(shape, [[W, 1, orjson.dumps(came)]]))
    assert [r["event_id"] for r in rows] == ["e1", "e3", "e2"]


def test_a_table_clustered_by_a_field_and_a_constant_groups_by_both() -> None:
    table = Table(name="t", columns={"k": TEXT, "at": BIGINT, "doc": JSON, "batch": TEXT},
                  primary_key=("k",), clustered_by=("at", "batch"))
    shape = RecordShape.of(table, (("k", "k"), ("at", "at"), ("doc", "doc")), ("batch",))
    rows = as_dicts(shape, rows_of(shape, [
        ["b2", orjson.dumps([{"k": "x", "at": 2, "doc": 1}, {"k": "y", "at": 1, "doc": [2]}])],
        ["b1", orjson.dumps([{"k": "z", "at": 2, "doc": "s"}])]]))
    assert [(r["at"], r["batch"], r["k"]) for r in rows] == [(1, "b2", "y"), (2, "b1", "z"),
                                                              (2, "b2", "x")]


def test_unique_rows_keep_the_last_write_of_each_key_then_sort() -> None:
    shape = RecordShape.of(EVENTS, FIELDS, CONSTANTS)
    first = [record("e1", "z", 1), record("e2", "y", 2)]
    later = [record("e1", "a", 3)]  # the same key written again, under a name that sorts first
    rows = as_dicts(shape, rows_of(shape, [[W, 1, orjson.dumps(first)], [W, 2, orjson.dumps(later)]],
                                      unique=EVENTS.primary_key))
    assert [(r["event_id"], r["name"], r["received_at"]) for r in rows] == [("e1", "a", 2),
                                                                           ("e2", "y", 1)]


def test_rows_become_query_parameters_with_json_as_text_and_uuids_as_uuids() -> None:
    shape = RecordShape.of(EVENTS, FIELDS, CONSTANTS)
    (row,) = shape.parameters(rows_of(shape, [[W1, 7, orjson.dumps([record("e1", "n", 1)])]]))
    values = dict(zip(shape.columns, row, strict=True))
    assert values["workspace_id"] == uuid.UUID(W1)
    assert values["properties"] == '{"plan":"pro"}' and values["received_at"] == 7
