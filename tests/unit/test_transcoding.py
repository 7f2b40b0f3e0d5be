"""Stored states decode with msgspec exactly as with the library's own JSON transcoder."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.transcoder import FastJSONTranscoder


def transcoder(kind: type[JSONTranscoder]) -> JSONTranscoder:
    made = kind()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):  # as Application does
        made.register(transcoding)
    return made


LIBRARY, OURS = transcoder(JSONTranscoder), transcoder(FastJSONTranscoder)

scalars = (st.none() | st.booleans() | st.integers() | st.text()
           | st.floats(allow_nan=False) | st.uuids()
           | st.datetimes(timezones=st.just(UTC)) | st.datetimes()
           | st.decimals(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 == 1.0 == True would hide a change)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@given(st.dictionaries(st.text(max_size=8), values, max_size=6))
def test_any_state_decodes_to_what_the_library_decodes(state: dict[str, Any]) -> None:
    stored = LIBRARY.encode(state)
    assert same(OURS.decode(stored), LIBRARY.decode(stored))
    assert same(OURS.decode(OURS.encode(state)), LIBRARY.decode(stored))  # our own round trip


def test_a_batch_state_comes_back_with_its_uuid_datetime_and_events_string() -> None:
    received = datetime(2026, 12, 2, 8, 30, tzinfo=UTC) + timedelta(microseconds=7)
    state = {"id": UUID(int=7), "received_at": received, "count": 2, "amount": Decimal("1.10"),
             "big": [2**70, -(2**70)],
             "events_json": '[{"event_id":"e\\"1","properties":{"nested":{"a":[1,2.5]}}}]'}
    decoded = OURS.decode(LIBRARY.encode(state))
    assert same(decoded, state)


def test_json_only_the_standard_library_reads_falls_back_to_it() -> None:
    # NaN and Infinity (the library's encoder writes them), numbers past a float, lone surrogates
    for stored in (LIBRARY.encode({"x": math.inf, "y": -math.inf}), b'{"n": NaN}',
                   b'{"f": 1e400}', b'{"s": "\\ud800"}'):
        assert same(OURS.decode(stored), LIBRARY.decode(stored))


def test_a_transcoding_nobody_registered_is_refused_as_by_the_library() -> None:
    stored = b'{"v": {"_type_": "nobody_knows", "_data_": 1}}'
    for decoder in (LIBRARY, OURS):
        try:
            decoder.decode(stored)
        except Exception as error:  # noqa: BLE001 - both must raise the same library error
            assert type(error).__name__ == "TranscodingNotRegisteredError"
        else:
            raise AssertionError("decoded a transcoding nobody registered")
