"""Telemetry's orjson transcoder writes what the library's JSON transcoder reads, value for value."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
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

from infrastructure.transcoder import FastJSONTranscoder


def registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):  # as Application does
        transcoder.register(transcoding)
    return transcoder


LIBRARY, ORJSON = registered(JSONTranscoder()), registered(FastJSONTranscoder())

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(), st.text(), st.uuids(), st.datetimes(timezones=st.just(UTC)),
                    st.datetimes(), st.decimals(allow_nan=False))
keys = st.one_of(st.text(max_size=3), st.integers(-2, 2), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(keys, inner, max_size=3)), max_leaves=12)


def equal(a: Any, b: Any) -> bool:
    """Equal, NaN included (a stored NaN must read back as NaN, not None)."""
    if isinstance(a, float) and isinstance(b, float) and a != a:
        return b != b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(equal, a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=5), values, max_size=6))
def test_what_orjson_writes_reads_back_as_what_the_library_would_have_written(state: dict) -> None:
    try:
        expected = LIBRARY.decode(LIBRARY.encode(state))
    except (ValueError, TypeError) as error:  # e.g. a lone surrogate: refused alike
        with pytest.raises(type(error)):
            ORJSON.encode(state)
        return
    assert equal(LIBRARY.decode(ORJSON.encode(state)), expected)


def test_a_batch_state_goes_through_orjson_and_reads_back_whole() -> None:
    state = {"timestamp": datetime(2026, 3, 1, tzinfo=UTC), "workspace_id": uuid.uuid4(),
             "count": 2, "events_json": '[{"event_id":"a","properties":{"q":"\\"é\\u2028"}}]' * 2,
             "originator_topic": "domain.batch:EventBatch"}
    written = ORJSON.encode(state)
    assert written == orjson.dumps(ORJSON._plain(state))  # orjson wrote it, not the fallback
    assert LIBRARY.decode(written) == state


def test_unregistered_types_are_refused_as_the_library_refuses_them() -> None:
    class Opaque:
        pass

    for transcoder in (LIBRARY, ORJSON):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"value": Opaque()})


def test_decimals_nan_and_big_integers_keep_their_values() -> None:
    state = {"d": Decimal("1.10"), "nan": float("nan"), "big": 2**80, "keys": {1: "one"}}
    assert equal(LIBRARY.decode(ORJSON.encode(state)), LIBRARY.decode(LIBRARY.encode(state)))
