"""The fast transcoder writes what the library's JSON transcoder reads, and reads what it
wrote, value for value."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from application.stored_batches import JsonTextAsJson
from domain.batch import JsonText
from infrastructure.transcoder import FastJSONTranscoder


def registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):  # as Application does
        transcoder.register(transcoding)
    return transcoder


LIBRARY, FAST = registered(JSONTranscoder()), registered(FastJSONTranscoder())

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(), st.text(), st.uuids(), st.datetimes(timezones=st.just(UTC)),
                    st.datetimes(), st.decimals(allow_nan=False))
keys = st.one_of(st.text(max_size=3), st.integers(-2, 2), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(keys, inner, max_size=3)), max_leaves=12)


def equal(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down (1 == 1.0 == True would hide a change), keys in
    the same order, NaN included (a stored NaN must read back as NaN, not None)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(equal, a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=5), values, max_size=6))
def test_what_orjson_writes_reads_back_as_what_the_library_would_have_written(state: dict) -> None:
    try:
        expected = LIBRARY.decode(LIBRARY.encode(state))
    except (ValueError, TypeError) as error:  # e.g. a lone surrogate: refused alike
        with pytest.raises(type(error)):
            FAST.encode(state)
        return
    assert equal(LIBRARY.decode(FAST.encode(state)), expected)


def test_a_batch_state_goes_through_orjson_and_reads_back_whole() -> None:
    state = {"timestamp": datetime(2026, 3, 1, tzinfo=UTC), "workspace_id": uuid.uuid4(),
             "count": 2, "events_json": '[{"event_id":"a","properties":{"q":"\\"é\\u2028"}}]' * 2,
             "originator_topic": "domain.batch:EventBatch"}
    written = FAST.encode(state)
    assert written == orjson.dumps(FAST._plain(state))  # orjson wrote it, not the fallback
    assert LIBRARY.decode(written) == state


def test_unregistered_types_are_refused_as_the_library_refuses_them() -> None:
    class Opaque:
        pass

    for transcoder in (LIBRARY, FAST):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"value": Opaque()})


def test_decimals_nan_and_big_integers_keep_their_values() -> None:
    state = {"d": Decimal("1.10"), "nan": float("nan"), "big": 2**80, "keys": {1: "one"}}
    assert equal(LIBRARY.decode(FAST.encode(state)), LIBRARY.decode(LIBRARY.encode(state)))


# Reading: msgspec, falling back to the library's decoder.

@given(st.dictionaries(st.text(max_size=8), values, max_size=6))
def test_any_state_decodes_to_what_the_library_decodes(state: dict[str, Any]) -> None:
    stored = LIBRARY.encode(state)
    assert equal(FAST.decode(stored), LIBRARY.decode(stored))
    assert equal(FAST.decode(FAST.encode(state)), LIBRARY.decode(stored))  # our own round trip


def test_a_batch_state_comes_back_with_its_uuid_datetime_and_events_string() -> None:
    received = datetime(2026, 12, 2, 8, 30, tzinfo=UTC) + timedelta(microseconds=7)
    state = {"id": uuid.UUID(int=7), "received_at": received, "count": 2, "amount": Decimal("1.10"),
             "big": [2**70, -(2**70)],
             "events_json": '[{"event_id":"e\\"1","properties":{"nested":{"a":[1,2.5]}}}]'}
    decoded = FAST.decode(LIBRARY.encode(state))
    assert equal(decoded, state)


def test_json_only_the_standard_library_reads_falls_back_to_it() -> None:
    # NaN and Infinity (the library's encoder writes them), numbers past a float, lone surrogates
    for stored in (LIBRARY.encode({"x": math.inf, "y": -math.inf}), b'{"n": NaN}',
                   b'{"f": 1e400}', b'{"s": "\\ud800"}'):
        assert equal(FAST.decode(stored), LIBRARY.decode(stored))


def test_a_transcoding_nobody_registered_is_refused_as_by_the_library() -> None:
    stored = b'{"v": {"_type_": "nobody_knows", "_data_": 1}}'
    for decoder in (LIBRARY, FAST):
        try:
            decoder.decode(stored)
        except Exception as error:  # noqa: BLE001 - both must raise the same library error
            assert type(error).__name__ == "TranscodingNotRegisteredError"
        else:
            raise AssertionError("decoded a transcoding nobody registered")


# A batch's events (JsonText): written as the JSON they are, read back as the same text.

BATCHES = registered(FastJSONTranscoder())
BATCHES.register(JsonTextAsJson())  # as TelemetryApplication registers it
TRICKY = orjson.dumps([{"event_id": "e\"1", "properties": {
    "_type_": "uuid_hex", "_data_": "not hex", "nested": {"_type_": "datetime_iso"},
    "text": "é\u2028\\\"}", "n": [1, 2.5, None, True]}}]).decode()


def test_a_batchs_events_are_stored_as_json_and_read_back_as_the_same_text() -> None:
    state = {"timestamp": datetime(2026, 12, 2, tzinfo=UTC), "workspace_id": uuid.uuid4(),
             "count": 1, "events_json": JsonText(TRICKY)}
    written = BATCHES.encode(state)
    assert orjson.loads(written)["events_json"] == {"_type_": "json_text",
                                                    "_data_": orjson.loads(TRICKY)}
    assert len(written) < len(BATCHES.encode({**state, "events_json": TRICKY}))  # nothing escaped
    decoded = BATCHES.decode(written)
    # the same text, its "_type_" look-alikes (an SDK's properties) left as they were sent
    assert decoded == {**state, "events_json": TRICKY} and type(decoded["events_json"]) is str


def test_batches_stored_with_their_events_as_a_string_still_read() -> None:
    state = {"workspace_id": uuid.uuid4(), "count": 1, "events_json": TRICKY}
    for stored in (LIBRARY.encode(state), FAST.encode(state),  # before JsonText
                   LIBRARY.encode({**state, "events_json": JsonText(TRICKY)})):  # a plain str
        assert BATCHES.decode(stored) == state
    # the library's spelling of the transcoding, its data a string, reads too
    stored = orjson.dumps({"count": 1, "events_json": {"_type_": "json_text", "_data_": TRICKY}})
    assert BATCHES.decode(stored) == {"count": 1, "events_json": TRICKY}


def test_a_member_only_the_library_reads_beside_a_batchs_events_falls_back_alone() -> None:
    stored = BATCHES.encode({"events_json": JsonText(TRICKY)})[:-1] + b',"n":NaN}'
    decoded = BATCHES.decode(stored)
    assert decoded["events_json"] == TRICKY and math.isnan(decoded["n"])
    # a state orjson cannot write (NaN) goes to the library's encoder whole: events as a string
    state = {"n": math.nan, "events_json": JsonText(TRICKY)}
    decoded = BATCHES.decode(BATCHES.encode(state))
    assert decoded["events_json"] == TRICKY and math.isnan(decoded["n"])


def test_json_text_that_is_not_an_array_or_object_reads_back_as_itself() -> None:
    for text in ('"a \\" string"', "12", "null", '[]', '{}'):
        state = {"events_json": JsonText(text)}
        assert BATCHES.decode(BATCHES.encode(state)) == {"events_json": text}
